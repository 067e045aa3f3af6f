"""The flags every table script shares, and its main: run the rows over seeds, or report them.

    python experiments/table3.py --row label_smoothing [--profile small|long|imagenet]
        [--seeds N] [--workdir runs] [--results_dir DIR] [--report]
        [--data imagenet|fashion_mnist|/path/to/class/folders] [--replicas N]
        [--epochs E] [--max_steps S] [--eval_examples N] [--dtype_policy ...]
        [--set recipe.label_smoothing=0.2 --set model.depth_multiplier=0.5]

Only flag parsing lives here; the logic is `inception.experiment` (running)
and `inception.report` (tables from result files). Errors are one line
(cause and fix); `--debug` shows the traceback.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN kernels for training: TensorFlow enables them by default only on some CPUs (on
# the Intel Xeons with AVX-512 VNNI, not on AMD EPYC); on an AMD EPYC (AVX2) the small
# profile's training step measured 136 ms with them, 273 ms without (2026-11-22 note,
# PERFORMANCE.md). Set TF_ENABLE_ONEDNN_OPTS=0 to compare.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from absl import app, flags, logging  # noqa: E402

from inception import config as config_lib  # noqa: E402
from inception import profiles, rows  # noqa: E402

FLAGS = flags.FLAGS
DATA_SOURCES = ("imagenet", "fashion_mnist")


def define_flags(table: str) -> None:
    """Flags for `table`; --row only accepts that table's rows (or all)."""
    flags.DEFINE_enum("row", "all", list(rows.rows_of(table)) + ["all"],
                      f"The row of {table} to run, or all of them in the paper's order.")
    flags.DEFINE_enum("profile", "small", list(profiles.PROFILES),
                      "small: Fashion-MNIST on a CPU in minutes; long: the same, 45 minutes; "
                      "imagenet: the paper's setup; small_crop85: the small profile until "
                      "2026-12-03 (random crops of 85-100%), for its published seeds.")
    flags.DEFINE_integer("seeds", None, "Train each row with this many seeds (skipping those done); "
                         "default: the row's (1).", lower_bound=1)
    flags.DEFINE_string("workdir", "runs", "Where the runs' directories go.")
    flags.DEFINE_string("results_dir", None, "Where result files go (default <workdir>/results); the "
                        "published ones are in docs/results.")
    flags.DEFINE_bool("report", False, "Rebuild the table, curves and verdicts from --results_dir "
                      "(default docs/results) without training.")
    flags.DEFINE_string("data", None, "imagenet, fashion_mnist, or a folder of class sub-folders; "
                        "default: the profile's.")
    flags.DEFINE_integer("replicas", None, "Split the CPU into this many synchronous replicas "
                         "(GPUs are used automatically).", lower_bound=1)
    flags.DEFINE_float("epochs", None, "Training epochs; default: the profile's.", lower_bound=0)
    flags.DEFINE_integer("max_steps", None, "Stop training after this many steps.", lower_bound=1)
    flags.DEFINE_integer("eval_examples", None, "Evaluate on the first N evaluation images.",
                         lower_bound=1)
    flags.DEFINE_enum("dtype_policy", None, list(config_lib.DTYPE_POLICIES),
                      "Train and evaluate in this Keras dtype policy; default: Keras' global one.")
    flags.DEFINE_multi_string("set", [], "Change any config field: section.field=value (JSON value), "
                              "e.g. recipe.label_smoothing=0.2 or epochs=3.")
    flags.DEFINE_bool("debug", False, "Show the whole traceback of an error.")


def parse_set(assignments) -> dict:
    """['recipe.label_smoothing=0.2', 'epochs=3'] -> {'recipe': {'label_smoothing': 0.2}, 'epochs': 3}."""
    overrides: dict = {}
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or not path:
            raise ValueError(f"--set {assignment!r}: write section.field=value, e.g. recipe.label_smoothing=0.2")
        try:
            value = json.loads(text)
        except ValueError:
            value = text  # a bare string, e.g. model.stem=7x7
        *sections, field = path.split(".")
        if len(sections) > 1:
            raise ValueError(f"--set {assignment!r}: at most one section before the field.")
        target = overrides.setdefault(sections[0], {}) if sections else overrides
        if isinstance(value, list):
            value = tuple(value)
        target[field] = value
    return overrides


def overrides_from_flags() -> dict:
    """The config changes the flags ask for (the shortcut flags first, then every --set)."""
    overrides: dict = {}

    def put(section, field, value):
        (overrides.setdefault(section, {}) if section else overrides)[field] = value

    if FLAGS.data in DATA_SOURCES:
        put("data", "source", FLAGS.data)
    elif FLAGS.data:
        put("data", "source", "folder")
        put("data", "data_dir", FLAGS.data)
    if FLAGS.eval_examples:
        put("data", "eval_examples", FLAGS.eval_examples)
    if FLAGS.replicas:
        put("distribute", "cpu_replicas", FLAGS.replicas)
    if FLAGS.epochs is not None:
        put(None, "epochs", FLAGS.epochs)
    if FLAGS.max_steps:
        put(None, "max_steps", FLAGS.max_steps)
    if FLAGS.dtype_policy:
        put("model", "dtype_policy", FLAGS.dtype_policy)
    for key, value in parse_set(FLAGS.set).items():
        if isinstance(value, dict):
            overrides.setdefault(key, {}).update(value)
        else:
            overrides[key] = value
    return overrides


def command_line() -> str:
    """The command as typed (flags included), the script relative to the repository root."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.relpath(os.path.abspath(sys.argv[0]), root)
    return shlex.join(["python", script] + sys.argv[1:])  # absl leaves sys.argv as typed


def report_table(table: str) -> None:
    from inception import report, results

    path = report.write_table(table, FLAGS.results_dir or results.PUBLISHED, FLAGS.profile)
    print(open(path).read())
    logging.info("Wrote %s", path)


def _top1_line(name: str, outcome) -> str:
    if isinstance(outcome, dict):  # an evaluating row
        return f"{name}: top-1 error {outcome['ours']['top1_error']:.4f} on {outcome['ours']['examples']} images"
    errors = ", ".join(f"{r['top1_error']:.4f}" for r in outcome)
    return f"{name}: top-1 error of seeds {[r['seed'] for r in outcome]}: {errors}"


def run_table(table: str, argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}; rows are chosen with --row.")
    if FLAGS.report:
        return report_table(table)
    from inception import experiment

    started = time.time()
    names = rows.rows_of(table) if FLAGS.row == "all" else (FLAGS.row,)
    for name in names:
        outcome = experiment.run_row(name, profile=FLAGS.profile, workdir=FLAGS.workdir,
                                     results_dir=FLAGS.results_dir, overrides=overrides_from_flags(),
                                     seeds=FLAGS.seeds, command=command_line(), verbose=2)
        logging.info(_top1_line(name, outcome))
    last = outcome if isinstance(outcome, dict) else outcome[-1]
    accuracy = 1.0 - (last["ours"]["top1_error"] if "ours" in last else last["top1_error"])
    print(f"{table}/{names[-1]}: top-1 accuracy {100 * accuracy:.2f}% "
          f"({'averaged' if 'ours' not in last else 'evaluated'} weights)")
    print(f"wall time: {time.time() - started:.0f} s")


def fail_in_one_line(error: BaseException) -> None:
    """Print the error as one line with its type, and exit 1 (`--debug`: the traceback)."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    print(f"error: {type(error).__name__}: {message}", file=sys.stderr)
    sys.exit(1)


def main(table: str) -> None:
    """Entry point of experiments/<table>.py."""
    define_flags(table)

    def checked(argv):
        try:
            run_table(table, argv)
        except (app.UsageError, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - the CLI's one place that turns errors into a line
            if FLAGS.debug:
                raise
            fail_in_one_line(error)

    app.run(checked, argv=sys.argv)
