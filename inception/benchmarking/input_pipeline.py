"""Throughput of the training input pipeline, against the JPEG decoder alone and a naive baseline.

ImageNet-sized JPEGs (500x375) in a temporary folder, read as an image-folder
dataset through `inception.data.build_dataset` (training: the random crop
decoded window-only, flip, one resize, colour distortion, skipping of bad
files; parallel decode, prefetch). Timed in the same rounds, in turn:

- the decoder alone, the pipeline's physical reference: `tf.io.decode_jpeg`
  of the same files (whole image, default settings), one thread;
- a naive baseline: the same training operations written plainly (decode the
  whole JPEG then crop, one image at a time, no prefetch);
- the pipeline's share of the CPU when the colour distortion runs on the
  accelerator (`ModelConfig.color_distortion`, `DataConfig.train_augmentation=False`):
  the same pipeline without its colour step; and that again without the
  skipping of unusable files (a plain parallel map), which shows what the
  per-image error handling of `bad_images` costs.

Each is timed over the middle of a pass (`steady_batches`): the steady
state of ImageNet's 1.28-million-image passes. The colour-on-accelerator
pipeline is also timed over two whole passes, which adds what draining and
restarting the pipeline at each pass costs at this benchmark's pass length.

`measure_color_layer_cost` times that colour step as the layer does it
(`distort_color_batch`, batched) on this CPU: the work moved, not saved,
when the network trains on the CPU too.

`measure_stage_costs` splits the training preprocessing into cumulative
stages (the whole decode, the window decode, + flip and resize, + clip and
scale, + colour distortion), each built from the pipeline's own functions
and timed on one thread, so that what each stage costs per image is a
measurement that reruns, not an estimate.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from typing import Callable, Iterator, Optional

import numpy as np
import tensorflow as tf
from PIL import Image

from inception import color_distortion, machine
from inception.benchmarking import timing
from inception.config import DataConfig
from inception.data import build_dataset, pipeline, preprocessing
from inception.data import folder as folder_source

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


def _one_thread(dataset: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Batched, on one thread without autotuning: one Python call per batch, as for the pipelines."""
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.autotune.enabled = False
    return dataset.batch(batch_size).with_options(options)


def _encoded_files(folder: str) -> list:
    paths = sorted(tf.io.gfile.glob(os.path.join(folder, "train", "*", "*.jpg")))
    return [tf.io.read_file(path) for path in paths]


def decoder_only_dataset(folder: str, batch_size: int) -> tf.data.Dataset:
    """`tf.io.decode_jpeg` of the same files (bytes in memory), one thread; yields shapes."""
    dataset = tf.data.Dataset.from_tensor_slices(_encoded_files(folder)).repeat()
    dataset = dataset.map(lambda image: tf.shape(tf.io.decode_jpeg(image, channels=3)))
    return _one_thread(dataset, batch_size)


def _window_decode(encoded, seed, image_size):
    return preprocessing.decode_train_crop(encoded, image_size, preprocessing.split_seed(seed)[0])


def _flip_and_resize(encoded, seed, image_size):
    flip_uniform = preprocessing.train_uniforms(preprocessing.split_seed(seed)[1])[0]
    return preprocessing.flip_and_resize(_window_decode(encoded, seed, image_size), image_size, flip_uniform)


# The training preprocessing in cumulative stages, each the pipeline's own functions up to
# that point (the last is `preprocess_encoded_for_train` itself); stage(encoded, seed, size).
STAGES = {
    "decode_whole": lambda encoded, seed, size: tf.io.decode_jpeg(encoded, channels=3),
    "decode_window": _window_decode,
    "flip_resize": _flip_and_resize,
    "clip_scale": lambda encoded, seed, size: preprocessing.preprocess_encoded_for_train(
        encoded, size, seed, color_distortion=False),
    "colour": lambda encoded, seed, size: preprocessing.preprocess_encoded_for_train(encoded, size, seed),
}


def stage_dataset(folder: str, stage: str, image_size: int, batch_size: int) -> tf.data.Dataset:
    """`STAGES[stage]` over the same files (bytes in memory) with fixed per-image seeds, one thread.

    Each image yields its first pixel: a value of the stage's output, so that
    no part of the stage can be pruned, and nothing else to copy or batch.
    """
    encoded = _encoded_files(folder)
    seeds = tf.stack([tf.range(len(encoded), dtype=tf.int64), tf.zeros([len(encoded)], tf.int64)], axis=1)
    dataset = tf.data.Dataset.from_tensor_slices((encoded, seeds)).repeat()
    dataset = dataset.map(lambda image, seed: tf.cast(STAGES[stage](image, seed, image_size)[0, 0], tf.float32))
    return _one_thread(dataset, batch_size)


def timed_pass(dataset: tf.data.Dataset, batches: int, warmup: int = 2) -> Callable[[], timing.StepTimes]:
    """A call that times `batches` batches of a fresh iterator after `warmup` batches.

    A fresh iterator per call, deleted after it: an iterator left alive would
    go on filling its buffers while the other candidates are timed, and its
    work would be counted as theirs. In steady state the buffers are full at
    both ends of the timed stretch, so the work timed is the work yielded.
    """
    def call():
        iterator = iter(dataset)
        for _ in range(warmup):
            next(iterator)
        wall, cpu = time.perf_counter(), timing.cpu_seconds()
        for _ in range(batches):
            next(iterator)
        measured = timing.StepTimes(time.perf_counter() - wall, timing.cpu_seconds() - cpu)
        del iterator
        return measured

    return call


@contextlib.contextmanager
def jpeg_folder(images: int, folder: Optional[str] = None) -> Iterator[str]:
    """`folder` as given (already holding `images` files from `write_jpegs`), or a temporary one written now."""
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory() as written:
        write_jpegs(written, images)
        yield written


def steady_batches(images: int, batch_size: int) -> int:
    """Batches timed inside one pass of `images` files, after `timed_pass`'s warm-up.

    Half a pass: the stretch never reaches the pass's end, where the
    pipeline drains and restarts. ImageNet's passes are 1.28 million
    images, so its steady state is the figure that matters; the cost of a
    pass boundary is timed apart (`..._whole_passes`).
    """
    return max(1, images // batch_size // 2)


def _timed_candidates(images: int, image_size: int, batch_size: int, rounds: int,
                      folder: Optional[str]) -> tuple:
    """(times, work, load averages before) of the decoder, our pipeline's variants and the baseline, in turn."""
    steady, per_pass = steady_batches(images, batch_size), max(1, images // batch_size)
    with jpeg_folder(images, folder) as folder:
        def ours(colour_in_pipeline: bool) -> tf.data.Dataset:
            data = DataConfig(source="folder", data_dir=folder, shuffle_buffer=images,
                              train_augmentation=colour_in_pipeline)
            return build_dataset(data, split="train", image_size=image_size, batch_size=batch_size,
                                 training=True, repeat=True)  # more passes than one

        not_skipping = pipeline.assemble(
            folder_source.examples(DataConfig(source="folder", data_dir=folder), "train"), split="train",
            image_size=image_size, batch_size=batch_size, training=True, color_distortion=False,
            shuffle_buffer=images, repeat=True, skip_undecodable=False)
        datasets = {"decoder": decoder_only_dataset(folder, batch_size), "pipeline": ours(True),
                    "colour_on_accelerator": ours(False),
                    "colour_on_accelerator_not_skipping": not_skipping,
                    "baseline": naive_dataset(folder, image_size, batch_size)}
        candidates = {name: timed_pass(dataset, steady) for name, dataset in datasets.items()}
        # Two whole passes from a fresh iterator: the steady state plus two starts of a pass.
        candidates["colour_on_accelerator_whole_passes"] = timed_pass(
            datasets["colour_on_accelerator"], 2 * per_pass, warmup=0)
        work = {name: steady * batch_size for name in datasets}
        work["colour_on_accelerator_whole_passes"] = 2 * per_pass * batch_size
        load_before = os.getloadavg()
        return timing.interleaved(candidates, rounds, warmup=0), work, load_before


def measure_input_throughput(images: int = 512, image_size: int = 299, batch_size: int = 32,
                             rounds: int = 5, folder: Optional[str] = None) -> dict:
    """Training-input throughput of our pipeline, of the decoder alone and of the naive baseline.

    Each round times each of the five in turn (`timed_pass`) over the
    middle of a pass over the `images` files (`steady_batches`), and the
    pipeline with the colour on the accelerator over two whole passes
    (`colour_on_accelerator_whole_passes_...`: what starting a pass
    costs at this pass length); figures are medians over the rounds. Returns a dict with
    `pipeline_images_per_second` (wall clock), `..._per_core` (that over the
    cores this process may use), `..._per_cpu_second` (images per CPU-second
    this process used), the same for `decoder` and `baseline`,
    `fraction_of_decoder_rate` (pipeline / decoder images per CPU-second,
    the median of each round's ratio), `fraction_of_decoder_rate_per_core`
    (pipeline images/s per core / decoder images/s), `speedup_over_baseline`
    (wall clock); `colour_on_accelerator_...` and
    `colour_on_accelerator_fraction_of_decoder_rate[_per_core]` for the
    pipeline without its colour step (what the CPU does when the layer
    distorts colours on the accelerator), and `colour_on_accelerator_not_skipping_...`
    for that without the skipping of unusable files (`bad_images`: a plain
    parallel map instead, what the skipping costs); the machine (`inception.machine.describe`), the load
    average and the settings. `folder`: JPEGs already written (`jpeg_folder`).
    """
    times, work, load_before = _timed_candidates(images, image_size, batch_size, rounds, folder)
    versus_decoder = timing.summarize(times, work, "decoder", "images")
    versus_baseline = timing.summarize(times, work, "baseline", "images")
    cores = machine.available_cores()
    result = {"cores": cores, "images": images, "image_size": image_size, "batch_size": batch_size,
              "steady_timed_images": work["pipeline"],
              "rounds": rounds, "source_image_size": list(IMAGENET_LIKE_SIZE),
              "crop_area_range": list(preprocessing.AREA_RANGE), "machine": machine.describe(),
              "load_average": [round(x, 2) for x in load_before + os.getloadavg()]}
    for name, figures in versus_decoder.items():
        result[f"{name}_images_per_second"] = round(figures["images_per_second"], 1)
        result[f"{name}_images_per_cpu_second"] = round(figures["images_per_cpu_second"], 1)
    for name in ("pipeline", "colour_on_accelerator", "colour_on_accelerator_not_skipping"):
        prefix = "" if name == "pipeline" else f"{name}_"  # the pipeline's keys predate the others
        result[f"{name}_images_per_second_per_core"] = round(result[f"{name}_images_per_second"] / cores, 1)
        result[f"{prefix}fraction_of_decoder_rate"] = round(versus_decoder[name]["cpu_ratio_vs_baseline"], 3)
        result[f"{prefix}fraction_of_decoder_rate_per_core"] = round(
            versus_decoder[name]["ratio_vs_baseline"] / cores, 3)
    result["speedup_over_baseline"] = round(versus_baseline["pipeline"]["ratio_vs_baseline"], 2)
    return result


def measure_stage_costs(images: int = 256, image_size: int = 299, batch_size: int = 32,
                        rounds: int = 5, folder: Optional[str] = None) -> dict:
    """CPU time per image of each cumulative stage of the training preprocessing (`STAGES`).

    Each round times one pass over the files with every stage in turn, on one
    thread; figures are medians over rounds. Returns, per stage, images per
    CPU-second and per second, microseconds of CPU per image, and what the
    stage adds to the one before it (`added_cpu_microseconds`); with the
    machine and the load average. `folder`: JPEGs already written (`jpeg_folder`).
    """
    batches = max(1, images // batch_size)
    with jpeg_folder(images, folder) as folder:
        candidates = {stage: timed_pass(stage_dataset(folder, stage, image_size, batch_size), batches)
                      for stage in STAGES}
        load_before = os.getloadavg()
        times = timing.interleaved(candidates, rounds, warmup=0)
    work = {stage: batches * batch_size for stage in times}
    summary = timing.summarize(times, work, "decode_whole", "images")
    stages, previous = {}, None
    for stage in STAGES:
        per_cpu_second = summary[stage]["images_per_cpu_second"]
        microseconds = 1e6 / per_cpu_second
        stages[stage] = {"images_per_cpu_second": round(per_cpu_second, 1),
                         "images_per_second": round(summary[stage]["images_per_second"], 1),
                         "cpu_microseconds_per_image": round(microseconds, 1),
                         "added_cpu_microseconds": round(microseconds - previous, 1) if previous else None}
        previous = microseconds
    return {"stages": stages, "images": images, "image_size": image_size, "batch_size": batch_size,
            "rounds": rounds, "machine": machine.describe(),
            "load_average": [round(x, 2) for x in load_before + os.getloadavg()]}


def measure_color_layer_cost(image_size: int = 299, batch_size: int = 32, rounds: int = 5) -> dict:
    """CPU time per image of the colour distortion as the layer does it, batched, on this CPU.

    `distort_color_batch` (both of the authors' orders for the whole batch,
    each image keeping its own) in one traced function over a batch of
    [-1, 1] images, timed `rounds` times after one warm-up call (medians).
    On an accelerator this work runs beside the network; here it shows what
    moving it costs when the network trains on the CPU as well.
    """
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(-0.8, 0.8, (batch_size, image_size, image_size, 3)), tf.float32)
    uniforms = tf.constant(rng.random((batch_size, color_distortion.UNIFORMS_PER_IMAGE)), tf.float32)
    distort = tf.function(color_distortion.distort_color_batch)
    times = timing.interleaved({"layer": lambda: distort(images, uniforms).numpy()}, rounds,
                               warmup=1)  # the warm-up call traces
    figures = timing.summarize(times, {"layer": batch_size}, "layer", "images")["layer"]
    return {"images_per_cpu_second": round(figures["images_per_cpu_second"], 1),
            "images_per_second": round(figures["images_per_second"], 1),
            "cpu_microseconds_per_image": round(1e6 / figures["images_per_cpu_second"], 1),
            "image_size": image_size, "batch_size": batch_size, "rounds": rounds}
