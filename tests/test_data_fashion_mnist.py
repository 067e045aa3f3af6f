"""Fashion-MNIST, the embedded default: Debian's IDX files, else TFDS."""

import gzip
import struct

import numpy as np
import pytest
import tensorflow_datasets as tfds

from inception.config import DataConfig
from inception.data import build_dataset, dataset_info, fashion_mnist

@pytest.fixture(autouse=True)
def fresh_cache():
    fashion_mnist.load_arrays.cache_clear()
    yield
    fashion_mnist.load_arrays.cache_clear()


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip_and_bad_header(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(str(tmp_path / "a.gz"), array)
    np.testing.assert_array_equal(fashion_mnist.read_idx(str(tmp_path / "a.gz")), array)
    with gzip.open(tmp_path / "bad.gz", "wb") as f:
        f.write(bytes([0, 0, 0x0D, 1]) + struct.pack(">i", 1) + b"\0\0\0\0")
    with pytest.raises(ValueError, match="IDX"):
        fashion_mnist.read_idx(str(tmp_path / "bad.gz"))


def test_real_files_sizes_and_labels():
    # The Debian package dataset-fashion-mnist (scripts/setup.sh installs it).
    info = dataset_info(DataConfig(source="fashion_mnist"))
    assert (info.num_classes, info.train_examples, info.eval_examples) == (10, 60_000, 10_000)
    images, labels = fashion_mnist.load_arrays("eval")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == list(range(10))


@pytest.mark.parametrize("training", [True, False])
def test_real_files_through_build_dataset(training):
    data = DataConfig(source="fashion_mnist", train_examples=64, eval_examples=64)
    dataset = build_dataset(data, split="train" if training else "eval", image_size=32,
                            batch_size=16, training=training)  # fmt: skip
    for images, labels in dataset.take(3):
        assert images.shape == (16, 32, 32, 3) and labels.shape == (16,)
        assert -1.0 <= images.numpy().min() and images.numpy().max() <= 1.0
        # Grey in, grey out: the three channels stay equal.
        np.testing.assert_allclose(images[..., 0], images[..., 2], atol=1e-5)
        assert set(labels.numpy().tolist()) <= set(range(10))


def test_subset_is_the_first_examples(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    for (image_file, label_file) in fashion_mnist.FILES.values():
        write_idx(str(tmp_path / image_file), images)
        write_idx(str(tmp_path / label_file), labels)
    data = DataConfig(source="fashion_mnist", data_dir=str(tmp_path), eval_examples=5)
    assert dataset_info(data).eval_examples == 5
    dataset = build_dataset(data, split="eval", image_size=28, batch_size=5, training=False)
    assert [int(y) for y in next(iter(dataset))[1]] == [0, 1, 2, 3, 4]


def test_falls_back_to_tfds_when_debian_files_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path))
    with tfds.testing.mock_data(num_examples=7, policy=tfds.testing.MockPolicy.USE_CODE):
        images, labels = fashion_mnist.load_arrays("train")
    assert images.shape == (7, 28, 28) and labels.shape == (7,)


def test_one_clear_error_when_neither_source_works(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path))

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(fashion_mnist, "_from_tfds", offline)
    with pytest.raises(FileNotFoundError) as error:
        fashion_mnist.load_arrays("eval")
    message = str(error.value)
    assert str(tmp_path) in message and "dataset-fashion-mnist" in message
    assert "t10k-images-idx3-ubyte.gz" in message and "no network" in message
