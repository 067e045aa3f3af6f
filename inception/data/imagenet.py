"""ImageNet (ILSVRC2012) through TFDS `imagenet2012`, the paper's data (sections 8 and 10).

The archives cannot be downloaded automatically: the user puts
ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar in TFDS's manual
directory (`<data_dir>/downloads/manual/`, or `DataConfig.manual_dir`), and
TFDS prepares the dataset on first use. Nothing is fetched from the network.

Preparing takes hours and must happen once, before a multi-worker run (for
example `inception.data.dataset_info(config.data)` on one machine); it needs
TFDS's full dependencies (`importlib_resources` among them).

Records are read with the image left encoded (`SkipDecoding`), so the pipeline
can decode only the crop window of each JPEG. The "eval" split is the 50,000
validation images, less the ILSVRC2014 devkit blacklist when
`DataConfig.blacklist_file` names it (1,762 images, leaving 48,238).

With a `tf.distribute.InputContext`, each input pipeline reads its own TFDS
files (1,024 train and 64 validation files); subsets and splits with fewer
files than pipelines are sharded by element instead.
"""

from __future__ import annotations

import os
from typing import Optional

import tensorflow as tf
import tensorflow_datasets as tfds

from inception.data import sharding

TFDS_NAME = "imagenet2012"
TFDS_SPLITS = {"train": "train", "eval": "validation"}
ARCHIVES = {"train": "ILSVRC2012_img_train.tar", "eval": "ILSVRC2012_img_val.tar"}
NUM_CLASSES = 1000


def manual_dir(data, builder) -> str:
    """Where TFDS expects the archives: `DataConfig.manual_dir`, else its default."""
    if data.manual_dir:
        return data.manual_dir
    root = data.data_dir or os.fspath(builder.data_dir_root)
    return os.path.join(root, "downloads", "manual")


def _missing_data_error(data, split: str, builder) -> FileNotFoundError:
    folder = manual_dir(data, builder)
    return FileNotFoundError(
        f"ImageNet ('{TFDS_NAME}') has no prepared {TFDS_SPLITS[split]} split in "
        f"{builder.data_dir}, and {ARCHIVES[split]} is not in the TFDS manual "
        f"directory {folder}. Download {ARCHIVES['train']} and {ARCHIVES['eval']} "
        f"from https://image-net.org (registration required) into {folder}; "
        f"TFDS prepares the dataset from them on first use."
    )


def prepared_builder(data, split: str):
    """The TFDS builder with `split` prepared, preparing it from the archives if needed."""
    builder = tfds.builder(TFDS_NAME, data_dir=data.data_dir)
    tfds_split = TFDS_SPLITS[split]
    if tfds_split in builder.info.splits:
        return builder
    archives = manual_dir(data, builder)
    if not tf.io.gfile.exists(os.path.join(archives, ARCHIVES[split])):
        raise _missing_data_error(data, split, builder)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=archives)
    )
    if tfds_split not in builder.info.splits:
        raise _missing_data_error(data, split, builder)
    return builder


def read_blacklist(path: str) -> frozenset[int]:
    """1-based validation indices, one per line (the ILSVRC2014 devkit's
    `ILSVRC2014_clsloc_validation_blacklist.txt`); blank lines are ignored."""
    with tf.io.gfile.GFile(path) as f:
        return frozenset(int(line) for line in f.read().split())


def validation_index(file_name: tf.Tensor) -> tf.Tensor:
    """ILSVRC2012_val_00000001.JPEG -> 1: the 1-based index the blacklist uses."""
    digits = tf.strings.regex_replace(file_name, r"^.*_(\d+)\.[^.]*$", r"\1")
    return tf.strings.to_number(digits, tf.int64)


def _not_blacklisted(blacklist: frozenset[int]):
    listed = tf.constant(sorted(blacklist), tf.int64)

    def keep(example):
        return tf.logical_not(tf.reduce_any(tf.equal(validation_index(example["name"]), listed)))

    return keep


def name(data) -> str:
    return TFDS_NAME


def num_classes(data) -> int:
    return NUM_CLASSES


def _subset_size(data, split: str) -> Optional[int]:
    return data.train_examples if split == "train" else data.eval_examples


def num_examples(data, split: str) -> int:
    """Examples in a split after the blacklist and the subset."""
    builder = prepared_builder(data, split)
    count = builder.info.splits[TFDS_SPLITS[split]].num_examples
    if split == "eval" and data.blacklist_file:
        count -= sum(1 for i in read_blacklist(data.blacklist_file) if 1 <= i <= count)
    limit = _subset_size(data, split)
    return count if limit is None else min(limit, count)


def examples(
    data,
    split: str,
    *,
    training: bool,
    input_context: Optional[tf.distribute.InputContext] = None,
    seed: Optional[int] = None,
) -> tf.data.Dataset:
    """Dicts {"encoded": JPEG bytes, "label": int32, "name": file name}."""
    builder = prepared_builder(data, split)
    tfds_split = TFDS_SPLITS[split]
    subset = _subset_size(data, split)
    files = len(builder.info.splits[tfds_split].file_instructions)
    # Subsets are "the first N", so they are read in stored order and in full.
    shard_files = subset is None and files >= sharding.num_pipelines(input_context) > 1
    dataset = builder.as_dataset(
        split=tfds_split,
        shuffle_files=training and subset is None,
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=tfds.ReadConfig(
            shuffle_seed=seed, input_context=input_context if shard_files else None
        ),
    )
    dataset = dataset.map(
        lambda ex: {
            "encoded": ex["image"],
            "label": tf.cast(ex["label"], tf.int32),
            "name": ex["file_name"],
        }
    )
    if split == "eval" and data.blacklist_file:
        dataset = dataset.filter(_not_blacklisted(read_blacklist(data.blacklist_file)))
    if subset is not None:
        dataset = dataset.take(subset)
    return dataset if shard_files else sharding.shard_elements(dataset, input_context)
