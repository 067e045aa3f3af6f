"""The small profile's training step on TensorFlow (oneDNN on and off) and on JAX, in one run.

    python tools/benchmark_backends.py                 # bn_auxiliary, small profile, batch 128
    python tools/benchmark_backends.py --rounds 3 --variants tensorflow,tensorflow_onednn_off

Each variant runs in its own process (Keras picks the backend at import,
TensorFlow reads TF_ENABLE_ONEDNN_OPTS when it starts), the variants in
turn, `--rounds` times; each ratio is the median over rounds of that
round's ratio, so that a change of the machine's load between rounds cancels:
the main row's network at the small profile (75x75, depth multiplier 0.25,
the auxiliary head, dropout) compiled with the whole recipe of paper
section 8 (TF1 RMSProp, staircase schedule, clipping, EMA, smoothed losses),
`model.fit` over one in-memory batch repeated, so the figure is the training
step alone, not the input pipeline. The first `--warmup` steps (tracing and
compilation) are not timed. Prints ms/step, images/s and each variant's time
per step over TensorFlow's (oneDNN on), with the CPU model, its instruction
sets and the load average.
"""

import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402  (the backend is KERAS_BACKEND's, set before a child starts)
from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("row", "bn_auxiliary", "The row whose small-profile network is timed.")
flags.DEFINE_integer("batch", 128, "Global batch (the small profile's is 128).", lower_bound=1)
flags.DEFINE_integer("steps", 10, "Timed training steps per backend.", lower_bound=1)
flags.DEFINE_integer("warmup", 3, "Untimed steps first (tracing, compilation).", lower_bound=1)
flags.DEFINE_integer("rounds", 1, "Times each variant runs, in turn.", lower_bound=1)
flags.DEFINE_bool("child", False, "Internal: time this process's backend and print JSON.")

# Each variant: the environment its process starts with.
VARIANTS = {
    "tensorflow": {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "1"},
    "tensorflow_onednn_off": {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "0"},
    "jax": {"KERAS_BACKEND": "jax"},
}
flags.DEFINE_list("variants", list(VARIANTS), f"Which of {sorted(VARIANTS)} to time; the first is "
                  "the baseline of the ratios.")


class StepClock(keras.callbacks.Callback):
    """Wall time of each training step (`on_train_batch_begin` to `on_train_batch_end`)."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self._started = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        float(logs["loss"])  # waits for the step: both backends dispatch asynchronously
        self.seconds.append(time.perf_counter() - self._started)


def time_this_backend(row: str, batch: int, steps: int, warmup: int) -> dict:
    """ms/step of the row's small-profile training step on this process's Keras backend."""
    import numpy as np
    import tensorflow as tf

    import inception
    from inception import profiles
    from inception.training import recipe_from_config

    config = profiles.get(row, "small").config
    model = inception.inception_v3(config.model)
    model.compile(**recipe_from_config(config.recipe, steps_per_epoch=468))
    size = config.model.input_size
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, config.model.num_classes, batch).astype("int32")
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
    clock = StepClock()
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, verbose=0, callbacks=[clock])
    timed = sorted(clock.seconds[warmup:])
    return {"backend": keras.backend.backend(), "ms_per_step": 1000 * float(np.median(timed)),
            "ms_per_step_min": 1000 * timed[0], "warmup_seconds": sum(clock.seconds[:warmup]),
            "total_seconds": time.perf_counter() - started, "images_per_second": batch / np.median(timed)}


def run_variant(name: str) -> dict:
    """`time_this_backend` in a fresh process with the variant's environment."""
    argv = [sys.executable, os.path.abspath(__file__), "--child", f"--row={FLAGS.row}",
            f"--batch={FLAGS.batch}", f"--steps={FLAGS.steps}", f"--warmup={FLAGS.warmup}"]
    done = subprocess.run(argv, env=dict(os.environ, **VARIANTS[name]), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv):
    del argv
    if FLAGS.child:
        print(json.dumps(time_this_backend(FLAGS.row, FLAGS.batch, FLAGS.steps, FLAGS.warmup)))
        return
    unknown = sorted(set(FLAGS.variants) - set(VARIANTS))
    if unknown:
        raise app.UsageError(f"Unknown variant(s) {unknown}; valid: {sorted(VARIANTS)}.")
    from inception import machine

    described = machine.describe()
    print(f"CPU: {described['cpu']} ({machine.isa_summary(described)}); {described['cores']} cores; "
          f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{FLAGS.row}, small profile, batch {FLAGS.batch}: median of {FLAGS.steps} steps after "
          f"{FLAGS.warmup} untimed, {FLAGS.rounds} round(s)")
    rounds = [{name: run_variant(name) for name in FLAGS.variants} for _ in range(FLAGS.rounds)]
    baseline = FLAGS.variants[0]
    for name in FLAGS.variants:
        ms = np.median([r[name]["ms_per_step"] for r in rounds])
        ratio = np.median([r[name]["ms_per_step"] / r[baseline]["ms_per_step"] for r in rounds])
        print(f"  {name:22s} {ms:8.1f} ms/step  {FLAGS.batch / ms * 1000:7.1f} images/s  "
              f"time / {baseline}'s: {ratio:.2f}  (first {FLAGS.warmup} steps "
              f"{np.median([r[name]['warmup_seconds'] for r in rounds]):.1f} s)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    app.run(main)
