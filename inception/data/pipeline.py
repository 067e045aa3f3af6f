"""From a source's examples to batches: one function, the steps in a fixed order.

shuffle (training) -> per-image seeds (training) -> decode and preprocess in
parallel, skipping undecodable images -> repeat -> batch -> prefetch.

Sources yield dicts: {"encoded": bytes} or {"path": file} for files that are
decoded here, {"image": uint8 [h, w, 3]} for arrays already in memory; plus
{"label": int32} and optionally {"name": str} (printed when skipped). They
are already subset and sharded for the input pipeline.
"""

from __future__ import annotations

from typing import Optional

import tensorflow as tf

from inception.data import bad_images, decoding, multicrop, preprocessing


def _encoded_bytes(element: dict) -> tf.Tensor:
    return element["encoded"] if "encoded" in element else tf.io.read_file(element["path"])


def _preprocess(
    element: dict, *, training: bool, image_size: int, crops: int, color_distortion: bool,
    crop_ranges: preprocessing.CropRanges, central_fraction: float,
) -> tf.Tensor:
    """element dict -> float32 image(s) in [-1, 1] (Python branches, chosen when traced)."""
    decoded = element.get("image")
    if training:
        if decoded is not None:
            return preprocessing.preprocess_for_train(
                decoded, image_size, element["seed"], color_distortion, crop_ranges
            )
        return preprocessing.preprocess_encoded_for_train(
            _encoded_bytes(element), image_size, element["seed"], color_distortion, crop_ranges
        )
    if crops == 1:
        if decoded is not None:
            return preprocessing.preprocess_for_eval(decoded, image_size, central_fraction)
        return preprocessing.preprocess_encoded_for_eval(
            _encoded_bytes(element), image_size, central_fraction)
    if decoded is None:
        decoded = decoding.decode_rgb(_encoded_bytes(element))
    return multicrop.multi_crop(decoded, image_size, crops)


def _with_seeds(dataset: tf.data.Dataset, seed: Optional[int]) -> tf.data.Dataset:
    """Adds "seed": a fresh [2] int64 per image and pass (deterministic if seeded)."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def add_seed(element, image_seed):
        return {**element, "seed": image_seed}

    return tf.data.Dataset.zip(dataset, seeds).map(add_seed)


def assemble(
    examples: tf.data.Dataset,
    *,
    split: str,
    image_size: int,
    batch_size: int,
    training: bool,
    crops: int = 1,
    color_distortion: bool = True,
    crop_ranges: preprocessing.CropRanges = preprocessing.PAPER_CROP,
    central_fraction: float = preprocessing.CENTRAL_FRACTION,
    shuffle_buffer: int = 10_000,
    seed: Optional[int] = None,
    deterministic: bool = False,
    repeat: bool = False,
    skip_undecodable: bool = True,
) -> tf.data.Dataset:
    """Batches of (images float32 [B, (crops,) S, S, 3] in [-1, 1], labels int32 [B]).

    `skip_undecodable=False` maps encoded images with a plain parallel map, so
    that an unusable file stops the pipeline with the decoder's error: only
    for measuring what the skipping costs (tools/benchmark_input.py).

    Evaluation (`training=False`) always keeps the examples' order: its
    per-image results are paired across rows (Tables 4 and 5).
    """
    deterministic = deterministic or not training
    encoded = "image" not in examples.element_spec
    dataset = examples
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        dataset = _with_seeds(dataset, seed)
    image_shape = [image_size, image_size, 3] if crops == 1 else [crops, image_size, image_size, 3]

    def image_and_label(element):
        image = _preprocess(
            element,
            training=training,
            image_size=image_size,
            crops=crops,
            color_distortion=color_distortion,
            crop_ranges=crop_ranges,
            central_fraction=central_fraction,
        )
        return tf.ensure_shape(image, image_shape), element["label"]

    if encoded and skip_undecodable:
        dataset = bad_images.map_skipping_undecodable(
            dataset,
            image_and_label,
            (tf.TensorSpec(image_shape, tf.float32), tf.TensorSpec([], tf.int32)),
            bad_images.skipped_images(split),
            deterministic=deterministic,
        )
    else:
        dataset = dataset.map(
            image_and_label, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic
        )
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=training)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = deterministic
    return dataset.with_options(options)
