"""Training curves and final errors of several runs, side by side.

    python tools/compare_runs.py \
        --run "fp32 seed 0=runs/small/table3/bn_auxiliary/seed_0" \
        --run "mixed bf16=runs_bf16/small/table3/bn_auxiliary/seed_0" \
        --out docs/results/mixed_bfloat16_curves.png

Each --run is LABEL=RUN_DIR (a directory `inception.training.train` wrote).
Prints a markdown table (steps, last logged training top-1, test top-1 and
top-5 error, training time, dtype policy) and plots held-out and training
accuracy against iterations with the tables' plotting (`inception.curves`). Used to show that a faster
path (e.g. `--dtype_policy mixed_bfloat16`) stays within the seed-to-seed
spread of float32 training.
"""

import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from inception import curves  # noqa: E402
from inception.training.callbacks import read_history  # noqa: E402
from inception.training.workdir import RunPaths, read_config, read_results  # noqa: E402

FLAGS = flags.FLAGS


def parse_run(text: str) -> tuple:
    """"LABEL=RUN_DIR" -> (label, run_dir); the directory must hold a finished run."""
    label, separator, run_dir = text.partition("=")
    if not separator or not label or not run_dir:
        raise ValueError(f"--run takes LABEL=RUN_DIR, got {text!r}.")
    if not os.path.exists(RunPaths(run_dir).results):
        raise ValueError(f"{run_dir} holds no finished run (no {os.path.basename(RunPaths(run_dir).results)}).")
    return label, run_dir


def summary(label: str, run_dir: str) -> dict:
    results = read_results(run_dir)
    _, accuracy = curves.curve([read_history(RunPaths(run_dir).history)], curves.TRAINING_KEYS)
    last = float(accuracy[0, -1]) if accuracy.size else None
    return {"label": label, "steps": results["steps"], "last_train_top1": last,
            "top1_error": results["top1_error"], "top5_error": results["top5_error"],
            "train_seconds": results["train_seconds"],
            "dtype_policy": read_config(run_dir).model.dtype_policy}


def markdown(summaries) -> str:
    lines = ["| run | dtype policy | steps | last training top-1 | test top-1 err | test top-5 err | training |",
             "|---|---|---|---|---|---|---|"]
    for s in summaries:
        train = "" if s["last_train_top1"] is None else f"{100 * s['last_train_top1']:.1f}%"
        lines.append(f"| {s['label']} | {s['dtype_policy']} | {s['steps']} | {train} | "
                     f"{100 * s['top1_error']:.2f}% | {100 * s['top5_error']:.2f}% | "
                     f"{s['train_seconds'] / 60:.1f} min |")
    by_policy = {}
    for s in summaries:
        by_policy.setdefault(s["dtype_policy"], []).append(s["top1_error"])
    for policy, errors in by_policy.items():
        spread = f", SD {100 * statistics.stdev(errors):.2f} points" if len(errors) > 1 else ""
        lines.append(f"\n{policy}: {len(errors)} run(s), mean test top-1 error "
                     f"{100 * statistics.mean(errors):.2f}%{spread}.")
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}; give runs with --run LABEL=RUN_DIR.")
    try:
        runs = [parse_run(text) for text in FLAGS.run]
    except ValueError as error:
        raise app.UsageError(str(error))
    print(markdown([summary(label, run_dir) for label, run_dir in runs]))
    if FLAGS.out:
        histories = {label: [read_history(RunPaths(run_dir).history)] for label, run_dir in runs}
        if curves.plot(histories, FLAGS.out, FLAGS.title):
            print(f"\nWrote {FLAGS.out}")


if __name__ == "__main__":
    flags.DEFINE_multi_string("run", None, "LABEL=RUN_DIR; repeat for each run.", required=True)
    flags.DEFINE_string("out", None, "Write the training curves to this PNG.")
    flags.DEFINE_string("title", "Accuracy against iterations", "The plot's title.")
    app.run(main)
