"""Throughput of the training input pipeline, against the JPEG decoder alone and a naive baseline.

    python tools/benchmark_input.py [--images 256] [--image_size 299] [--rounds 5] [--json out.json] [--quick]

Writes ImageNet-sized JPEGs (500x375) to a temporary folder and reads them as
an image-folder dataset through `inception.data.build_dataset` (training:
the random crop decoded window-only, flip, one resize, colour distortion,
skipping of bad files; parallel decode, prefetch). Timed in the same rounds,
in turn (as tools/benchmark.py does):

- the decoder alone, the pipeline's physical reference: `tf.io.decode_jpeg`
  of the same files (whole image, default settings), one thread;
- a naive baseline: the same training operations written plainly (decode the
  whole JPEG then crop, one image at a time, no prefetch).

Prints the CPU and its instruction sets, the load average, images/s and
images/s per core of the pipeline, the decoder's rate, and the pipeline as a
fraction of it, both per CPU-second used (steady on a machine shared with
other work) and per core of wall-clock time. `measure_input_throughput` is
importable (tools/benchmark.py reports it in its pipeline phase).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Callable

import numpy as np
import tensorflow as tf
from absl import app, flags
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inception import machine  # noqa: E402
from inception.config import DataConfig  # noqa: E402
from inception.data import build_dataset, preprocessing  # noqa: E402

IMAGENET_LIKE_SIZE = (500, 375)  # width, height: the most common ImageNet shape


def write_jpegs(folder: str, count: int, classes: int = 2, seed: int = 0) -> None:
    """`count` photo-like JPEGs (smooth colour fields with noise), in class folders."""
    rng = np.random.default_rng(seed)
    width, height = IMAGENET_LIKE_SIZE
    for i in range(count):
        class_dir = os.path.join(folder, "train", f"class{i % classes}")
        os.makedirs(class_dir, exist_ok=True)
        coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((width, height), Image.BICUBIC), np.int16)
        pixels = np.clip(smooth + rng.integers(-12, 13, smooth.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(class_dir, f"{i}.jpg"), quality=90)


def naive_dataset(folder: str, image_size: int, batch_size: int) -> tf.data.Dataset:
    """The same training operations written plainly: whole decode, serial map, no prefetch."""
    paths = sorted(tf.io.gfile.glob(os.path.join(folder, "train", "*", "*.jpg")))

    def preprocess(path):
        image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            tf.shape(image), tf.zeros([1, 0, 4]), min_object_covered=0.1,
            aspect_ratio_range=(0.75, 4 / 3), area_range=(0.05, 1.0), max_attempts=100,
            use_image_if_no_bounding_boxes=True,
        )  # fmt: skip
        image = tf.image.convert_image_dtype(tf.slice(image, begin, size), tf.float32)
        image = tf.image.resize(image, [image_size, image_size])
        image = tf.image.random_flip_left_right(image)
        image = tf.image.random_brightness(image, 32 / 255)
        image = tf.image.random_saturation(image, 0.5, 1.5)
        image = tf.image.random_hue(image, 0.2)
        image = tf.image.random_contrast(image, 0.5, 1.5)
        return (tf.clip_by_value(image, 0.0, 1.0) - 0.5) * 2, 0

    dataset = tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths)).map(preprocess)
    return dataset.repeat().batch(batch_size, drop_remainder=True)


def decoder_only_dataset(folder: str, batch_size: int) -> tf.data.Dataset:
    """`tf.io.decode_jpeg` of the same files (bytes in memory), one thread; yields shapes."""
    paths = sorted(tf.io.gfile.glob(os.path.join(folder, "train", "*", "*.jpg")))
    encoded = [tf.io.read_file(path) for path in paths]
    dataset = tf.data.Dataset.from_tensor_slices(encoded).repeat()
    dataset = dataset.map(lambda image: tf.shape(tf.io.decode_jpeg(image, channels=3)))
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.autotune.enabled = False
    # Batched shapes: one Python call per batch, as for the pipelines.
    return dataset.batch(batch_size).with_options(options)


def timed_pass(dataset: tf.data.Dataset, batches: int, warmup: int = 2) -> Callable[[], object]:
    """A call that times `batches` batches of a fresh iterator after `warmup` batches.

    A fresh iterator per call, deleted after it: an iterator left alive would
    go on filling its buffers while the other candidates are timed, and its
    work would be counted as theirs. In steady state the buffers are full at
    both ends of the timed stretch, so the work timed is the work yielded.
    """
    from tools.benchmark import StepTimes, cpu_seconds

    def call():
        iterator = iter(dataset)
        for _ in range(warmup):
            next(iterator)
        wall, cpu = time.perf_counter(), cpu_seconds()
        for _ in range(batches):
            next(iterator)
        measured = StepTimes(time.perf_counter() - wall, cpu_seconds() - cpu)
        del iterator
        return measured

    return call


def measure_input_throughput(images: int = 256, image_size: int = 299, batch_size: int = 32,
                             rounds: int = 5) -> dict:
    """Training-input throughput of our pipeline, of the decoder alone and of the naive baseline.

    Each round times one pass over the `images` files with each of the three,
    in turn (`timed_pass`); figures are medians over the rounds. Returns a dict with
    `pipeline_images_per_second` (wall clock), `..._per_core` (that over the
    cores this process may use), `..._per_cpu_second` (images per CPU-second
    this process used), the same for `decoder` and `baseline`,
    `fraction_of_decoder_rate` (pipeline / decoder images per CPU-second,
    the median of each round's ratio), `fraction_of_decoder_rate_per_core`
    (pipeline images/s per core / decoder images/s), `speedup_over_baseline`
    (wall clock), the machine (`inception.machine.describe`), the load
    average and the settings.
    """
    from tools.benchmark import interleaved, summarize

    batches = max(1, images // batch_size)
    with tempfile.TemporaryDirectory() as folder:
        write_jpegs(folder, images)
        data = DataConfig(source="folder", data_dir=folder, shuffle_buffer=images)
        ours = build_dataset(data, split="train", image_size=image_size, batch_size=batch_size, training=True,
                             repeat=True)  # more passes than one
        candidates = {"decoder": timed_pass(decoder_only_dataset(folder, batch_size), batches),
                      "pipeline": timed_pass(ours, batches),
                      "baseline": timed_pass(naive_dataset(folder, image_size, batch_size), batches)}
        load_before = os.getloadavg()
        times = interleaved(candidates, rounds, warmup=0)
    work = {name: batches * batch_size for name in candidates}
    versus_decoder = summarize(times, work, "decoder", "images")
    versus_baseline = summarize(times, work, "baseline", "images")
    cores = machine.available_cores()
    result = {"cores": cores, "images": images, "image_size": image_size, "batch_size": batch_size,
              "rounds": rounds, "source_image_size": list(IMAGENET_LIKE_SIZE),
              "crop_area_range": list(preprocessing.AREA_RANGE), "machine": machine.describe(),
              "load_average": [round(x, 2) for x in load_before + os.getloadavg()]}
    for name, figures in versus_decoder.items():
        result[f"{name}_images_per_second"] = round(figures["images_per_second"], 1)
        result[f"{name}_images_per_cpu_second"] = round(figures["images_per_cpu_second"], 1)
    result["pipeline_images_per_second_per_core"] = round(result["pipeline_images_per_second"] / cores, 1)
    result["fraction_of_decoder_rate"] = round(versus_decoder["pipeline"]["cpu_ratio_vs_baseline"], 3)
    result["fraction_of_decoder_rate_per_core"] = round(
        versus_decoder["pipeline"]["ratio_vs_baseline"] / cores, 3)
    result["speedup_over_baseline"] = round(versus_baseline["pipeline"]["ratio_vs_baseline"], 2)
    return result


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
        f"naive tf.data: {result['baseline_images_per_second']} images/s "
        f"({result['baseline_images_per_cpu_second']} per CPU-second); "
        f"pipeline speedup {result['speedup_over_baseline']}x",
    ]


FLAGS = flags.FLAGS
flags.DEFINE_integer("images", 256, "How many 500x375 JPEGs to generate.")
flags.DEFINE_integer("image_size", 299, "Network input size.")
flags.DEFINE_integer("batch_size", 32, "Images per batch.")
flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
flags.DEFINE_integer("rounds", 5, "Timed rounds (one pass each over the images per candidate).")
flags.DEFINE_bool("quick", False, "Seconds: 64 images, batches of 16, 3 rounds.")


def main(argv):
    del argv
    if FLAGS.quick:
        result = measure_input_throughput(images=64, image_size=FLAGS.image_size, batch_size=16, rounds=3)
    else:
        result = measure_input_throughput(FLAGS.images, FLAGS.image_size, FLAGS.batch_size, FLAGS.rounds)
    print("\n".join(summary_lines(result)))
    print(json.dumps(result, indent=2, sort_keys=True))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    app.run(main)
