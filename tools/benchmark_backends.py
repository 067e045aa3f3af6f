"""The small profile's training step on TensorFlow (oneDNN on and off) and on JAX, in one run.

    python tools/benchmark_backends.py                 # bn_auxiliary, small profile, batch 128
    python tools/benchmark_backends.py --rounds 3 --variants tensorflow,tensorflow_onednn_off

Each variant runs in its own process, the variants in turn, `--rounds`
times (`inception.benchmarking.backends`: the row's network at the small
profile with the whole recipe, `model.fit` over one in-memory batch
repeated). Prints the CPU, its instruction sets and the load average, then
per variant ms/step, images/s, images per CPU-second and its time per step
over the first variant's, the median over rounds of each round's ratio so
that a change of the machine's load between rounds cancels.
"""

import json

from absl import app, flags

from inception import machine
from inception.benchmarking import backends, phases
from inception.benchmarking.processes import run_phase
from inception.benchmarking.settings import Settings

FLAGS = flags.FLAGS
flags.DEFINE_string("row", "bn_auxiliary", "The row whose small-profile network is timed.")
flags.DEFINE_integer("batch", 128, "Global batch (the small profile's is 128).", lower_bound=1)
flags.DEFINE_integer("steps", 10, "Timed training steps per variant and round.", lower_bound=1)
flags.DEFINE_integer("warmup", 3, "Untimed one-step fits first (the first traces and compiles).",
                     lower_bound=1)
flags.DEFINE_integer("rounds", 1, "Times each variant runs, in turn.", lower_bound=1)
flags.DEFINE_list("variants", list(backends.VARIANTS), f"Which of {sorted(backends.VARIANTS)} to time; "
                  "the first is the baseline of the ratios.")
flags.DEFINE_string("json", None, "Also write every figure to this JSON file.")


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in phases.load_average() or [])


def main(argv):
    del argv
    try:
        backends.check_variants(FLAGS.variants)
    except ValueError as error:
        raise app.UsageError(str(error))
    described = machine.describe()
    print(f"CPU: {described['cpu']} ({machine.isa_summary(described)}); {described['cores']} cores; "
          f"load average before: {_load_average()}")
    print(f"{FLAGS.row}, small profile, batch {FLAGS.batch}: {FLAGS.steps} timed steps after "
          f"{FLAGS.warmup} untimed, {FLAGS.rounds} round(s)")
    rounds = []
    for _ in range(FLAGS.rounds):
        timed = {}
        for name in FLAGS.variants:
            variant = backends.VARIANTS[name]
            timed[name] = run_phase("training_step", Settings(), onednn=variant.onednn, backend=variant.backend,
                                    dtype_policy=variant.dtype_policy, row=FLAGS.row, batch=FLAGS.batch,
                                    steps=FLAGS.steps, warmup=FLAGS.warmup)
        rounds.append(timed)
    baseline = FLAGS.variants[0]
    summary = backends.summarize_rounds(rounds, baseline)
    for name, figures in summary.items():
        print(f"  {name:26s} {figures['ms_per_step']:8.1f} ms/step  {figures['images_per_second']:7.1f} images/s"
              f"  {figures['images_per_cpu_second']:7.1f} per CPU-second  time / {baseline}'s: "
              f"{1 / figures['ratio_vs_baseline']:.2f}  (untimed first fits {figures['warmup_seconds']:.1f} s)")
    print(f"load average after: {_load_average()}")
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump({"machine": described, "row": FLAGS.row, "batch": FLAGS.batch, "steps": FLAGS.steps,
                       "warmup": FLAGS.warmup, "rounds": rounds, "summary": summary}, f, indent=2)


if __name__ == "__main__":
    app.run(main)
