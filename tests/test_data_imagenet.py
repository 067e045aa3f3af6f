"""ImageNet through TFDS imagenet2012, offline (the paper's data, sections 8 and 10).

The real builder is used with `tfds.testing.mock_data`. The builder needs its
metadata (split sizes and files) to read, so a fixture writes that metadata
for a tiny dataset (`MockPolicy.USE_FILES`); the records themselves come from
`fake_records`, shaped like TFDS's: encoded JPEG bytes, label, file_name.
Validation example i (1-based) has label i, so outputs name their inputs.
"""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from inception.config import DataConfig
from inception.data import build_dataset, dataset_info, imagenet, skipped_images

SHARD_LENGTHS = {"train": [4, 4], "validation": [10]}


def jpeg(value, size=(30, 20)):
    buffer = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def fake_records(split):
    if split == "validation":
        names = [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 11)]
        return [jpeg(20 * i) for i in range(1, 11)], list(range(1, 11)), names
    names = [f"n0144076{i % 2}_{i}.JPEG" for i in range(8)]
    return [jpeg(20 * i) for i in range(8)], list(range(8)), names


@pytest.fixture(scope="module")
def metadata_dir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("tfds"))
    builder = tfds.builder("imagenet2012", data_dir=root)
    splits = [
        tfds.core.SplitInfo(
            name=name,
            shard_lengths=lengths,
            num_bytes=0,
            filename_template=tfds.core.ShardedFileTemplate(
                data_dir=builder.data_dir, dataset_name="imagenet2012", split=name,
                filetype_suffix="tfrecord",
            ),
        )  # fmt: skip
        for name, lengths in SHARD_LENGTHS.items()
    ]
    builder.info.set_splits(tfds.core.SplitDict(splits))
    os.makedirs(builder.data_dir)
    builder.info.write_to_directory(builder.data_dir)
    return root


class Mock:
    """What the mocked TFDS was asked (`calls`), and which labels to corrupt."""

    def __init__(self):
        self.calls = []
        self.corrupt = set()


@pytest.fixture
def mocked(metadata_dir):
    """Mocks TFDS reads of the tiny dataset, sharding records by file like TFDS."""
    mock = Mock()

    def as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False):
        mock.calls.append({"split": str(split), "read_config": read_config})
        images, labels, names = fake_records(str(split))
        images = [im[:100] if label in mock.corrupt else im for im, label in zip(images, labels)]
        context = read_config.input_context if read_config else None
        keep = [True] * len(labels)
        if context is not None:
            lengths = SHARD_LENGTHS[str(split)]
            file_of = np.repeat(np.arange(len(lengths)), lengths)
            keep = [f % context.num_input_pipelines == context.input_pipeline_id for f in file_of]
        records = {"image": images, "label": labels, "file_name": names}
        records = {key: [v for v, k in zip(values, keep) if k] for key, values in records.items()}
        return tf.data.Dataset.from_tensor_slices(records)

    with tfds.testing.mock_data(
        policy=tfds.testing.MockPolicy.USE_FILES, data_dir=metadata_dir, as_dataset_fn=as_dataset
    ):
        yield mock


def eval_ids(data, **kwargs):
    dataset = build_dataset(
        data, split="eval", image_size=16, batch_size=4, training=False, **kwargs
    )
    return [int(label) for _, labels in dataset for label in labels]


def test_validation_index_from_file_name():
    names = tf.constant(["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00050000.JPEG"])
    assert imagenet.validation_index(names).numpy().tolist() == [1, 50000]


def test_read_blacklist(tmp_path):
    (tmp_path / "blacklist.txt").write_text("36\n50\n\n36\n")
    assert imagenet.read_blacklist(str(tmp_path / "blacklist.txt")) == {36, 50}


def test_missing_data_names_the_manual_directory(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        build_dataset(DataConfig(data_dir=str(tmp_path)), split="eval", image_size=32,
                      batch_size=2, training=False)  # fmt: skip
    message = str(error.value)
    assert os.path.join(str(tmp_path), "downloads", "manual") in message
    assert "ILSVRC2012_img_val.tar" in message and "ILSVRC2012_img_train.tar" in message
    with pytest.raises(FileNotFoundError, match="/my/archives"):
        dataset_info(DataConfig(data_dir=str(tmp_path), manual_dir="/my/archives"))


def test_archives_in_the_manual_directory_are_prepared(tmp_path, monkeypatch):
    manual = tmp_path / "downloads" / "manual"
    manual.mkdir(parents=True)
    (manual / "ILSVRC2012_img_val.tar").write_bytes(b"")
    prepared_from = []

    def download_and_prepare(self, download_config=None, **kwargs):
        prepared_from.append(download_config.manual_dir)

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)
    with pytest.raises(FileNotFoundError):  # our fake prepared nothing
        imagenet.prepared_builder(DataConfig(data_dir=str(tmp_path)), "eval")
    assert prepared_from == [str(manual)]


def test_blacklist_leaves_exactly_the_listed_images_out(mocked, metadata_dir, tmp_path):
    (tmp_path / "blacklist.txt").write_text("2\n5\n7\n")
    data = DataConfig(data_dir=metadata_dir, blacklist_file=str(tmp_path / "blacklist.txt"))
    assert sorted(eval_ids(data)) == [1, 3, 4, 6, 8, 9, 10]
    assert dataset_info(data).eval_examples == 7
    assert sorted(eval_ids(DataConfig(data_dir=metadata_dir))) == list(range(1, 11))
    assert mocked.calls[-1]["split"] == "validation"


def test_subset_after_blacklist_and_info(mocked, metadata_dir, tmp_path):
    (tmp_path / "blacklist.txt").write_text("1\n")
    data = DataConfig(data_dir=metadata_dir, blacklist_file=str(tmp_path / "blacklist.txt"),
                      eval_examples=3, train_examples=5)  # fmt: skip
    assert eval_ids(data, deterministic=True) == [2, 3, 4]
    info = dataset_info(data)
    assert (info.name, info.num_classes, info.train_examples, info.eval_examples) == (
        "imagenet2012", 1000, 5, 3,
    )  # fmt: skip


@pytest.mark.parametrize("size", [299, 79])
def test_training_batches(mocked, metadata_dir, size):
    dataset = build_dataset(DataConfig(data_dir=metadata_dir), split="train", image_size=size,
                            batch_size=3, training=True, repeat=True)  # fmt: skip
    for images, labels in dataset.take(4):  # repeats past the 8 examples
        assert images.shape == (3, size, size, 3) and images.dtype == tf.float32
        assert labels.dtype == tf.int32
        assert -1.0 <= images.numpy().min() and images.numpy().max() <= 1.0


def test_multi_crop_eval(mocked, metadata_dir):
    dataset = build_dataset(DataConfig(data_dir=metadata_dir, eval_examples=2), split="eval",
                            image_size=16, batch_size=2, training=False, crops=12)  # fmt: skip
    images, labels = next(iter(dataset))
    assert images.shape == (2, 12, 16, 16, 3) and labels.shape == (2,)


@pytest.mark.parametrize("pipelines, by_file", [(2, True), (3, False)])
def test_sharding_by_file_or_by_element(mocked, metadata_dir, pipelines, by_file):
    parts = []
    for i in range(pipelines):
        context = tf.distribute.InputContext(pipelines, i, 1)
        dataset = build_dataset(
            DataConfig(data_dir=metadata_dir), split="train", image_size=16, batch_size=1,
            training=True, repeat=False, input_context=context,
        )  # fmt: skip
        parts.append([int(label) for _, labels in dataset for label in labels])
        assert (mocked.calls[-1]["read_config"].input_context is not None) == by_file
    assert sorted(sum(parts, [])) == list(range(8))


def test_corrupt_records_are_skipped_and_counted(mocked, metadata_dir):
    mocked.corrupt = {4}
    skipped_images("eval").reset()
    assert sorted(eval_ids(DataConfig(data_dir=metadata_dir))) == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert skipped_images("eval").last_pass == 1
