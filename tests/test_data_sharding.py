"""Each tf.distribute input pipeline gets its own part of the data."""

import numpy as np
import tensorflow as tf
from PIL import Image

from inception.config import DataConfig
from inception.data import build_dataset, sharding


def make_folder(root, classes):
    """One small JPEG per class, so a label names its image."""
    for name in classes:
        (root / "train" / name).mkdir(parents=True)
        Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(root / "train" / name / "0.jpg")
    return str(root)


def contexts(n):
    return [tf.distribute.InputContext(n, i, 1) for i in range(n)]


def test_shard_elements_are_disjoint_and_cover():
    dataset = tf.data.Dataset.range(10)
    parts = [[int(x) for x in sharding.shard_elements(dataset, ctx)] for ctx in contexts(3)]
    assert sorted(sum(parts, [])) == list(range(10))
    assert all(len(set(a) & set(b)) == 0 for a in parts for b in parts if a is not b)


def test_no_context_means_everything():
    assert len(list(sharding.shard_elements(tf.data.Dataset.range(5), None))) == 5


def test_pipeline_seeds_differ_and_none_stays_none():
    assert len({sharding.pipeline_seed(3, ctx) for ctx in contexts(4)}) == 4
    assert sharding.pipeline_seed(None, contexts(2)[1]) is None


def test_build_dataset_parts_are_disjoint_and_cover(tmp_path):
    classes = [f"class{i}" for i in range(7)]  # one image each: the label names the image
    root = make_folder(tmp_path, classes)
    data = DataConfig(source="folder", data_dir=root)
    parts = []
    for ctx in contexts(3):
        dataset = build_dataset(
            data, split="train", image_size=16, batch_size=1, training=True, repeat=False,
            input_context=ctx,
        )  # fmt: skip
        parts.append({int(label) for _, labels in dataset for label in labels})
    assert set().union(*parts) == set(range(7))
    assert sum(len(p) for p in parts) == 7
