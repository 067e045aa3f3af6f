"""A user's image folders: classes, splits, bad files (fine-tuning data)."""

import dataclasses
import io
import logging
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception.config import DataConfig
from inception.data import bad_images, build_dataset, dataset_info, folder, skipped_images


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


# -- every decodable format, and what is not used said in one line

# A 10x6 JPEG XL image of one colour (200, 30, 90), encoded losslessly once with
# libjxl (pillow-jxl-plugin); no encoder is needed to run the tests.
JXL_10x6 = (b"\xff\n(P\x10\t\x08\x00\x01\x00d\x00K\x18\x8b\x15\x00\xd4\x881\xde1\xc6;\x80\xda0"
            b"\xec^\xc9\x0fD\xa2\xa0[\x81\n")


def test_every_format_the_decoder_reads_is_used(tmp_path):
    make_folder(tmp_path, split="train", classes=("a",), per_class=1)
    cls = tmp_path / "eval" / "a"
    cls.mkdir(parents=True)
    for fmt, ext in [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("BMP", "bmp"),
                     ("WEBP", "webp"), ("WEBP", "WebP")]:
        write_image(str(cls / f"{fmt.lower()}_{ext}.{ext}"), fmt=fmt)
    translucent = np.dstack([np.full((30, 40, 3), 99, np.uint8), np.full((30, 40, 1), 90, np.uint8)])
    Image.fromarray(translucent).save(cls / "translucent.webp", "WEBP", lossless=True)
    (cls / "one_colour.jxl").write_bytes(JXL_10x6)
    data = DataConfig(source="folder", data_dir=str(tmp_path))
    assert dataset_info(data).eval_examples == 8
    skipped_images("eval").reset()
    dataset = build_dataset(data, split="eval", image_size=8, batch_size=8, training=False)
    (images, labels), = list(dataset)
    assert images.shape == (8, 8, 8, 3)
    assert skipped_images("eval").last_finished_pass.skipped == 0
    # The JPEG XL file: its colour, scaled to [-1, 1].
    jxl_row = folder.list_images(str(tmp_path), "eval")[0].index(str(cls / "one_colour.jxl"))
    np.testing.assert_allclose(images[jxl_row].numpy().reshape(-1, 3).mean(0),
                               np.array([200, 30, 90]) / 127.5 - 1, atol=0.02)


def test_files_that_are_not_images_by_name_are_counted_in_one_line(tmp_path, caplog):
    root = make_folder(tmp_path, split="train", classes=("a", "b"), per_class=1)
    (tmp_path / "train" / "a" / "notes.txt").write_text("x")
    (tmp_path / "train" / "a" / "scan.tiff").write_bytes(b"II*\x00")
    (tmp_path / "train" / "b" / "scan.TIFF").write_bytes(b"II*\x00")
    (tmp_path / "train" / "b" / "README").write_text("x")
    (tmp_path / "train" / "b" / "more").mkdir()
    (tmp_path / "train" / "labels.csv").write_text("x")
    caplog.set_level(logging.INFO)
    for _ in range(2):
        paths, _ = folder.list_images(root, "train")
    assert len(paths) == 2
    lines = [r.getMessage() for r in caplog.records if "not images by their name" in r.getMessage()]
    assert lines == [
        f"Ignored 6 entries of {tmp_path / 'train'} that are not images by their name "
        "((folder): 1, (no extension): 1, .csv outside class folders: 1, .tiff: 2, .txt: 1); "
        f"images must end in {', '.join(folder.IMAGE_EXTENSIONS)}"]


# -- skipped files: named, with their reason; counts exact per pass


def test_each_skipped_file_is_named_once_with_its_reason(tmp_path, capfd):
    root = make_folder(tmp_path, split="train", classes=("a",), per_class=1)
    cls = tmp_path / "eval" / "a"
    cls.mkdir(parents=True)
    good = write_image(str(cls / "good.jpg"))
    (cls / "a_folder.jpg").mkdir()
    (cls / "empty.png").write_bytes(b"")
    (cls / "text.png").write_text("hello, not a picture")
    (cls / "truncated.jpg").write_bytes(good[: len(good) // 2])
    data = DataConfig(source="folder", data_dir=root)
    counter = skipped_images("eval")
    counter.reset()
    capfd.readouterr()
    dataset = build_dataset(data, split="eval", image_size=8, batch_size=8, training=False)
    for _ in range(2):
        assert sum(int(tf.size(labels)) for _, labels in dataset) == 1
        assert counter.last_finished_pass == bad_images.PassCounts(
            files=5, unreadable=1, not_an_image=2, undecodable=1)
    err = capfd.readouterr().err
    for path, reason in [("a_folder.jpg", "unreadable"), ("empty.png", "not an image"),
                         ("text.png", "not an image"), ("truncated.jpg", "undecodable")]:
        assert err.count(f"skipping {cls / path}: {reason}") == 1, err  # once, not every pass
    assert err.count("eval pass finished: 4 of 5 file(s) skipped "
                     "(1 unreadable, 2 not an image, 1 undecodable)") == 2


# -- no usable image: a clear error before training; an empty class: a warning


def test_a_split_without_a_usable_image_is_an_error_before_training(tmp_path):
    make_folder(tmp_path, split="train", classes=("a", "b"), per_class=0)
    (tmp_path / "train" / "a" / "empty.jpg").write_bytes(b"")
    (tmp_path / "train" / "b" / "text.png").write_text("not a picture")
    with pytest.raises(ValueError, match=r"No usable image in .*train: its 2 image file\(s\)"):
        dataset_info(DataConfig(source="folder", data_dir=str(tmp_path)))


def test_a_subset_without_a_usable_image_is_an_error(tmp_path):
    make_folder(tmp_path, split="train", classes=("a",), per_class=2)
    (tmp_path / "train" / "a" / "-bad.jpg").write_bytes(b"")  # sorted first
    data = DataConfig(source="folder", data_dir=str(tmp_path), train_examples=1)
    with pytest.raises(ValueError, match="None of the first 1 train image"):
        dataset_info(data)
    assert dataset_info(dataclasses.replace(data, train_examples=2)).train_examples == 2


def test_class_folders_without_a_usable_image_are_named_in_a_warning(tmp_path, caplog):
    root = make_folder(tmp_path, split="train", classes=("a", "b", "c"), per_class=1)
    os.remove(os.path.join(root, "train", "b", "0.jpg"))
    with open(os.path.join(root, "train", "c", "0.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 not really")
    caplog.set_level(logging.WARNING)
    assert folder.class_names(root) == ("a", "b", "c")  # indices stay those of the folder names
    paths, labels = folder.list_images(root, "train")
    assert labels == (0, 2)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"Class folder {os.path.join(root, 'train', 'b')} holds no image file" in w
               for w in warnings), warnings
    assert any(f"Class folder {os.path.join(root, 'train', 'c')}: none of its 1 image file(s)" in w
               and "undecodable" in w for w in warnings), warnings


def test_a_folder_that_cannot_be_listed_is_one_clear_error(tmp_path, monkeypatch):
    root = make_folder(tmp_path, split="train", classes=("a", "b"), per_class=1)
    locked = os.path.join(root, "train", "b")
    listdir = tf.io.gfile.listdir

    def listdir_as_another_user(path):
        # Tests run as root, who may list any folder: refuse one as the OS would.
        if os.path.normpath(path) == locked:
            raise tf.errors.PermissionDeniedError(None, None, f"{path}; Permission denied")
        return listdir(path)

    monkeypatch.setattr(tf.io.gfile, "listdir", listdir_as_another_user)
    with pytest.raises(OSError) as raised:
        folder.list_images(root, "train")
    assert not isinstance(raised.value, FileNotFoundError)  # dataset_info must not hide it
    message = str(raised.value)
    assert "\n" not in message and f"Cannot list the folder {locked}" in message
    assert "Permission denied" in message and "chmod" in message
