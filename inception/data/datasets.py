"""The entry points the trainer and evaluator use: `build_dataset`, `dataset_info`, `steps_per_epoch`.

Each source (`SOURCES`) is a module with `name(data)`, `num_classes(data)`,
`num_examples(data, split)` and `examples(data, split, *, training,
input_context, seed)`, the last giving this input pipeline's part of the
split as dicts (see `pipeline.py`); `pipeline.assemble` does the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import tensorflow as tf

from inception.config import DistributeConfig, ExperimentConfig
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
      training: shuffle and augment (paper section 8: random crops, flips,
        colour distortion); batches drop the remainder. Otherwise the
        evaluation preprocessing (central crop), the last batch may be short.
      crops: 1, or 12 / 144 evaluation crops per image (`multicrop.py`).
      input_context: this input pipeline's part of the data under tf.distribute.
      deterministic: the same order and augmentations on every run (seeded by
        `DataConfig.seed`); slower. Otherwise nothing is seeded.
      repeat: repeat forever. The default (None) depends on who asks: one
        pass per epoch for a plain `model.fit(ds, epochs=N)`, forever for
        the trainer (training with an `input_context`); `_repeats` says why.
        Pass True or False to choose; `steps_per_epoch(data, batch_size)`
        gives the batches of one training pass.

    Returns:
      (images float32 [B, H, W, 3] in [-1, 1], labels int32 [B]) for crops=1;
      images [B, crops, H, W, 3] for 12 or 144 crops. Undecodable files are
      skipped and counted (`inception.data.skipped_images(split)`).
    """
    source = _source(data)
    _check_request(split, training, crops)
    seed = sharding.pipeline_seed(data.seed, input_context) if deterministic else None
    examples = source.examples(data, split, training=training, input_context=input_context,
                               seed=data.seed if deterministic else None)
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
        repeat=_repeats(training, input_context) if repeat is None else repeat,
    )


def _check_request(split: str, training: bool, crops: int) -> None:
    _check_split(split)
    if crops not in multicrop.CROP_COUNTS:
        raise ValueError(f"crops must be one of {multicrop.CROP_COUNTS}, got {crops!r}")
    if training and crops != 1:
        raise ValueError("Multi-crop inputs are for evaluation: use crops=1 with training=True")


def _repeats(training: bool, input_context: Optional[tf.distribute.InputContext]) -> bool:
    """The default of `build_dataset(repeat=None)`.

    - Without `input_context` (a plain `model.fit(ds, epochs=N)`, the
      README's use): one pass per epoch, never repeated, so that `fit` ends
      each epoch when the pass ends and reshuffles for the next.
    - With `input_context` and `training` (the trainer, whose dataset
      function `tf.distribute` calls with one): repeat forever. The trainer
      counts steps itself (`fit(steps_per_epoch=...)`), resumes mid-pass
      with `skip`, and under several input pipelines each pipeline's shard
      may be a batch longer than another's, while all replicas must take the
      same number of steps: an endless stream is what that needs.

    (Image files may be skipped, so their passes have no known length: Keras
    learns it in epoch 1 and warns once that the "input ran out of data";
    training goes on.)
    """
    return training and input_context is not None


def steps_per_epoch(data, batch_size: int) -> int:
    """Batches in one training pass of `data` (a `DataConfig`) at `batch_size`.

    The count the trainer uses (`ExperimentConfig.run_size`): training
    examples // batch size (the remainder is dropped), at least 1. It is the
    learning-rate schedule's epoch:

        model.compile(**inception.training.paper_recipe(
            steps_per_epoch=inception.data.steps_per_epoch(data, batch_size=32)))
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    config = ExperimentConfig(data=data, distribute=DistributeConfig(per_replica_batch=batch_size))
    return config.run_size(dataset_info(data).train_examples).steps_per_epoch
