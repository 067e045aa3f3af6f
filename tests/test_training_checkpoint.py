"""The whole training state survives a save and restore."""

import numpy as np
import tensorflow as tf

from inception.config import ModelConfig
from inception.training import paper_recipe, targets_for
from inception.training.checkpoint import TrainingCheckpoint
from inception.training.testing import tiny_model


def _state(model):
    return [v.numpy().copy() for v in model.variables + model.optimizer.variables]


def test_restore_brings_back_weights_slots_averages_and_dropout_rng(tmp_path):
    model = tiny_model(ModelConfig(num_classes=5, input_size=8))  # has dropout and batch norm
    model.compile(**paper_recipe(steps_per_epoch=10))
    x = np.random.default_rng(0).normal(size=(8, 8, 8, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, np.arange(8) % 5)).batch(4).map(targets_for(model))
    model.fit(data, verbose=0, shuffle=False)
    checkpoint = TrainingCheckpoint(model, str(tmp_path))
    saved = _state(model)
    assert checkpoint.save().endswith("ckpt-2")
    model.fit(data, verbose=0, shuffle=False)
    assert any(not np.array_equal(a, b) for a, b in zip(saved, _state(model)))
    assert checkpoint.restore_latest() == 2
    names = [v.path for v in model.variables + model.optimizer.variables]
    assert any("seed_generator_state" in n for n in names) and any("average" in n for n in names)
    for name, a, b in zip(names, saved, _state(model)):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_non_chief_saves_to_a_scratch_directory_and_reads_the_chiefs(tmp_path):
    model = tiny_model(ModelConfig(num_classes=5, input_size=8))
    model.compile(**paper_recipe(steps_per_epoch=10))
    chief = TrainingCheckpoint(model, str(tmp_path))
    chief.save()
    worker = TrainingCheckpoint(model, str(tmp_path), chief=False, worker=1)
    worker.save()
    worker.save()  # the scratch copy is gone; saving again must still work
    assert worker.latest == chief.latest
    assert not (tmp_path / ".worker-1").exists()
