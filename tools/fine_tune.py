"""Fine-tunes pretrained Inception-v3 weights on a folder of images, evaluates, exports.

    python tools/fine_tune.py --weights inception_v3.ckpt --data my_photos/ --workdir runs/mine
    python tools/fine_tune.py --weights inception_v3_weights.h5 --data my_photos/ --workdir runs/k \\
        --epochs 10 --freeze_trunk

`--weights`: a TF-slim checkpoint prefix (or its folder), or a keras.applications
InceptionV3 `.h5` / `.keras` file. `--data`: `train/<class>/<images>` and
`eval/<class>/<images>` (or `validation/`, `val/`). The run goes to
`--workdir` (resumed if it holds checkpoints); the SavedModel for TF Serving
to `<workdir>/export/<version>` (or `--export_dir`). Prints the results as
JSON. The work is done by `inception.fine_tune.fine_tune`; this file only
parses flags. Errors are one line (what is wrong, what to do) and exit 1;
`--debug` shows the traceback.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("weights", None, "TF-slim checkpoint prefix or folder, or a keras.applications "
                    "InceptionV3 .h5/.keras file.")
flags.DEFINE_string("data", None, "Image folder with train/<class>/ and eval/<class>/ sub-folders.")
flags.DEFINE_string("workdir", None, "Run directory (checkpoints, results, export).")
flags.DEFINE_float("epochs", 5.0, "Passes over the training images (fractions allowed).", lower_bound=0)
flags.DEFINE_integer("max_steps", None, "Stop after this many steps (caps --epochs).", lower_bound=1)
flags.DEFINE_integer("batch_size", 32, "Images per step.", lower_bound=1)
flags.DEFINE_float("learning_rate", None, "Initial RMSProp learning rate, decayed 0.94 every 2 "
                   "epochs; default inception.fine_tune.LEARNING_RATE (0.001).")
flags.DEFINE_integer("image_size", None, "Input side; default the weights' own (299).", lower_bound=1)
flags.DEFINE_boolean("freeze_trunk", False, "Train only the new classifiers (and layers without "
                     "pretrained values).")
flags.DEFINE_boolean("freeze_batch_norm", True, "Keep the pretrained batch norms in inference mode "
                     "(their ImageNet statistics); --nofreeze_batch_norm trains them.")
flags.DEFINE_boolean("aux", True, "Train with a new auxiliary classifier too.")
flags.DEFINE_integer("train_examples", None, "Use only the first N training images.", lower_bound=1)
flags.DEFINE_integer("eval_examples", None, "Use only the first N evaluation images.", lower_bound=1)
flags.DEFINE_string("export_dir", None, "SavedModel base directory; default <workdir>/export.")
flags.DEFINE_integer("seed", 0, "Seed of the new layers' initialisation.")
flags.DEFINE_boolean("debug", False, "Show the traceback of an error.")
flags.mark_flags_as_required(["weights", "data", "workdir"])



def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    # Imported after flag parsing: a usage error should not wait for TensorFlow.
    import tensorflow as tf

    from inception import fine_tune

    # Bad input (missing or unreadable files, a corrupt checkpoint, a wrong folder): one line.
    user_errors = (OSError, ValueError, tf.errors.NotFoundError, tf.errors.DataLossError)
    options = {} if FLAGS.learning_rate is None else {"learning_rate": FLAGS.learning_rate}
    try:
        results = fine_tune.fine_tune(
            FLAGS.weights, FLAGS.data, FLAGS.workdir, epochs=FLAGS.epochs, max_steps=FLAGS.max_steps,
            batch_size=FLAGS.batch_size, image_size=FLAGS.image_size,
            freeze_trunk=FLAGS.freeze_trunk, freeze_batch_norm=FLAGS.freeze_batch_norm,
            include_aux=FLAGS.aux, train_examples=FLAGS.train_examples,
            eval_examples=FLAGS.eval_examples, export_dir=FLAGS.export_dir, seed=FLAGS.seed,
            **options)
    except user_errors as error:
        if FLAGS.debug:
            raise
        lines = str(error).strip().splitlines() or [type(error).__name__]
        print(f"fine_tune.py: error: {lines[0]}", file=sys.stderr)
        return 1
    summary = {key: results[key] for key in ("top1_error", "top5_error", "eval_examples", "steps",
                                            "weight_source", "class_names", "export_path")}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    app.run(main)
