"""The flags every table script shares, and its main: run the rows, then write the table.

    python experiments/table3.py --row label_smoothing [--profile small|imagenet]
        [--workdir runs] [--data imagenet|fashion_mnist|/path/to/class/folders]
        [--replicas N] [--epochs E] [--max_steps S] [--eval_examples N]
        [--dtype_policy float32|mixed_bfloat16]

Only flag parsing lives here; the logic is `inception.experiment`.
"""

from __future__ import annotations

import os
import shlex
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

from inception import experiment, rows  # noqa: E402
from inception.model import DTYPE_POLICIES  # noqa: E402

FLAGS = flags.FLAGS
DATA_SOURCES = ("imagenet", "fashion_mnist")


def define_flags(table: str) -> None:
    """Flags for `table`; --row only accepts that table's rows (or all)."""
    flags.DEFINE_enum("row", "all", list(rows.rows_of(table)) + ["all"],
                      f"The row of {table} to run, or all of them in the paper's order.")
    flags.DEFINE_enum("profile", "small", list(rows.PROFILES),
                      "small: Fashion-MNIST on a CPU in minutes; imagenet: the paper's setup.")
    flags.DEFINE_string("workdir", "runs", "Where runs, result.json files and the table go.")
    flags.DEFINE_string("data", None, "imagenet, fashion_mnist, or a folder of class sub-folders; "
                        "default: the profile's.")
    flags.DEFINE_integer("replicas", None, "Split the CPU into this many synchronous replicas "
                         "(GPUs are used automatically).", lower_bound=1)
    flags.DEFINE_float("epochs", None, "Training epochs; default: the profile's.", lower_bound=0)
    flags.DEFINE_integer("max_steps", None, "Stop training after this many steps.", lower_bound=1)
    flags.DEFINE_integer("eval_examples", None, "Evaluate on the first N evaluation images.",
                         lower_bound=1)
    flags.DEFINE_enum("dtype_policy", None, list(DTYPE_POLICIES),
                      "Train and evaluate in this Keras dtype policy; default: the row's (float32).")


def overrides_from_flags() -> dict:
    """The config changes the flags ask for (nothing for flags left at their defaults)."""
    overrides, data = {}, {}
    if FLAGS.data in DATA_SOURCES:
        data["source"] = FLAGS.data
    elif FLAGS.data:
        data.update(source="folder", data_dir=FLAGS.data)
    if FLAGS.eval_examples:
        data["eval_examples"] = FLAGS.eval_examples
    if data:
        overrides["data"] = data
    if FLAGS.replicas:
        overrides["distribute"] = {"cpu_replicas": FLAGS.replicas}
    if FLAGS.epochs is not None:
        overrides["epochs"] = FLAGS.epochs
    if FLAGS.max_steps:
        overrides["max_steps"] = FLAGS.max_steps
    if FLAGS.dtype_policy:
        overrides["model"] = {"dtype_policy": FLAGS.dtype_policy}
    return overrides


def command_line() -> str:
    """The command as typed (flags included), the script relative to the repository root."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = os.path.relpath(os.path.abspath(sys.argv[0]), root)
    return shlex.join(["python", script] + sys.argv[1:])  # absl leaves sys.argv as typed


def run_table(table: str, argv) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}; rows are chosen with --row.")
    names = rows.rows_of(table) if FLAGS.row == "all" else (FLAGS.row,)
    for name in names:
        result = experiment.run_row(name, profile=FLAGS.profile, workdir=FLAGS.workdir,
                                    overrides=overrides_from_flags(), command=command_line(),
                                    verbose=2)
        logging.info("%s/%s: top-1 error %.4f, top-5 error %.4f (paper: %s).", table, name,
                     result["top1_error"], result["top5_error"], result["paper"])
        path = experiment.write_table(table, FLAGS.workdir)  # after each row: partial tables survive
    logging.info("Wrote %s", path)


def main(table: str) -> None:
    """Entry point of experiments/<table>.py."""
    define_flags(table)
    app.run(lambda argv: run_table(table, argv), argv=sys.argv)
