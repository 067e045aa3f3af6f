"""build_dataset / dataset_info: the API the trainer and evaluator use."""

import dataclasses

import numpy as np
import pytest
import keras
import tensorflow as tf
from PIL import Image

from inception.config import DataConfig
from inception.data import DatasetInfo, build_dataset, dataset_info, steps_per_epoch


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


def test_training_repeats_under_tf_distribute_one_pass_otherwise(image_folder):
    def count(**kwargs):
        dataset = build_dataset(image_folder, split="train", image_size=16, batch_size=4,
                                training=True, **kwargs)  # fmt: skip
        return sum(1 for _ in dataset.take(10))

    context = tf.distribute.InputContext()  # what the trainer's dataset function receives
    assert count() == 1  # one pass (6 images, remainder dropped): model.fit(ds, epochs=N)
    assert count(input_context=context) == 10  # the trainer's pipeline repeats
    assert count(repeat=True) == 10
    assert count(input_context=context, repeat=False) == 1


def test_fit_on_a_training_dataset_finishes_each_epoch(image_folder):
    """`model.fit(ds, epochs=2)` on the default training dataset leaves epoch 1 (it used to repeat)."""
    dataset = build_dataset(image_folder, split="train", image_size=16, batch_size=2, training=True)
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_steps_per_epoch_counts_one_training_pass(image_folder):
    assert steps_per_epoch(image_folder, batch_size=4) == 1  # 6 images, remainder dropped
    assert steps_per_epoch(image_folder, batch_size=2) == 3
    dataset = build_dataset(image_folder, split="train", image_size=16, batch_size=2, training=True)
    assert sum(1 for _ in dataset) == 3
    with pytest.raises(ValueError, match="batch_size"):
        steps_per_epoch(image_folder, batch_size=0)


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
