"""A NaN or Inf loss stops the run and leaves the last good checkpoint alone; history spans resumes."""

import json

import numpy as np
import pytest
import tensorflow as tf

from inception.config import ModelConfig
from inception.training import callbacks, paper_recipe, targets_for
from inception.training.checkpoint import TrainingCheckpoint
from inception.training.testing import tiny_model

SPEC = ModelConfig(num_classes=5, input_size=8)


def _compiled_model():
    model = tiny_model(SPEC)
    model.compile(**paper_recipe(steps_per_epoch=10))
    return model


def _batches(count, nan_batch=None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(count, 4, 8, 8, 3)).astype("float32")
    if nan_batch is not None:
        x[nan_batch] = np.nan
    y = rng.integers(0, 5, size=(count, 4)).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y))


def test_nan_loss_raises_and_keeps_the_last_good_checkpoint(tmp_path):
    model = _compiled_model()
    checkpoint = TrainingCheckpoint(model, str(tmp_path))
    data = _batches(12, nan_batch=9).map(targets_for(model))  # step 10 sees NaN
    with pytest.raises(callbacks.NonFiniteLossError, match="step 10"):
        model.fit(data, epochs=3, steps_per_epoch=4, verbose=0, shuffle=False, callbacks=[
            callbacks.TerminateOnNonFiniteLoss(checkpoint),
            callbacks.PeriodicCheckpoint(checkpoint, every_steps=4)])
    assert checkpoint.latest.endswith("ckpt-8")
    restored = _compiled_model()
    assert TrainingCheckpoint(restored, str(tmp_path)).restore_latest() == 8
    assert all(np.isfinite(w).all() for w in restored.get_weights())


def test_checkpoint_refuses_non_finite_weights(tmp_path):
    model = _compiled_model()
    checkpoint = TrainingCheckpoint(model, str(tmp_path))
    saver = callbacks.PeriodicCheckpoint(checkpoint, every_steps=1)
    saver.set_model(model)
    saver.on_train_begin()
    model.optimizer.iterations.assign(1)
    kernel = model.trainable_variables[0]
    kernel.assign(tf.fill(kernel.shape, np.nan))  # an Inf gradient can do this with a finite loss
    with pytest.raises(callbacks.NonFiniteLossError, match="not finite"):
        saver.on_epoch_end(0)
    assert checkpoint.latest is None


def test_stop_at_step_ends_a_fractional_interval():
    model = _compiled_model()
    data = _batches(12).map(targets_for(model)).repeat()
    model.fit(data, epochs=3, steps_per_epoch=4, verbose=0, shuffle=False,
              callbacks=[callbacks.StopAtStep(6)])
    assert int(model.optimizer.iterations.numpy()) == 6


def test_history_drops_records_after_the_resumed_step(tmp_path):
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps({"step": s, "train_seconds": s / 10}) + "\n" for s in (4, 8, 12)))
    model = _compiled_model()
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(8)
    history = callbacks.StepHistory(str(path))
    history.set_model(model)
    history.on_train_begin()
    assert [r["step"] for r in history.records] == [4, 8]
    history.on_epoch_end(0, {"loss": 1.5})
    assert [r["step"] for r in callbacks.read_history(str(path))] == [4, 8, 8]
    assert history.records[-1]["train_seconds"] >= 0.8 and history.records[-1]["loss"] == 1.5
