"""A user's image folders: classes, splits, bad files (SPEC section 4)."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from inception.config import DataConfig
from inception.data import build_dataset, dataset_info, folder, skipped_images


def write_image(path, fmt="JPEG", mode="RGB", size=(40, 30)):
    pixels = np.random.default_rng(len(path)).integers(0, 256, (size[1], size[0], 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())
    return buffer.getvalue()


def make_folder(root, split="train", classes=("cat", "dog"), per_class=2):
    for name in classes:
        os.makedirs(os.path.join(root, split, name), exist_ok=True)
        for i in range(per_class):
            write_image(os.path.join(root, split, name, f"{i}.jpg"))
    return str(root)


def test_class_index_is_the_sorted_folder_name(tmp_path):
    root = make_folder(tmp_path, classes=("zebra", "ant", "moth"), per_class=1)
    assert folder.class_names(root) == ("ant", "moth", "zebra")
    paths, labels = folder.list_images(root, "train")
    assert [os.path.basename(os.path.dirname(p)) for p in paths] == ["ant", "moth", "zebra"]
    assert labels == (0, 1, 2)


def test_good_files_decode_and_bad_files_are_skipped_and_counted(tmp_path):
    root = make_folder(tmp_path, split="train", classes=("a", "b"), per_class=1)
    cls = tmp_path / "eval" / "a"
    cls.mkdir(parents=True)
    good = [
        write_image(str(cls / "rgb.jpg")),
        write_image(str(cls / "grey.jpg"), mode="L"),
        write_image(str(cls / "cmyk.JPEG"), mode="CMYK"),
        write_image(str(cls / "png_named.jpg"), fmt="PNG"),
        write_image(str(cls / "real.png"), fmt="PNG", mode="RGBA"),
    ]
    (cls / "zero_bytes.jpg").write_bytes(b"")
    (cls / "truncated.jpg").write_bytes(good[0][: len(good[0]) // 2])
    (cls / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg" * 5)
    (cls / "notes.txt").write_text("not an image, and not counted")
    assert dataset_info(DataConfig(source="folder", data_dir=root)).eval_examples == 8
    counter = skipped_images("eval")
    counter.reset()
    dataset = build_dataset(
        DataConfig(source="folder", data_dir=root), split="eval", image_size=32,
        batch_size=3, training=False,
    )  # fmt: skip
    images = np.concatenate([x.numpy() for x, _ in dataset])
    assert images.shape == (5, 32, 32, 3)
    assert counter.last_pass == 3


def test_eval_folder_may_be_called_validation(tmp_path):
    make_folder(tmp_path, split="train")
    make_folder(tmp_path, split="validation", per_class=1)
    assert folder.split_dir(str(tmp_path), "eval").endswith("validation")
    assert dataset_info(DataConfig(source="folder", data_dir=str(tmp_path))).eval_examples == 2


def test_missing_split_names_the_expected_folders(tmp_path):
    make_folder(tmp_path, split="train")
    with pytest.raises(FileNotFoundError, match="eval.*validation.*val"):
        folder.list_images(str(tmp_path), "eval")


def test_eval_classes_must_exist_in_training(tmp_path):
    make_folder(tmp_path, split="train", classes=("a",))
    make_folder(tmp_path, split="eval", classes=("a", "b"))
    with pytest.raises(ValueError, match="'b'"):
        folder.list_images(str(tmp_path), "eval")


def test_subset_takes_classes_in_turn(tmp_path):
    root = make_folder(tmp_path, classes=("a", "b", "c"), per_class=3)
    data = DataConfig(source="folder", data_dir=root, train_examples=4)
    assert dataset_info(data).train_examples == 4
    dataset = build_dataset(data, split="train", image_size=16, batch_size=4, training=False)
    assert [int(y) for _, y in dataset.unbatch()] == [0, 1, 2, 0]
