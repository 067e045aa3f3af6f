"""Exports a trained model as a SavedModel for TF Serving (SPEC section 6).

    python tools/export_savedmodel.py --checkpoint runs/table3_rmsprop --output exported/inception
    python tools/export_savedmodel.py --checkpoint model.keras --output exported/inception --version 3

`--checkpoint` is a run directory of `train_and_evaluate` (its final weights;
the latest checkpoint if the run has not finished), a training checkpoint
(`<run>/checkpoints/ckpt-N`) or a `.keras` file saved after `model.fit`. The
SavedModel goes to `<output>/<version>/` (default: the next free version) and
holds the moving-average weights unless `--no_ema`. The work is done by
`inception.export.export_savedmodel`; this file only parses flags.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "Run directory, training checkpoint (<run>/checkpoints/"
                    "ckpt-N) or .keras model file to export.")
flags.DEFINE_string("output", None, "Base directory of the model for TF Serving; the "
                    "SavedModel is written to <output>/<version>/.")
flags.DEFINE_integer("version", None, "Version directory; default 1 + the highest existing one.",
                     lower_bound=1)
flags.DEFINE_boolean("no_ema", False, "Export the raw training weights instead of their "
                     "moving averages.")
flags.DEFINE_string("class_names_file", None, "Optional text file, one class name per line, "
                    "added to the outputs as `class_names`.")
flags.mark_flags_as_required(["checkpoint", "output"])


def read_class_names(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    if not (os.path.exists(FLAGS.checkpoint) or os.path.exists(FLAGS.checkpoint + ".index")):
        raise app.UsageError(f"--checkpoint: no run directory, checkpoint or model file at "
                             f"{FLAGS.checkpoint!r}")
    if FLAGS.class_names_file and not os.path.isfile(FLAGS.class_names_file):
        raise app.UsageError(f"--class_names_file: no file at {FLAGS.class_names_file!r}")

    from inception import export  # after flag parsing: a usage error should not wait for TF

    class_names = read_class_names(FLAGS.class_names_file) if FLAGS.class_names_file else None
    try:
        path = export.export_savedmodel(
            FLAGS.checkpoint, FLAGS.output, version=FLAGS.version,
            use_ema=not FLAGS.no_ema, class_names=class_names)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    print(path)


if __name__ == "__main__":
    app.run(main)
