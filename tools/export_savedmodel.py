"""Exports a trained model as a SavedModel for TF Serving (`inception.export`).

    python tools/export_savedmodel.py --checkpoint runs/small/table3/rmsprop/seed_0 --output exported/inception
    python tools/export_savedmodel.py --checkpoint model.keras --output exported/inception --version 3

`--checkpoint` is a run directory of `train_and_evaluate` (its final weights;
the latest checkpoint if the run has not finished), a training checkpoint
(`<run>/checkpoints/ckpt-N`) or a `.keras` file saved after `model.fit`. The
SavedModel goes to `<output>/<version>/` (default: the next free version) and
holds the moving-average weights unless `--no_ema`. `serving_default` crops
the run's evaluation crop (`--central_fraction` for a `.keras` file) and
refuses images of more than `--max_image_pixels` before decoding them. The
work is done by `inception.export.export_savedmodel`; this file only parses
flags. An error is one line (its cause and fix) and exit status 1; `--debug`
shows the traceback.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

# The default of inception.export.DEFAULT_MAX_IMAGE_PIXELS, repeated so that
# `--help` does not wait for TensorFlow to import; a test keeps them equal.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000

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
flags.DEFINE_integer("max_image_pixels", DEFAULT_MAX_IMAGE_PIXELS, "serving_default refuses "
                     "images of more pixels (height x width x frames) than this, before "
                     "decoding them.", lower_bound=1)
flags.DEFINE_float("central_fraction", None, "Central crop of serving_default; default the "
                   "run's DataConfig.eval_crop_fraction, or 0.875 for a .keras file.",
                   lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_boolean("debug", False, "Show the whole traceback of an error.")
flags.mark_flags_as_required(["checkpoint", "output"])


def read_class_names(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def export(argv):
    if len(argv) > 1:
        raise ValueError(f"Unexpected arguments: {' '.join(argv[1:])}; pass flags only")
    if not (os.path.exists(FLAGS.checkpoint) or os.path.exists(FLAGS.checkpoint + ".index")):
        raise FileNotFoundError(f"--checkpoint: no run directory, checkpoint or model file at "
                                f"{FLAGS.checkpoint!r}; pass one of those")
    if FLAGS.class_names_file and not os.path.isfile(FLAGS.class_names_file):
        raise FileNotFoundError(f"--class_names_file: no file at {FLAGS.class_names_file!r}")

    from inception import export as export_lib  # after the checks: a bad flag should not wait for TF

    class_names = read_class_names(FLAGS.class_names_file) if FLAGS.class_names_file else None
    return export_lib.export_savedmodel(
        FLAGS.checkpoint, FLAGS.output, version=FLAGS.version, use_ema=not FLAGS.no_ema,
        class_names=class_names, central_fraction=FLAGS.central_fraction,
        max_image_pixels=FLAGS.max_image_pixels)


def main(argv):
    try:
        path = export(argv)
    except Exception as error:  # noqa: BLE001 - the tool's one place that turns errors into a line
        if FLAGS.debug:
            raise
        text = str(error).strip()
        message = text.splitlines()[0] if text else repr(error)
        print(f"error: {type(error).__name__}: {message} (--debug for the traceback)",
              file=sys.stderr)
        sys.exit(1)
    print(path)


if __name__ == "__main__":
    app.run(main)
