"""The training state on disk in Keras' own format, for every backend (the JAX path uses it).

`ckpt-N.weights.h5` is `model.save_weights` of the compiled model, which
holds the weights, the batch-norm statistics and the optimizer's variables
(step counter, slots, the moving averages used for evaluation), plus a group
`RNG_GROUP` with the dropout random-number state, which Keras does not save.
It is written under a temporary name and renamed (`os.replace`, atomic on
POSIX), so a process killed while saving leaves the previous checkpoint the
newest complete one, as `tf.train.CheckpointManager` does for TensorFlow's
format. Any backend reads it (JAX writes, TensorFlow evaluates and exports).
"""

from __future__ import annotations

import glob
import os
import re
from typing import List, Optional

import h5py
import keras
import numpy as np

from inception import compat

CHECKPOINT_PREFIX = "ckpt"
SUFFIX = ".weights.h5"
RNG_GROUP = "inception_rng"
_NAME = re.compile(rf"{CHECKPOINT_PREFIX}-(\d+){re.escape(SUFFIX)}")


def is_keras_checkpoint(path: str) -> bool:
    return bool(_NAME.fullmatch(os.path.basename(path)))


def keras_checkpoints(directory: str) -> List[tuple]:
    """(step, path) of every complete `ckpt-N.weights.h5` in `directory`."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(directory), f"{CHECKPOINT_PREFIX}-*{SUFFIX}")):
        match = _NAME.fullmatch(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return found


def unreadable_reason(path: str) -> Optional[str]:
    """Why the checkpoint file cannot be read back whole; None if every array in it reads."""
    arrays = []
    try:
        with h5py.File(path, "r") as file:
            file.visititems(lambda name, item: arrays.append(item[()])
                            if isinstance(item, h5py.Dataset) else None)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        return f"{path}: {type(error).__name__}: {str(error).strip()[:200]}"
    if not arrays:
        return f"{path}: no arrays"
    return None


def save_state(model: keras.Model, path: str) -> None:
    """Write the compiled model's whole training state to `path` (`ckpt-N.weights.h5`), atomically."""
    partial = os.path.join(os.path.dirname(path), ".partial-" + os.path.basename(path))
    model.save_weights(partial)
    with h5py.File(partial, "a") as file:
        group = file.create_group(RNG_GROUP)
        for index, state in enumerate(compat.seed_generator_states(model)):
            group.create_dataset(str(index), data=np.asarray(state.numpy()))
    os.replace(partial, path)


def restore_state(model: keras.Model, path: str) -> None:
    """Read `save_state`'s file into the compiled model (its optimizer built)."""
    model.load_weights(path)
    states = compat.seed_generator_states(model)
    with h5py.File(path, "r") as file:
        saved = file.get(RNG_GROUP)
        if saved is None or len(saved) != len(states):
            raise ValueError(f"{path}: expected {len(states)} random-number states in {RNG_GROUP!r}")
        for index, state in enumerate(states):
            state.assign(saved[str(index)][()])


class KerasCheckpoint:
    """Save and restore the whole training state of a compiled model as `ckpt-N.weights.h5`.

    The same interface as `checkpoint.TrainingCheckpoint` (TensorFlow's
    format); one process writes (no tf.distribute workers on this path).
    """

    def __init__(self, model: keras.Model, directory: str, *, max_to_keep: int = 3):
        if model.optimizer is None:
            raise ValueError("Compile the model before checkpointing it.")
        model.optimizer.build(model.trainable_variables)  # so that slots restore at once
        self.model = model
        self.directory = directory
        self.max_to_keep = max_to_keep
        self.saved_step: Optional[int] = None  # the step this process last saved or restored
        self.restored: Optional[str] = None  # the checkpoint restore_latest read
        os.makedirs(directory, exist_ok=True)

    @property
    def step(self) -> int:
        return int(self.model.optimizer.iterations.numpy())

    @property
    def latest(self) -> Optional[str]:
        found = keras_checkpoints(self.directory)
        return max(found)[1] if found else None

    def restore_latest(self) -> int:
        """Restore the newest intact checkpoint, if any; returns its step (else 0)."""
        from inception.training.checkpoint import restore_latest

        return restore_latest(self)

    def restore(self, path: str) -> int:
        if not is_keras_checkpoint(path):
            raise ValueError(f"{path} is in TensorFlow's checkpoint format: resume it with "
                             "KERAS_BACKEND=tensorflow.")
        restore_state(self.model, path)
        self.saved_step = self.step
        self.restored = path
        return self.step

    def save(self) -> str:
        path = os.path.join(self.directory, f"{CHECKPOINT_PREFIX}-{self.step}{SUFFIX}")
        save_state(self.model, path)
        self.saved_step = self.step
        for _, old in sorted(keras_checkpoints(self.directory))[:-self.max_to_keep]:
            os.remove(old)
        return path
