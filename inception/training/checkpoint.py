"""The training state on disk: what a preempted run resumes from.

One `tf.train.Checkpoint` holds the model (weights and batch-norm statistics),
the optimizer (step counter, slots and the moving averages used for
evaluation) and the dropout random-number state. `tf.train.CheckpointManager`
writes it: the index file that names the latest checkpoint is replaced only
after the new checkpoint is complete, so a process killed while saving
leaves the previous checkpoint as the latest. A checkpoint damaged later
(a truncated or overwritten file) is reported by name and skipped: the run
resumes from the newest intact one.

That is the TensorFlow backend's format (it holds tf.distribute's mirrored
variables and works with several workers). On other backends (JAX) the same
state is Keras' own `ckpt-N.weights.h5` (`keras_checkpoint.py`), which
TensorFlow reads too; `training_checkpoint` picks the backend's one, and
finding, checking and restoring the newest intact checkpoint is the same
for both.

Keras' BackupAndRestore is not used: it restores only the epoch, not the
position inside it, and its `.weights.h5` omits the dropout RNG state, so a
resumed run would not finish with the same weights.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from typing import List, Optional

import keras
import tensorflow as tf
from absl import logging
from keras import ops

from inception import compat
from inception.training import distribute, keras_checkpoint

CHECKPOINT_PREFIX = "ckpt"


def checkpoints_newest_first(directory: str) -> List[str]:
    """Every checkpoint in `directory`, the highest step first, in either format.

    TensorFlow's `ckpt-N` (as its prefix; index file present) and Keras'
    `ckpt-N.weights.h5` (`keras_checkpoint`). Read from the file system
    rather than TF's `checkpoint` state file, which can itself be the
    damaged one.
    """
    found = keras_checkpoint.keras_checkpoints(directory)
    for index in glob.glob(os.path.join(glob.escape(directory), f"{CHECKPOINT_PREFIX}-*.index")):
        match = re.fullmatch(rf"{CHECKPOINT_PREFIX}-(\d+)\.index", os.path.basename(index))
        if match:
            found.append((int(match.group(1)), index[: -len(".index")]))
    return [path for _, path in sorted(found, reverse=True)]


_READ_ERRORS = (tf.errors.OpError, ValueError, IndexError, OSError)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:200]}" if text else type(error).__name__


def unreadable_reason(prefix: str) -> Optional[str]:
    """Why the checkpoint `prefix` cannot be read back whole, naming the damaged file; None if intact.

    The index file is read when the checkpoint is opened, the data files when
    each tensor is read, so the step that fails tells which file is damaged.
    """
    if keras_checkpoint.is_keras_checkpoint(prefix):
        return keras_checkpoint.unreadable_reason(prefix)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except _READ_ERRORS as error:
        return f"{prefix}.index: {_first_line(error)}"
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except _READ_ERRORS as error:
        data_files = sorted(glob.glob(glob.escape(prefix) + ".data-*")) or [prefix + ".data-*"]
        return f"{', '.join(data_files)}: {_first_line(error)}"
    return None


def latest_intact_checkpoint(directory: str) -> Optional[str]:
    """The newest checkpoint in `directory` that reads back whole; damaged ones are logged and skipped."""
    for prefix in checkpoints_newest_first(directory):
        reason = unreadable_reason(prefix)
        if reason is None:
            return prefix
        logging.warning("Checkpoint %s is damaged and is left as it is (%s); trying an older one.",
                        prefix, reason)
    return None


def all_finite(model: keras.Model) -> bool:
    """True when every weight of the model and of its optimizer is finite."""
    variables = [v for v in model.variables + model.optimizer.variables
                 if keras.backend.is_float_dtype(v.dtype)]
    return all(bool(ops.all(ops.isfinite(v))) for v in variables)


def restore_latest(checkpoint) -> int:
    """Restore the newest intact checkpoint into `checkpoint`'s model, if any; returns its step (else 0).

    A checkpoint that cannot be read whole is named in the log and skipped;
    nothing is deleted, so it can still be inspected.
    """
    prefix = latest_intact_checkpoint(checkpoint.directory)
    if prefix is None:
        found = checkpoints_newest_first(checkpoint.directory)
        if found:
            logging.warning("None of the %d checkpoints in %s can be read back; training "
                            "starts again from step 0 (they are left in place).",
                            len(found), checkpoint.directory)
        return 0
    return checkpoint.restore(prefix)


def training_checkpoint(model: keras.Model, directory: str, *, strategy=None, **kwargs):
    """The checkpoint of this backend: TensorFlow's format on TensorFlow (tf.distribute, several
    workers), Keras' `.weights.h5` elsewhere (JAX)."""
    if keras.backend.backend() == "tensorflow":
        return TrainingCheckpoint(model, directory, strategy=strategy, **kwargs)
    kwargs.pop("chief", None), kwargs.pop("worker", None)  # one process writes on this path
    return keras_checkpoint.KerasCheckpoint(model, directory, **kwargs)


class TrainingCheckpoint:
    """Save and restore the whole training state of a compiled model.

    Under MultiWorkerMirroredStrategy every worker saves (TF's rule: the save
    may involve collective ops) but only the chief's copy, in `directory`, is
    kept; the others write to a scratch directory that is then removed. Every
    worker restores from `directory`, which must therefore be shared storage
    on a real cluster.
    """

    def __init__(self, model: keras.Model, directory: str, *, chief: bool = True,
                 worker: int = 0, max_to_keep: int = 3,
                 strategy: Optional[tf.distribute.Strategy] = None):
        if model.optimizer is None:
            raise ValueError("Compile the model before checkpointing it.")
        model.optimizer.build(model.trainable_variables)  # so that slots restore at once
        self.model = model
        self.strategy = strategy or tf.distribute.get_strategy()
        self.directory = directory
        self._chief = chief
        self._save_directory = directory if chief else os.path.join(directory, f".worker-{worker}")
        self.saved_step: Optional[int] = None  # the step this process last saved or restored
        self.restored: Optional[str] = None  # the checkpoint restore_latest read
        self._checkpoint = tf.train.Checkpoint(
            model=model, optimizer=model.optimizer, rng=compat.seed_generator_states(model))
        self._manager = tf.train.CheckpointManager(
            self._checkpoint, self._save_directory, max_to_keep=max_to_keep,
            checkpoint_name=CHECKPOINT_PREFIX)

    @property
    def step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    @property
    def latest(self) -> Optional[str]:
        """The chief's latest complete checkpoint, or None."""
        return tf.train.latest_checkpoint(self.directory)

    def restore_latest(self) -> int:
        """Restore the newest intact checkpoint, if any; returns its step (else 0)."""
        return restore_latest(self)

    def restore(self, prefix: str) -> int:
        """Restore one checkpoint (either format: a JAX run resumes on TensorFlow); returns its step."""
        if keras_checkpoint.is_keras_checkpoint(prefix):
            keras_checkpoint.restore_state(self.model, prefix)
        else:
            self._checkpoint.restore(prefix).assert_existing_objects_matched()
        self.saved_step = self.step
        self.restored = prefix
        return self.step

    def save(self) -> str:
        """Save at the current step; returns the checkpoint's path.

        Batch-norm moving statistics are first averaged over replicas (see
        `distribute.average_batch_norm_statistics`), so the checkpoint does
        not depend on which replica's copy is read.
        """
        distribute.average_batch_norm_statistics(self.model, self.strategy)
        path = self._manager.save(checkpoint_number=self.step)
        self.saved_step = self.step
        if not self._chief:
            shutil.rmtree(self._save_directory, ignore_errors=True)
        return path
