"""A user's image folders, for fine-tuning (SPEC section 4, user folders).

Layout: `data_dir/train/<class>/<image>` and `data_dir/eval/<class>/<image>`
(the evaluation folder may also be called `validation` or `val`). Class
indices are the training folder's class names in sorted order, and the eval
folder uses the same indices. Files ending in .jpg, .jpeg, .png, .gif or .bmp
(any case) are images; other files are ignored. Undecodable images are
skipped and counted at run time (`inception.data.bad_images`), so a pass may
yield fewer images than `dataset_info` counts.

Paths go through `tf.io.gfile`, so folders on GCS or HDFS work too.
"""

from __future__ import annotations

import itertools
import os
from typing import Optional

import tensorflow as tf

from inception.data import sharding

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
SPLIT_DIRS = {"train": ("train",), "eval": ("eval", "validation", "val")}


def split_dir(data_dir: Optional[str], split: str) -> str:
    """The folder holding a split's class folders; FileNotFoundError if absent."""
    if not data_dir:
        raise ValueError('DataConfig.data_dir must name the image folder when source="folder"')
    candidates = [os.path.join(data_dir, name) for name in SPLIT_DIRS[split]]
    for candidate in candidates:
        if tf.io.gfile.isdir(candidate):
            return candidate
    raise FileNotFoundError(
        f"No {split} images: expected class sub-folders in {' or '.join(candidates)}"
    )


def _subfolders(path: str) -> list[str]:
    return sorted(
        name.rstrip("/")
        for name in tf.io.gfile.listdir(path)
        if tf.io.gfile.isdir(os.path.join(path, name))
    )


def class_names(data_dir: str) -> tuple[str, ...]:
    """The training classes, sorted; index i is class i."""
    names = _subfolders(split_dir(data_dir, "train"))
    if not names:
        raise FileNotFoundError(f"No class sub-folders in {split_dir(data_dir, 'train')}")
    return tuple(names)


def _image_files(folder: str) -> list[str]:
    return sorted(
        os.path.join(folder, name)
        for name in tf.io.gfile.listdir(folder)
        if name.lower().endswith(IMAGE_EXTENSIONS)
    )


def list_images(data_dir: str, split: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(paths, labels) of a split, interleaved across classes.

    The order is one file of each class in turn (class 0's first file, class
    1's first file, ...), so the first N examples of a subset cover all
    classes evenly and are the same on every run.
    """
    root = split_dir(data_dir, split)
    index = {name: i for i, name in enumerate(class_names(data_dir))}
    unknown = sorted(set(_subfolders(root)) - set(index))
    if unknown:
        raise ValueError(f"Classes {unknown} in {root} are not in the training folder")
    per_class = [
        [(path, index[name]) for path in _image_files(os.path.join(root, name))]
        for name in _subfolders(root)
    ]
    interleaved = [
        pair for group in itertools.zip_longest(*per_class) for pair in group if pair is not None
    ]
    if not interleaved:
        raise FileNotFoundError(f"No image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}")
    paths, labels = zip(*interleaved)
    return paths, labels


def name(data) -> str:
    """The folder's own name."""
    return os.path.basename(os.path.normpath(data.data_dir))


def num_classes(data) -> int:
    return len(class_names(data.data_dir))


def _subset(data, split: str, values: tuple) -> list:
    """The first `DataConfig.train_examples` / `eval_examples` values, or all."""
    limit = data.train_examples if split == "train" else data.eval_examples
    return list(values if limit is None else values[:limit])


def num_examples(data, split: str) -> int:
    """Image files in a split, after the subset."""
    return len(_subset(data, split, list_images(data.data_dir, split)[0]))


def examples(data, split: str, *, training=False, input_context=None, seed=None) -> tf.data.Dataset:
    """Dicts {"path", "label", "name"}: the first N files, this pipeline's part."""
    del training, seed  # the order is shuffled by the pipeline
    paths, labels = (_subset(data, split, values) for values in list_images(data.data_dir, split))
    dataset = tf.data.Dataset.from_tensor_slices(
        {"path": paths, "label": tf.constant(labels, tf.int32), "name": paths}
    )
    return sharding.shard_elements(dataset, input_context)
