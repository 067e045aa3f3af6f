"""Keras-format training checkpoints (the JAX path's), exercised here on TensorFlow: any backend reads them."""

import os

import numpy as np
import tensorflow as tf

from inception import compat
from inception.config import ModelConfig
from inception.training import checkpoint, paper_recipe, targets_for
from inception.training.keras_checkpoint import RNG_GROUP, KerasCheckpoint, is_keras_checkpoint
from inception.training.testing import tiny_model

SPEC = ModelConfig(num_classes=5, input_size=8)  # with dropout: an RNG state to keep


def _trained(steps=2):
    model = tiny_model(SPEC)
    model.compile(**paper_recipe(steps_per_epoch=10))
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensors((x, np.arange(4) % 5)).repeat().map(targets_for(model))
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return model


def _state(model):
    return [v.numpy() for v in model.variables + model.optimizer.variables]


def test_the_whole_training_state_round_trips(tmp_path):
    model = _trained()
    path = KerasCheckpoint(model, str(tmp_path)).save()
    assert os.path.basename(path) == "ckpt-2.weights.h5" and is_keras_checkpoint(path)

    fresh = tiny_model(SPEC)
    fresh.compile(**paper_recipe(steps_per_epoch=10))
    restored = KerasCheckpoint(fresh, str(tmp_path))
    assert restored.restore_latest() == 2 and restored.restored == path
    for saved, loaded in zip(_state(model), _state(fresh)):
        np.testing.assert_array_equal(saved, loaded)
    rng = compat.seed_generator_states(fresh)
    assert rng and np.array_equal(rng[0].numpy(), compat.seed_generator_states(model)[0].numpy())
    np.testing.assert_array_equal(fresh.optimizer.average_of(fresh.trainable_variables[0]).numpy(),
                                  model.optimizer.average_of(model.trainable_variables[0]).numpy())


def test_only_the_newest_are_kept_and_partial_files_are_not_checkpoints(tmp_path):
    model = _trained(steps=1)
    saver = KerasCheckpoint(model, str(tmp_path), max_to_keep=2)
    for _ in range(3):
        saver.save()
        model.optimizer.iterations.assign_add(1)
    (tmp_path / ".partial-ckpt-9.weights.h5").write_bytes(b"killed while writing")
    names = [os.path.basename(p) for p in checkpoint.checkpoints_newest_first(str(tmp_path))]
    assert names == ["ckpt-3.weights.h5", "ckpt-2.weights.h5"]


def test_a_damaged_checkpoint_is_named_and_skipped(tmp_path):
    model = _trained(steps=1)
    saver = KerasCheckpoint(model, str(tmp_path))
    older = saver.save()
    model.optimizer.iterations.assign_add(1)
    newer = saver.save()
    with open(newer, "r+b") as f:  # truncated, as by a full disk
        f.truncate(os.path.getsize(newer) // 2)
    assert checkpoint.unreadable_reason(newer).startswith(newer)
    assert checkpoint.unreadable_reason(older) is None
    assert checkpoint.latest_intact_checkpoint(str(tmp_path)) == older


def test_the_random_state_group_is_where_restore_reads_it(tmp_path):
    import h5py

    path = KerasCheckpoint(_trained(steps=1), str(tmp_path)).save()
    with h5py.File(path, "r") as f:
        assert RNG_GROUP in f and len(f[RNG_GROUP]) == 1 and "optimizer" in f
