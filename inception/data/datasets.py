"""The two entry points the trainer and evaluator use: `build_dataset`, `dataset_info`.

Each source (`SOURCES`) is a module with `name(data)`, `num_classes(data)`,
`num_examples(data, split)` and `examples(data, split, *, training,
input_context, seed)`, the last giving this input pipeline's part of the
split as dicts (see `pipeline.py`); `pipeline.assemble` does the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import tensorflow as tf

from inception.data import fashion_mnist, folder, imagenet, multicrop, pipeline, preprocessing, sharding

SOURCES = {"imagenet": imagenet, "fashion_mnist": fashion_mnist, "folder": folder}
SPLITS = ("train", "eval")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Sizes the trainer needs (steps per epoch) and the model head needs.

    Example counts are after the subset (`DataConfig.train_examples`,
    `eval_examples`) and the validation blacklist; 0 for a split that is not
    there. For image folders they count files, undecodable ones included.
    """

    name: str
    num_classes: int
    train_examples: int
    eval_examples: int


def _source(data):
    if data.source not in SOURCES:
        raise ValueError(f"DataConfig.source must be one of {sorted(SOURCES)}, got {data.source!r}")
    return SOURCES[data.source]


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def dataset_info(data) -> DatasetInfo:
    """Name, number of classes and example counts of `data` (an `inception.config.DataConfig`)."""
    source = _source(data)
    counts, missing = {}, []
    for split in SPLITS:
        try:
            counts[split] = source.num_examples(data, split)
        except FileNotFoundError as error:  # build_dataset raises it if the split is asked for
            counts[split] = 0
            missing.append(error)
    if len(missing) == len(SPLITS):
        raise missing[0]
    return DatasetInfo(
        name=source.name(data),
        num_classes=source.num_classes(data),
        train_examples=counts["train"],
        eval_examples=counts["eval"],
    )


def build_dataset(
    data,
    *,
    split: str,
    image_size: int,
    batch_size: int,
    training: bool,
    crops: int = 1,
    input_context: Optional[tf.distribute.InputContext] = None,
    deterministic: bool = False,
    repeat: Optional[bool] = None,
) -> tf.data.Dataset:
    """Batches of preprocessed images and labels from `data` (a `DataConfig`).

    Args:
      split: "train" or "eval" (ImageNet validation, Fashion-MNIST test).
      image_size: the network's input size (299, 151, 79, or small).
      batch_size: examples per batch this call yields; per replica when called
        from `strategy.distribute_datasets_from_function`.
      training: shuffle, augment (SPEC section 4) and, unless `repeat=False`,
        repeat; batches drop the remainder. Otherwise the evaluation
        preprocessing, one pass, the last batch may be short.
      crops: 1, or 12 / 144 evaluation crops per image (`multicrop.py`).
      input_context: this input pipeline's part of the data under tf.distribute.
      deterministic: the same order and augmentations on every run (seeded by
        `DataConfig.seed`); slower. Otherwise nothing is seeded.
      repeat: repeat forever; defaults to `training`.

    Returns:
      (images float32 [B, H, W, 3] in [-1, 1], labels int32 [B]) for crops=1;
      images [B, crops, H, W, 3] for 12 or 144 crops. Undecodable files are
      skipped and counted (`inception.data.skipped_images(split)`).
    """
    source = _source(data)
    _check_split(split)
    if crops not in multicrop.CROP_COUNTS:
        raise ValueError(f"crops must be one of {multicrop.CROP_COUNTS}, got {crops!r}")
    if training and crops != 1:
        raise ValueError("Multi-crop inputs are for evaluation: use crops=1 with training=True")
    seed = sharding.pipeline_seed(data.seed, input_context) if deterministic else None
    examples = source.examples(
        data,
        split,
        training=training,
        input_context=input_context,
        seed=data.seed if deterministic else None,
    )
    return pipeline.assemble(
        examples,
        split=split,
        image_size=image_size,
        batch_size=batch_size,
        training=training,
        crops=crops,
        color_distortion=data.train_augmentation,
        crop_ranges=preprocessing.CropRanges.of(data),
        central_fraction=data.eval_crop_fraction,
        shuffle_buffer=data.shuffle_buffer,
        seed=seed,
        deterministic=deterministic,
        repeat=training if repeat is None else repeat,
    )
