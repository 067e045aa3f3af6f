"""This Inception-v3 against keras.applications.InceptionV3, side by side, on this machine.

    python tools/benchmark.py [--json out.json] [--agreement_model RUN_DIR] [--quick]

Every speed figure is a ratio of two things timed in the same process, in
alternation (A, B, A, B, ...), with the median over the rounds reported: on a
machine shared with other work only such ratios are steady. Measured:

- inference images/s at batch 32, 299x299, of keras.applications (fp32,
  `predict_on_batch`; also through a plain tf.function, with XLA, and
  through our exporter) against ours: as built, batch norm folded into the
  convolutions (`inception.fast_inference.fold_batch_norm`; also as a graph
  with the weights frozen to constants), int8 (oneDNN), mixed bfloat16, and
  the exported SavedModels of the fast paths;
- training images/s: ours with the whole recipe (auxiliary head, clipping,
  EMA, label smoothing; `paper_recipe`) against keras.applications with
  plain RMSProp, both through `model.fit`; and ours in mixed bfloat16;
- the machine's matrix-multiply rate (fp32, bf16, int8) in the same rounds,
  so that every throughput is also a fraction of what the cores can do:
  images/s x multiply-adds x 2 (x 3 for training) / fp32 matmul FLOP/s;
- peak memory: the resident-set high-water mark (VmHWM) of a fresh process
  that builds one path and runs two batches through it, also over the same
  process's resident set before the build (a process per path: TensorFlow's
  allocators keep freed memory, which would hide later peaks in one process);
- the training input pipeline's images/s per core, and as a fraction of the
  JPEG decoder alone on the same files, one thread, in the same rounds
  (`inception.benchmarking.input_pipeline`);
- with `--agreement_model`, the top-1 agreement of the fast paths with fp32 on
  the Fashion-MNIST test set, for a model trained by the small profile;
- distribution overhead: one global step on R logical CPU replicas against R
  single-replica steps, R = 2, 8, 50, for the test-sized model.

Phases run in child processes (their progress is relayed): the logical-device
split and TensorFlow's oneDNN switch (int8 needs TF_ENABLE_ONEDNN_OPTS=1) are
fixed when TensorFlow starts. Both models of a comparison always share one
process and so one TensorFlow configuration; a second phase with
TensorFlow's default (oneDNN off in this build) repeats the fp32 inference
comparisons. The benchmark itself is `inception.benchmarking` (one module a
job; `inception.benchmarking.suite.run_benchmark` is the importable entry
point); this script parses the flags. `--json` writes every figure.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from absl import app, flags

from inception.benchmarking import report, suite
from inception.benchmarking.settings import Settings

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command line; defined only when run as a script, so that importing this file defines no flags."""
    flags.DEFINE_string("json", None, "Write every figure to this JSON file.")
    flags.DEFINE_bool("quick", False, "One tiny repetition (batch 2, 75x75, 2 replicas): for tests.")
    flags.DEFINE_string("agreement_model", None,
                        "A run directory or .keras file of a model trained by the small profile: "
                        "measure the fast paths' top-1 agreement with fp32 on the Fashion-MNIST test set.")
    flags.DEFINE_integer("batch_size", None, "Images per batch (default 32).")
    flags.DEFINE_integer("image_size", None, "Input side (default 299).")
    flags.DEFINE_list("replicas", None, "Replica counts for the distribution overhead (default 2,8,50).")
    flags.DEFINE_bool("tf_default_phase", None, "Also repeat the fp32 comparisons with oneDNN off.")


def settings_from_flags() -> Settings:
    settings = Settings.quick() if FLAGS.quick else Settings()
    changes = {"batch_size": FLAGS.batch_size, "image_size": FLAGS.image_size,
               "tf_default_phase": FLAGS.tf_default_phase}
    if FLAGS.replicas:
        changes["distribution_replicas"] = tuple(int(r) for r in FLAGS.replicas)
    return dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})


def main(argv):
    del argv
    results = suite.run_benchmark(settings_from_flags(), FLAGS.agreement_model)
    results["command"] = " ".join(["python", "tools/benchmark.py"] + sys.argv[1:])
    print(report.report(results))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
