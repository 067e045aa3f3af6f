"""Undecodable images are skipped, counted and reported (bad input never stops a run)."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception.data import bad_images, decoding

SPEC = (tf.TensorSpec([8, 8, 3], tf.float32), tf.TensorSpec([], tf.int32))


def jpeg(value):
    buffer = io.BytesIO()
    Image.fromarray(np.full((10, 12, 3), value, np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


GOOD = [jpeg(10 * i) for i in range(6)]
BAD = [b"", GOOD[0][:150], b"garbage" * 20]


def mixed_dataset():
    """Labels 0..5 are good images, 100..102 bad ones, interleaved."""
    encoded = GOOD[:2] + BAD[:1] + GOOD[2:4] + BAD[1:] + GOOD[4:]
    labels = [0, 1, 100, 2, 3, 101, 102, 4, 5]
    names = [f"file{label}.jpg" for label in labels]
    return tf.data.Dataset.from_tensor_slices({"encoded": encoded, "label": labels, "name": names})


def decode_small(element):
    image = tf.image.resize(decoding.decode_rgb(element["encoded"]), [8, 8]) / 255.0
    return image, element["label"]


@pytest.fixture
def counter():
    counter = bad_images.skipped_images("eval")
    counter.reset()
    return counter


def test_bad_images_are_skipped_counted_and_reported(counter, capfd):
    dataset = bad_images.map_skipping_undecodable(
        mixed_dataset(), decode_small, SPEC, counter, deterministic=True
    )
    labels = [int(label) for _, label in dataset]
    assert labels == [0, 1, 2, 3, 4, 5]  # good ones, in order
    assert counter.last_pass == 3 and counter.total == 3
    err = capfd.readouterr().err
    assert ("eval pass finished: 3 of 9 file(s) skipped "
            "(0 unreadable, 2 not an image, 1 undecodable)") in err
    assert "skipping file101.jpg: undecodable" in err


def test_counts_per_pass_and_in_total(counter):
    dataset = bad_images.map_skipping_undecodable(mixed_dataset(), decode_small, SPEC, counter)
    for _ in range(2):
        assert sorted(int(label) for _, label in dataset) == [0, 1, 2, 3, 4, 5]
        assert counter.last_pass == 3
    assert counter.total == 6
    counter.reset()
    assert counter.total == 0 and counter.last_pass == 0


def test_counter_is_a_plain_host_variable_inside_a_strategy_scope():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        counter = bad_images.SkippedImages("train")
    # A mirrored variable could live on an accelerator, out of tf.data's reach.
    assert not isinstance(counter._total, tf.distribute.DistributedValues)

    def dataset_fn(input_context):
        dataset = bad_images.map_skipping_undecodable(mixed_dataset(), decode_small, SPEC, counter)
        return dataset.batch(2)

    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    batches = list(distributed)
    assert sum(int(tf.size(labels)) for _, labels in batches) == 6
    assert counter.total == 3


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="train.*eval"):
        bad_images.skipped_images("validation")


def test_a_pass_left_half_read_leaves_nothing_in_the_next(counter):
    dataset = bad_images.map_skipping_undecodable(
        mixed_dataset(), decode_small, SPEC, counter, deterministic=True)
    for _ in dataset.take(3):  # abandoned after the first bad file
        pass
    assert [int(label) for _, label in dataset] == [0, 1, 2, 3, 4, 5]
    assert counter.last_finished_pass == bad_images.PassCounts(9, 0, 2, 1)
    assert counter.finished_passes == 1 and counter.total == 3


def test_files_that_fail_after_decoding_are_skipped_as_undecodable(counter, capfd):
    def refuse_label_3(element):
        image, label = decode_small(element)
        with tf.control_dependencies([tf.debugging.assert_none_equal(label, 3)]):
            return tf.identity(image), label

    dataset = bad_images.map_skipping_undecodable(
        mixed_dataset(), refuse_label_3, SPEC, counter, deterministic=True)
    assert [int(label) for _, label in dataset] == [0, 1, 2, 4, 5]
    assert counter.last_finished_pass == bad_images.PassCounts(9, 0, 2, 2)
    assert "skipping file3.jpg: undecodable" in capfd.readouterr().err


def test_counts_are_exact_over_many_files_decoded_in_parallel(counter):
    encoded = (GOOD + BAD) * 40  # 360 files, 120 bad
    dataset = tf.data.Dataset.from_tensor_slices(
        {"encoded": encoded, "label": list(range(len(encoded)))})
    skipping = bad_images.map_skipping_undecodable(dataset, decode_small, SPEC, counter)
    assert sum(1 for _ in skipping) == 240
    assert counter.last_finished_pass == bad_images.PassCounts(360, 0, 80, 40)
