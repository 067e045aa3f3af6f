"""Throughput of the training input pipeline, against the JPEG decoder alone and a naive baseline.

    python tools/benchmark_input.py [--images 512] [--image_size 299] [--rounds 5] [--json out.json] [--quick]
    python tools/benchmark_input.py --stages   # also each stage's cost, and the colour layer's

Writes ImageNet-sized JPEGs (500x375) to a temporary folder and reads them as
an image-folder dataset through `inception.data.build_dataset` (training:
the random crop decoded window-only, flip, one resize, colour distortion,
skipping of bad files; parallel decode, prefetch). Timed in the same rounds,
in turn (as tools/benchmark.py does):

- the decoder alone, the pipeline's physical reference: `tf.io.decode_jpeg`
  of the same files (whole image, default settings), one thread;
- a naive baseline: the same training operations written plainly (decode the
  whole JPEG then crop, one image at a time, no prefetch);
- the pipeline without its colour step: the CPU's share when the colour
  distortion runs on the accelerator (`ModelConfig.color_distortion`), and
  that without the skipping of unusable files (what the skipping costs);
  the same over two whole passes (what a pass's start costs, at 512 files
  a pass; the others are timed over the middle of a pass, the steady state
  of ImageNet's 1.28-million-image passes).

Prints the CPU and its instruction sets, the load average, images/s and
images/s per core of the pipeline, the decoder's rate, and the pipeline as a
fraction of it, both per CPU-second used (steady on a machine shared with
other work) and per core of wall-clock time. `--stages` adds the CPU time
per image of each cumulative stage of the training preprocessing, one
thread (`measure_stage_costs`), and the colour distortion layer's cost on
this CPU (`measure_color_layer_cost`). The measurement is
`inception.benchmarking.input_pipeline.measure_input_throughput` (tools/benchmark.py
reports it in its compute phase); this script parses the flags and prints.
"""

from __future__ import annotations

import json

from absl import app, flags

from inception import machine
from inception.benchmarking.input_pipeline import (
    jpeg_folder, measure_color_layer_cost, measure_input_throughput, measure_stage_costs)


def summary_lines(result: dict) -> list:
    """The figures for a person: machine, pipeline, decoder, their ratio, the baseline."""
    described = result["machine"]
    return [
        f"{described['cpu']} ({machine.isa_summary(described)}), {result['cores']} core(s); "
        f"load average before / after {result['load_average']}",
        f"training input, {result['image_size']}x{result['image_size']} from 500x375 JPEGs: "
        f"{result['pipeline_images_per_second']} images/s = "
        f"{result['pipeline_images_per_second_per_core']} images/s/core "
        f"({result['pipeline_images_per_cpu_second']} images per CPU-second)",
        f"decoder only (tf.io.decode_jpeg, whole image, one thread): {result['decoder_images_per_second']} "
        f"images/s ({result['decoder_images_per_cpu_second']} per CPU-second)",
        f"pipeline / decoder: {result['fraction_of_decoder_rate']} per CPU-second, "
        f"{result['fraction_of_decoder_rate_per_core']} per core of wall-clock time",
        f"colour distortion on the accelerator (model.color_distortion), the CPU's share: "
        f"{result['colour_on_accelerator_images_per_second_per_core']} images/s/core "
        f"({result['colour_on_accelerator_images_per_cpu_second']} per CPU-second), "
        f"{result['colour_on_accelerator_fraction_of_decoder_rate']} of the decoder per CPU-second; "
        f"without skipping unusable files {result['colour_on_accelerator_not_skipping_images_per_cpu_second']} "
        f"per CPU-second, {result['colour_on_accelerator_not_skipping_fraction_of_decoder_rate']} of the decoder",
        f"the same over two whole passes of {result['images']} files (each pass drains and restarts the "
        f"pipeline): {result['colour_on_accelerator_whole_passes_images_per_cpu_second']} per CPU-second",
        f"naive tf.data: {result['baseline_images_per_second']} images/s "
        f"({result['baseline_images_per_cpu_second']} per CPU-second); "
        f"pipeline speedup {result['speedup_over_baseline']}x",
    ]


def color_layer_line(result: dict) -> str:
    """The colour distortion layer's cost on this CPU."""
    return (f"the colour distortion layer on this CPU (batches of {result['batch_size']}): "
            f"{result['images_per_cpu_second']} images per CPU-second, "
            f"{result['cpu_microseconds_per_image']} us/image")


def stage_lines(result: dict) -> list:
    """One line per cumulative stage: images per CPU-second, CPU time per image, what it adds."""
    lines = [f"stages of the training preprocessing, one thread, {result['image_size']}x{result['image_size']}:"]
    for stage, figures in result["stages"].items():
        added = figures["added_cpu_microseconds"]
        lines.append(f"  {stage:14s} {figures['images_per_cpu_second']:8.1f} images per CPU-second  "
                     f"{figures['cpu_microseconds_per_image']:8.1f} us/image"
                     + (f"  ({added:+.1f} us)" if added is not None else ""))
    return lines


FLAGS = flags.FLAGS
flags.DEFINE_integer("images", 512, "How many 500x375 JPEGs to generate (one pass; the middle of it is timed).")
flags.DEFINE_integer("image_size", 299, "Network input size.")
flags.DEFINE_integer("batch_size", 32, "Images per batch.")
flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
flags.DEFINE_integer("rounds", 5, "Timed rounds (each candidate once per round).")
flags.DEFINE_bool("quick", False, "Seconds: 64 images, batches of 16, 3 rounds.")
flags.DEFINE_bool("stages", False, "Also time each cumulative stage of the training preprocessing.")


def main(argv):
    del argv
    sizes = (dict(images=64, image_size=FLAGS.image_size, batch_size=16, rounds=3) if FLAGS.quick else
             dict(images=FLAGS.images, image_size=FLAGS.image_size, batch_size=FLAGS.batch_size,
                  rounds=FLAGS.rounds))
    with jpeg_folder(sizes["images"]) as folder:  # one set of JPEGs for both measurements
        result = measure_input_throughput(**sizes, folder=folder)
        print("\n".join(summary_lines(result)))
        if FLAGS.stages:
            result["stage_costs"] = measure_stage_costs(**sizes, folder=folder)
            print("\n".join(stage_lines(result["stage_costs"])))
            result["color_layer_cost"] = measure_color_layer_cost(
                sizes["image_size"], sizes["batch_size"], sizes["rounds"])
            print(color_layer_line(result["color_layer_cost"]))
    print(json.dumps(result, indent=2, sort_keys=True))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    app.run(main)
