"""A Keras callback that reports skipped images at the end of each epoch."""

from __future__ import annotations

import keras
from absl import logging

from inception.data import bad_images


class SkippedImagesLogger(keras.callbacks.Callback):
    """Logs how many undecodable images the input pipelines skipped.

    Training datasets repeat, so their passes do not end with the epochs;
    this callback reads the per-split counters (`inception.data.skipped_images`)
    at each epoch end and logs the epoch's and the run's counts: a warning
    when images were skipped during the epoch, info otherwise.
    """

    def __init__(self, splits: tuple[str, ...] = bad_images.SPLITS):
        super().__init__()
        self._splits = tuple(splits)
        self._at_epoch_start: dict[str, int] = {}

    def on_train_begin(self, logs=None):
        self._at_epoch_start = {s: bad_images.skipped_images(s).total for s in self._splits}

    def on_epoch_end(self, epoch, logs=None):
        for split in self._splits:
            total = bad_images.skipped_images(split).total
            in_epoch = total - self._at_epoch_start.get(split, 0)
            self._at_epoch_start[split] = total
            logging.log(
                logging.WARNING if in_epoch else logging.INFO,
                "Epoch %d: %d undecodable %s image(s) skipped (%d since start).",
                epoch + 1,
                in_epoch,
                split,
                total,
            )
