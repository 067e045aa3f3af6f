"""Fashion-MNIST, the embedded default dataset (the small profile's, `inception.profiles.small`).

Read from the original IDX files that Debian's `dataset-fashion-mnist` package
installs in /usr/share/datasets/fashion-mnist/ (or from `DataConfig.data_dir`
when that folder holds the same four files); where they are missing, from TFDS
`fashion_mnist` (which downloads it when the machine is online). 60,000
training and 10,000 test images, 28x28 grey, labels 0..9; the "eval" split is
the test set. Images become three identical channels here; the pipeline then
resizes them to the experiment's input size with the usual preprocessing.
"""

from __future__ import annotations

import functools
import gzip
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from inception.data import sharding

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "eval": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
TFDS_NAME = "fashion_mnist"
TFDS_SPLITS = {"train": "train", "eval": "test"}
NUM_CLASSES = 10
TRAIN_EXAMPLES = 60_000  # the published training split (the test split has 10,000)
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

_IDX_UNSIGNED_BYTE = 0x08


def read_idx(path: str) -> np.ndarray:
    """Reads a (gzipped) IDX file of unsigned bytes into an array.

    Hand-written: TF and Keras only read these files through their own
    downloaders. IDX = two zero bytes, a type byte (0x08: uint8), a byte with
    the number of dimensions, each dimension as a big-endian int32, the data.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zeros, dtype_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    if zeros != 0 or dtype_code != _IDX_UNSIGNED_BYTE:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, but holds {data.size} values")
    return data.reshape(shape)


def _idx_dir(data_dir: Optional[str], split: str) -> Optional[str]:
    """The first of data_dir and the Debian folder that holds the split's files."""
    for folder in (data_dir, DEBIAN_DIR):
        if folder and all(os.path.exists(os.path.join(folder, f)) for f in FILES[split]):
            return folder
    return None


def _from_tfds(data_dir: Optional[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow_datasets as tfds  # only on this fallback path

    dataset = tfds.load(TFDS_NAME, split=TFDS_SPLITS[split], data_dir=data_dir, as_supervised=True)
    images, labels = tfds.as_numpy(dataset.batch(1 << 20).get_single_element())  # all of it
    return images.reshape(images.shape[:3]), labels


@functools.lru_cache(maxsize=4)
def load_arrays(split: str, data_dir: Optional[str] = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels int32 [N]) of "train" or "eval"."""
    folder = _idx_dir(data_dir, split)
    if folder is not None:
        images_file, labels_file = (os.path.join(folder, f) for f in FILES[split])
        images, labels = read_idx(images_file), read_idx(labels_file)
    else:
        try:
            images, labels = _from_tfds(data_dir, split)
        except Exception as error:  # any TFDS failure: offline, not installed, ...
            raise FileNotFoundError(
                f"Fashion-MNIST not found: no {' and '.join(FILES[split])} in "
                f"{DEBIAN_DIR} (install the Debian package {DEBIAN_PACKAGE}) or in "
                f"DataConfig.data_dir={data_dir!r}, and TFDS could not provide "
                f"'{TFDS_NAME}' ({type(error).__name__}: {error})"
            ) from error
    if len(images) != len(labels):
        raise ValueError(f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int32)


def name(data) -> str:
    return TFDS_NAME


def num_classes(data) -> int:
    return NUM_CLASSES


def num_examples(data, split: str) -> int:
    count = len(load_arrays(split, data.data_dir)[1])
    limit = data.train_examples if split == "train" else data.eval_examples
    return count if limit is None else min(limit, count)


def examples(data, split: str, *, training=False, input_context=None, seed=None) -> tf.data.Dataset:
    """Dicts {"image": uint8 [28, 28, 3], "label"}: the first N, this pipeline's part."""
    del training, seed  # the order is shuffled by the pipeline
    images, labels = load_arrays(split, data.data_dir)
    count = num_examples(data, split)
    dataset = tf.data.Dataset.from_tensor_slices(
        {"image": images[:count, :, :, np.newaxis], "label": labels[:count]}
    )
    dataset = sharding.shard_elements(dataset, input_context)
    return dataset.map(
        lambda e: {"image": tf.image.grayscale_to_rgb(e["image"]), "label": e["label"]}
    )
