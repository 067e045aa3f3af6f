"""A user's image folders, for fine-tuning (`inception.fine_tune`).

Layout: `data_dir/train/<class>/<image>` and `data_dir/eval/<class>/<image>`
(the evaluation folder may also be called `validation` or `val`). Class
indices are the training folder's class names in sorted order, and the eval
folder uses the same indices. Files ending in .jpg, .jpeg, .png, .gif, .bmp,
.webp or .jxl (any case: every format `tf.io.decode_image` reads in TF 2.21)
are images. Other files, and folders inside class folders, are counted and
reported in one log line per split, by extension.

Before training, each class folder is checked for one image that decodes: a
class folder with none is a warning naming it (it keeps its index), a split
with none is an error. Files that cannot be used are skipped, named with
their reason and counted at run time (`inception.data.bad_images`), so a
pass may yield fewer images than `dataset_info` counts.

Paths go through `tf.io.gfile`, so folders on GCS or HDFS work too.
"""

from __future__ import annotations

import collections
import itertools
import os
from typing import Optional, Sequence

import tensorflow as tf
from absl import logging

from inception.data import bad_images, sharding

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".jxl")
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


def _listing(folder: str) -> list[str]:
    """The entries of `folder`; one clear OSError (not FileNotFoundError) if it cannot be listed."""
    try:
        return sorted(name.rstrip("/") for name in tf.io.gfile.listdir(folder))
    except (tf.errors.OpError, OSError) as error:
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OSError(f"Cannot list the folder {folder} ({cause}); make it readable by this "
                      "user (e.g. chmod -R a+rX) or set DataConfig.data_dir to another folder"
                      ) from None


def _subfolders(path: str) -> list[str]:
    return [name for name in _listing(path) if tf.io.gfile.isdir(os.path.join(path, name))]


def class_names(data_dir: str) -> tuple[str, ...]:
    """The training classes, sorted; index i is class i."""
    names = _subfolders(split_dir(data_dir, "train"))
    if not names:
        raise FileNotFoundError(f"No class sub-folders in {split_dir(data_dir, 'train')}")
    return tuple(names)


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _ignored_kind(folder: str, name: str) -> str:
    if tf.io.gfile.isdir(os.path.join(folder, name)):
        return "(folder)"
    return os.path.splitext(name)[1].lower() or "(no extension)"


def _image_files(folder: str, ignored: collections.Counter) -> list[str]:
    """The image files of a class folder; counts the other entries in `ignored` by kind."""
    images = []
    for name in _listing(folder):
        if _is_image_name(name):
            images.append(os.path.join(folder, name))
        else:
            ignored[_ignored_kind(folder, name)] += 1
    return images


_REPORTED: set = set()  # log lines already written: listing a split again repeats none


def _log_once(level: int, message: str) -> None:
    if message not in _REPORTED:
        _REPORTED.add(message)
        logging.log(level, message)


def _report_ignored(root: str, ignored: collections.Counter) -> None:
    if ignored:
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(ignored.items()))
        _log_once(logging.WARNING, f"Ignored {sum(ignored.values())} entries of {root} that are not "
                  f"images by their name ({kinds}); images must end in {', '.join(IMAGE_EXTENSIONS)}")


_DECODED: set = set()  # paths known to decode; a file that did not is checked again next time


def _decodes(path: str) -> bool:
    if path not in _DECODED and bad_images.why_unusable(path) is None:
        _DECODED.add(path)
    return path in _DECODED


def first_usable(paths: Sequence[str]) -> Optional[str]:
    """The first of `paths` that decodes as the input pipeline decodes it, or None."""
    return next((path for path in paths if _decodes(path)), None)


def _check_usable(root: str, per_class: dict[str, list[str]]) -> None:
    """Warns for each class folder without a usable image; raises if the whole split has none."""
    usable = 0
    for name, paths in per_class.items():
        folder = os.path.join(root, name)
        if not paths:
            _log_once(logging.WARNING, f"Class folder {folder} holds no image file; it keeps its "
                      "class index but has no example. Add images or remove the folder.")
        elif first_usable(paths) is None:
            _log_once(logging.WARNING, f"Class folder {folder}: none of its {len(paths)} image "
                      f"file(s) can be used (e.g. {paths[0]}: {bad_images.why_unusable(paths[0])}); "
                      "it keeps its class index but has no example.")
        else:
            usable += 1
    if not usable:
        files = sum(len(paths) for paths in per_class.values())
        raise ValueError(f"No usable image in {root}: its {files} image file(s) are all unreadable, "
                         "not images or undecodable (each class folder is named above); replace "
                         "them or set DataConfig.data_dir to another folder")


def list_images(data_dir: str, split: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(paths, labels) of a split, interleaved across classes.

    The order is one file of each class in turn (class 0's first file, class
    1's first file, ...), so the first N examples of a subset cover all
    classes evenly and are the same on every run. Raises if the split has
    no image that decodes (see the module docstring).
    """
    root = split_dir(data_dir, split)
    index = {name: i for i, name in enumerate(class_names(data_dir))}
    classes = _subfolders(root)
    unknown = sorted(set(classes) - set(index))
    if unknown:
        raise ValueError(f"Classes {unknown} in {root} are not in the training folder")
    ignored = collections.Counter(
        f"{_ignored_kind(root, name)} outside class folders"
        for name in _listing(root) if name not in classes)
    per_class = {name: _image_files(os.path.join(root, name), ignored) for name in classes}
    _report_ignored(root, ignored)
    if not any(per_class.values()):
        raise FileNotFoundError(f"No image files ({', '.join(IMAGE_EXTENSIONS)}) under {root}")
    _check_usable(root, per_class)
    grouped = [[(path, index[name]) for path in paths] for name, paths in per_class.items()]
    interleaved = [
        pair for group in itertools.zip_longest(*grouped) for pair in group if pair is not None
    ]
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


def _listed_subset(data, split: str) -> tuple[list, list]:
    """The subset's (paths, labels); raises if a subset holds no usable image."""
    paths, labels = list_images(data.data_dir, split)
    subset = _subset(data, split, paths)
    if len(subset) < len(paths) and first_usable(subset) is None:
        raise ValueError(f"None of the first {len(subset)} {split} image(s) of {data.data_dir} "
                         "can be used; raise DataConfig.train_examples / eval_examples or fix "
                         "the files named above")
    return subset, _subset(data, split, labels)


def num_examples(data, split: str) -> int:
    """Image files in a split, after the subset."""
    return len(_listed_subset(data, split)[0])


def examples(data, split: str, *, training=False, input_context=None, seed=None) -> tf.data.Dataset:
    """Dicts {"path", "label", "name"}: the first N files, this pipeline's part."""
    del training, seed  # the order is shuffled by the pipeline
    paths, labels = _listed_subset(data, split)
    dataset = tf.data.Dataset.from_tensor_slices(
        {"path": paths, "label": tf.constant(labels, tf.int32), "name": paths}
    )
    return sharding.shard_elements(dataset, input_context)
