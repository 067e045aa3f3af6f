"""Giving each tf.distribute input pipeline its own part of the data."""

from __future__ import annotations

from typing import Optional

import tensorflow as tf


def num_pipelines(input_context: Optional[tf.distribute.InputContext]) -> int:
    return input_context.num_input_pipelines if input_context else 1


def pipeline_id(input_context: Optional[tf.distribute.InputContext]) -> int:
    return input_context.input_pipeline_id if input_context else 0


def shard_elements(
    dataset: tf.data.Dataset, input_context: Optional[tf.distribute.InputContext]
) -> tf.data.Dataset:
    """Every n-th element for pipeline i of n: disjoint parts that cover the data.

    For sources whose elements are cheap to skip (file paths, in-memory
    arrays); TFDS ImageNet shards by files instead (`imagenet.py`).
    """
    if num_pipelines(input_context) == 1:
        return dataset
    return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)


def pipeline_seed(
    seed: Optional[int], input_context: Optional[tf.distribute.InputContext]
) -> Optional[int]:
    """A seed per input pipeline, so replicas do not draw the same augmentations."""
    if seed is None:
        return None
    return seed * 1_000_003 + pipeline_id(input_context)
