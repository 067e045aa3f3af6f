"""Throughput of the training input pipeline, against a naive tf.data baseline.

    python tools/benchmark_input.py [--images 256] [--image_size 299] [--json out.json] [--quick]

Writes ImageNet-sized JPEGs (500x375) to a temporary folder and reads them as
an image-folder dataset through `inception.data.build_dataset` (training:
random crop decoded with `decode_and_crop_jpeg`, resize, flip, colour
distortion, skipping of bad files; parallel decode, prefetch). The baseline
does the same operations the plain way: decode the whole JPEG then crop, one
image at a time, no prefetch. Prints images per second, per core, and the
ratio. `measure_input_throughput` is importable (tools/benchmark.py reports
its `pipeline_images_per_second_per_core`).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import app, flags
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def throughput(
    dataset: tf.data.Dataset, batch_size: int, batches: int, warmup: int = 2
) -> tuple[float, float]:
    """(images per wall-clock second, images per CPU second of this process).

    The second is steady on a machine shared with other work, where wall-clock
    rates swing with the load.
    """
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    for _ in range(batches):
        next(iterator)
    images = batches * batch_size
    return images / (time.perf_counter() - wall), images / (_cpu_seconds() - cpu)


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def measure_input_throughput(
    images: int = 256, image_size: int = 299, batch_size: int = 32, passes: float = 2.0
) -> dict:
    """Training-input throughput of our pipeline and of the naive baseline.

    Returns a dict with `pipeline_images_per_second` (wall clock),
    `pipeline_images_per_second_per_core` (that over the cores this process
    may use), `pipeline_images_per_cpu_second` (images per CPU second used,
    steadier on a shared machine), the same for the baseline,
    `speedup_over_baseline` (wall clock), and the settings.
    """
    batches = max(1, int(images * passes) // batch_size)
    with tempfile.TemporaryDirectory() as folder:
        write_jpegs(folder, images)
        data = DataConfig(source="folder", data_dir=folder, shuffle_buffer=images)
        ours = build_dataset(
            data, split="train", image_size=image_size, batch_size=batch_size, training=True,
            repeat=True,  # `passes` may exceed one pass
        )
        ours_rate, ours_per_cpu = throughput(ours, batch_size, batches)
        naive = naive_dataset(folder, image_size, batch_size)
        naive_rate, naive_per_cpu = throughput(naive, batch_size, batches)
    cores = available_cores()
    return {
        "pipeline_images_per_second": round(ours_rate, 1),
        "pipeline_images_per_second_per_core": round(ours_rate / cores, 1),
        "pipeline_images_per_cpu_second": round(ours_per_cpu, 1),
        "baseline_images_per_second": round(naive_rate, 1),
        "baseline_images_per_cpu_second": round(naive_per_cpu, 1),
        "speedup_over_baseline": round(ours_rate / naive_rate, 2),
        "cores": cores,
        "images": images,
        "image_size": image_size,
        "batch_size": batch_size,
        "source_image_size": list(IMAGENET_LIKE_SIZE),
        "crop_area_range": list(preprocessing.AREA_RANGE),
    }


FLAGS = flags.FLAGS
flags.DEFINE_integer("images", 256, "How many 500x375 JPEGs to generate.")
flags.DEFINE_integer("image_size", 299, "Network input size.")
flags.DEFINE_integer("batch_size", 32, "Images per batch.")
flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
flags.DEFINE_bool("quick", False, "A few seconds: 64 images, batches of 16, one pass.")


def main(argv):
    del argv
    if FLAGS.quick:
        result = measure_input_throughput(
            images=64, image_size=FLAGS.image_size, batch_size=16, passes=1.0
        )
    else:
        result = measure_input_throughput(FLAGS.images, FLAGS.image_size, FLAGS.batch_size)
    print(
        f"training input, {result['image_size']}x{result['image_size']} from 500x375 JPEGs: "
        f"{result['pipeline_images_per_second']} images/s on {result['cores']} core(s) = "
        f"{result['pipeline_images_per_second_per_core']} images/s/core "
        f"({result['pipeline_images_per_cpu_second']} images per CPU second); naive tf.data "
        f"{result['baseline_images_per_second']} images/s "
        f"({result['baseline_images_per_cpu_second']} per CPU second); "
        f"speedup {result['speedup_over_baseline']}x"
    )
    print(json.dumps(result, indent=2, sort_keys=True))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    app.run(main)
