"""A Keras callback that reports skipped images at the end of each epoch."""

from __future__ import annotations

import keras
from absl import logging

from inception.data import bad_images


class SkippedImagesLogger(keras.callbacks.Callback):
    """Logs the skipped image files of the passes over the data that ended in each epoch.

    Training datasets repeat, so their passes do not end with the epochs,
    and prefetching reads ahead into the next pass: counting at the epoch's
    end would count files of passes that are not over (or not even begun).
    This callback reads the per-split counters
    (`inception.data.skipped_images`) and logs the last pass that finished
    during the epoch, with its exact counts: a warning when it skipped files,
    info otherwise; info as well when no pass finished.
    """

    def __init__(self, splits: tuple[str, ...] = bad_images.SPLITS):
        super().__init__()
        self._splits = tuple(splits)
        self._passes_reported: dict[str, int] = {}

    def on_train_begin(self, logs=None):
        self._passes_reported = {s: bad_images.skipped_images(s).finished_passes
                                 for s in self._splits}

    def on_epoch_end(self, epoch, logs=None):
        for split in self._splits:
            counter = bad_images.skipped_images(split)
            passes = counter.finished_passes
            new = passes - self._passes_reported.get(split, 0)
            self._passes_reported[split] = passes
            if not new:
                logging.info("Epoch %d: no pass over the %s data finished.", epoch + 1, split)
                continue
            counts = counter.last_finished_pass
            logging.log(logging.WARNING if counts.skipped else logging.INFO,
                        "Epoch %d: %s pass %d over the data: %s.", epoch + 1, split, passes, counts)
