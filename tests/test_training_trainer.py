"""train_and_evaluate end to end; a run killed with SIGKILL resumes to the same weights."""

import json
import random
import signal

import numpy as np
import pytest

from inception.config import DataConfig, DistributeConfig, EvalConfig, ExperimentConfig, ModelConfig
from inception import loading
from inception.training import trainer
from inception.training.testing import tiny_model
from inception.training.workdir import read_config
from tests.support import run_python, variables_created_while_tracing


TINY_DATA = DataConfig(source="fashion_mnist", train_examples=64, eval_examples=16,
                       train_augmentation=False, shuffle_buffer=64)


def test_train_and_evaluate_runs_the_real_network_end_to_end(tmp_path):
    config = ExperimentConfig(
        name="end_to_end",
        model=ModelConfig(num_classes=10, input_size=75, depth_multiplier=0.1, min_depth=8),
        data=TINY_DATA, distribute=DistributeConfig(strategy="default", per_replica_batch=8),
        evaluation=EvalConfig(batch_size=8), max_steps=2, log_every_steps=1, checkpoint_every_steps=1)
    results = trainer.train_and_evaluate(config, str(tmp_path), verbose=0)

    assert results["steps"] == 2 and [r["step"] for r in results["history"]] == [1, 2]
    assert 0.0 <= results["top1_error"] <= 1.0 and 0.0 <= results["top5_error"] <= results["top1_error"]
    assert results["steps_per_epoch"] == 8 and results["global_batch"] == 8
    assert read_config(str(tmp_path)) == config
    assert json.loads((tmp_path / "results.json").read_text())["steps"] == 2
    assert results["checkpoint"].endswith("ckpt-2")
    model = loading.load_trained_model(str(tmp_path))  # the seam for evaluation and export
    assert set(model.output) == {"logits", "aux_logits"}


def test_the_training_step_is_traced_with_every_variable_already_built(tmp_path):
    """A variable created inside the first trace would make TensorFlow trace the step twice."""
    config = ExperimentConfig(
        name="one_trace", model=ModelConfig(num_classes=10, input_size=28), data=TINY_DATA,
        distribute=DistributeConfig(strategy="default", per_replica_batch=8),
        evaluation=EvalConfig(batch_size=8, heldout_every_steps=1, heldout_examples=8),
        max_steps=2, log_every_steps=1, checkpoint_every_steps=2)
    with variables_created_while_tracing() as created:
        trainer.train_and_evaluate(config, str(tmp_path), model_fn=tiny_model, verbose=0)
    assert created == []


def test_the_whole_recipe_trains_in_mixed_bfloat16(tmp_path):
    config = ExperimentConfig(
        name="mixed_bfloat16",
        model=ModelConfig(num_classes=10, input_size=75, depth_multiplier=0.1, min_depth=8,
                          dtype_policy="mixed_bfloat16"),
        data=TINY_DATA, distribute=DistributeConfig(strategy="default", per_replica_batch=8),
        evaluation=EvalConfig(batch_size=8), max_steps=2, log_every_steps=1, checkpoint_every_steps=2)
    results = trainer.train_and_evaluate(config, str(tmp_path), verbose=0)

    assert results["steps"] == 2
    assert all(np.isfinite(r["loss"]) for r in results["history"]), results["history"]
    assert 0.0 <= results["top1_error"] <= 1.0
    model = loading.load_trained_model(str(tmp_path))
    assert model.get_layer("Mixed_5b").compute_dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in model.weights)  # the optimizer and EMA update float32


def test_run_size_counts_steps_of_the_global_batch():
    config = ExperimentConfig(epochs=2.5, distribute=DistributeConfig(per_replica_batch=32))
    size = config.run_size(train_examples=1_281_167, replicas=50)
    assert (size.global_batch, size.steps_per_epoch, size.total_steps) == (1600, 800, 2000)
    assert config.derive(max_steps=7).run_size(1_281_167, 50).total_steps == 7


RUN = """
    import os, signal, sys, keras
    from inception.config import ExperimentConfig
    from inception import loading
    from inception.training import trainer
    from inception.training.testing import tiny_model

    config = ExperimentConfig.from_json(open(sys.argv[1]).read())
    kill_at = int(sys.argv[3])

    class KillAtStep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    trainer.train(config, sys.argv[2], model_fn=tiny_model, verbose=0,
                  callbacks=[KillAtStep()] if kill_at else [])
"""


def _run(config_path, workdir, kill_at=0, backend="tensorflow"):
    return run_python(RUN, config_path, workdir, kill_at, env={"KERAS_BACKEND": backend})


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])  # tf.train.Checkpoint; Keras' .weights.h5
def test_killed_run_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path, backend):
    config = ExperimentConfig(
        name="resume", model=ModelConfig(num_classes=10, input_size=28),  # dropout and batch norm
        data=DataConfig(source="fashion_mnist", train_examples=512, eval_examples=16, shuffle_buffer=128),
        distribute=DistributeConfig(strategy="default", per_replica_batch=16),
        epochs=1.0, log_every_steps=4, checkpoint_every_steps=8, deterministic=True)  # 32 steps
    config_path = tmp_path / "config.json"
    config_path.write_text(config.to_json())
    kill_at = random.randint(9, 31)

    whole = _run(config_path, tmp_path / "whole", backend=backend)
    assert whole.returncode == 0, whole.stderr[-5000:]
    killed = _run(config_path, tmp_path / "killed", kill_at, backend=backend)
    assert killed.returncode == -signal.SIGKILL, f"kill at {kill_at}: {killed.stderr[-5000:]}"
    assert not (tmp_path / "killed" / "final.weights.h5").exists()
    written = sorted(p.name for p in (tmp_path / "killed" / "checkpoints").glob("ckpt-*"))
    suffix = ".weights.h5" if backend == "jax" else ".index"
    assert any(name.endswith(suffix) for name in written), written  # the backend's own format
    resumed = _run(config_path, tmp_path / "killed", backend=backend)
    assert resumed.returncode == 0, resumed.stderr[-5000:]

    for use_ema in (False, True):
        expected, actual = (loading.load_trained_model(str(tmp_path / d), use_ema=use_ema, model_fn=tiny_model)
                            for d in ("whole", "killed"))
        for a, b in zip(expected.get_weights(), actual.get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=f"{backend}: killed at {kill_at}, ema={use_ema}")
    records = [json.loads(line) for line in (tmp_path / "killed" / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(4, 33, 4))
