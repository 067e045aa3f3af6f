"""build_dataset / dataset_info: the API the trainer and evaluator use."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from inception.config import DataConfig
from inception.data import DatasetInfo, build_dataset, dataset_info


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("eval", 3)):
        for name in ("a", "b"):
            (root / split / name).mkdir(parents=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (30 + 5 * i, 40, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i}.jpg")
    return DataConfig(source="folder", data_dir=str(root))


@pytest.mark.parametrize("size", [299, 151, 79, 32])
def test_train_and_eval_shapes_for_the_papers_input_sizes(image_folder, size):
    for training in (True, False):
        dataset = build_dataset(image_folder, split="train" if training else "eval",
                                image_size=size, batch_size=2, training=training)  # fmt: skip
        images, labels = next(iter(dataset))
        assert images.shape == (2, size, size, 3) and images.dtype.name == "float32"
        assert labels.shape == (2,) and labels.dtype.name == "int32"
        assert -1.0 <= images.numpy().min() and images.numpy().max() <= 1.0


@pytest.mark.parametrize("crops", [12, 144])
def test_multi_crop_shapes(image_folder, crops):
    dataset = build_dataset(image_folder, split="eval", image_size=32, batch_size=4,
                            training=False, crops=crops)  # fmt: skip
    shapes = [tuple(images.shape) for images, _ in dataset]
    assert shapes == [(4, crops, 32, 32, 3), (2, crops, 32, 32, 3)]


def test_dataset_info(image_folder):
    info = dataset_info(image_folder)
    assert isinstance(info, DatasetInfo)
    assert (info.num_classes, info.train_examples, info.eval_examples) == (2, 6, 6)
    with pytest.raises(Exception):
        info.num_classes = 3  # frozen


def test_training_repeats_unless_told_not_to(image_folder):
    def count(**kwargs):
        dataset = build_dataset(image_folder, split="train", image_size=16, batch_size=4,
                                training=True, **kwargs)  # fmt: skip
        return sum(1 for _ in dataset.take(10))

    assert count() == 10  # repeats
    assert count(repeat=False) == 1  # 6 images, remainder dropped


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        ({"source": "cifar"}, {}, "fashion_mnist.*folder.*imagenet"),
        ({}, {"split": "validation"}, "train.*eval"),
        ({}, {"crops": 10}, "1, 12, 144"),
        ({}, {"crops": 12, "training": True}, "evaluation"),
    ],
)
def test_wrong_arguments_name_the_valid_choices(image_folder, change, kwargs, message):
    data = dataclasses.replace(image_folder, **change)
    arguments = {"split": "eval", "image_size": 16, "batch_size": 2, "training": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        build_dataset(data, **arguments)


def test_wrong_source_in_dataset_info():
    with pytest.raises(ValueError, match="imagenet"):
        dataset_info(DataConfig(source="mnist"))
