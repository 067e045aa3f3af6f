"""The Keras callback that reports skipped images each epoch."""

import io
import logging

import keras
import numpy as np
import tensorflow as tf

from PIL import Image

from inception.data import bad_images, callbacks, pipeline


def run_pass(split, bad_files):
    counter = bad_images.skipped_images(split)
    empty_files = {"encoded": [b""] * bad_files, "label": [0] * bad_files}
    dataset = tf.data.Dataset.from_tensor_slices(empty_files)
    spec = (tf.TensorSpec([2, 2, 3], tf.float32), tf.TensorSpec([], tf.int32))

    def decode(element):
        return tf.cast(tf.io.decode_image(element["encoded"], channels=3)[:2, :2], tf.float32), 0

    for _ in bad_images.map_skipping_undecodable(dataset, decode, spec, counter):
        pass


def capture_absl_info(caplog):
    """Records absl's INFO lines whatever an earlier test left on absl's logger.

    Saving a SavedModel (TensorFlow's autotrackable) reads the effective level
    and restores it with `absl.logging.set_verbosity`, which pins absl's own
    logger at WARNING when no absl handler is installed: setting the root
    logger's level alone then loses INFO lines, in whichever test runs after
    an export on the same worker.
    """
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="absl")


def test_logs_each_epochs_count(caplog):
    for split in bad_images.SPLITS:
        bad_images.skipped_images(split).reset()
    logger = callbacks.SkippedImagesLogger()
    capture_absl_info(caplog)
    logger.on_train_begin()
    run_pass("train", 2)
    logger.on_epoch_end(0)
    logger.on_epoch_end(1)
    run_pass("eval", 1)
    logger.on_epoch_end(2)
    messages = {(r.levelno, r.getMessage()) for r in caplog.records}
    assert {
        (logging.WARNING, "Epoch 1: train pass 1 over the data: 2 of 2 file(s) skipped "
                          "(0 unreadable, 2 not an image, 0 undecodable)."),
        (logging.INFO, "Epoch 2: no pass over the train data finished."),
        (logging.WARNING, "Epoch 3: eval pass 1 over the data: 1 of 1 file(s) skipped "
                          "(0 unreadable, 1 not an image, 0 undecodable)."),
    } <= messages


def test_works_inside_fit():
    bad_images.skipped_images("train").reset()
    model = keras.Sequential([keras.Input([2]), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(
        np.zeros([4, 2]), np.zeros([4, 1]), epochs=2, verbose=0,
        callbacks=[callbacks.SkippedImagesLogger()],
    )  # fmt: skip
    assert len(history.history["loss"]) == 2


def test_counts_are_exact_per_pass_whatever_the_prefetching(caplog):
    """8 bad files of 12: an epoch sized by the file count (6 batches of 2) spans three
    passes, and prefetching reads further ahead; each pass still counts 8."""
    counter = bad_images.skipped_images("train")
    counter.reset()
    buffer = io.BytesIO()
    Image.fromarray(np.full((12, 16, 3), 90, np.uint8)).save(buffer, "PNG")
    encoded = [buffer.getvalue()] * 4 + [b"", b"not an image"] * 4
    examples = tf.data.Dataset.from_tensor_slices(
        {"encoded": encoded, "label": list(range(12)), "name": [f"f{k}" for k in range(12)]})
    dataset = pipeline.assemble(examples, split="train", image_size=8, batch_size=2,
                                training=False, repeat=True)
    logger = callbacks.SkippedImagesLogger(splits=("train",))
    capture_absl_info(caplog)
    logger.on_train_begin()
    for _ in dataset.take(6):
        pass
    logger.on_epoch_end(0)
    assert counter.finished_passes >= 2  # the third ends when the next element is asked for
    assert counter.last_finished_pass == bad_images.PassCounts(12, 0, 8, 0)
    (message,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Epoch 1")]
    assert "8 of 12 file(s) skipped" in message
    assert counter.total > 8  # what the old per-epoch count reported: passes, run-ahead included
