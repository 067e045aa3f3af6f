"""The Keras callback that reports skipped images each epoch."""

import logging

import keras
import numpy as np
import tensorflow as tf

from inception.data import bad_images, callbacks


def run_pass(split, bad_files):
    counter = bad_images.skipped_images(split)
    empty_files = {"encoded": [b""] * bad_files, "label": [0] * bad_files}
    dataset = tf.data.Dataset.from_tensor_slices(empty_files)
    spec = (tf.TensorSpec([2, 2, 3], tf.float32), tf.TensorSpec([], tf.int32))

    def decode(element):
        return tf.cast(tf.io.decode_image(element["encoded"], channels=3)[:2, :2], tf.float32), 0

    for _ in bad_images.map_skipping_undecodable(dataset, decode, spec, counter):
        pass


def test_logs_each_epochs_count(caplog):
    for split in bad_images.SPLITS:
        bad_images.skipped_images(split).reset()
    logger = callbacks.SkippedImagesLogger()
    caplog.set_level(logging.INFO)
    logger.on_train_begin()
    run_pass("train", 2)
    logger.on_epoch_end(0)
    logger.on_epoch_end(1)
    run_pass("eval", 1)
    logger.on_epoch_end(2)
    messages = {(r.levelno, r.getMessage()) for r in caplog.records}
    assert {
        (logging.WARNING, "Epoch 1: 2 undecodable train image(s) skipped (2 since start)."),
        (logging.INFO, "Epoch 2: 0 undecodable train image(s) skipped (2 since start)."),
        (logging.WARNING, "Epoch 3: 1 undecodable eval image(s) skipped (1 since start)."),
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
