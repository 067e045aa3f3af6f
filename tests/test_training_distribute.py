"""Synchronous replicas (paper section 8: 50 replicas): logical CPU devices, 50 replicas, two workers.

Logical devices must be configured before TensorFlow initialises, so each
test runs its own Python process.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from inception.config import DistributeConfig
from inception.training import distribute
from tests import support
from tests.support import run_python

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def check(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout


def test_auto_picks_multi_worker_from_tf_config(monkeypatch):
    cluster = {"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    assert distribute.strategy_kind(DistributeConfig()) == "multi_worker"
    monkeypatch.delenv("TF_CONFIG")
    assert distribute.strategy_kind(DistributeConfig(cpu_replicas=4)) == "mirrored"


SYNC_STEP = """
    import numpy as np, tensorflow as tf
    from inception.config import DistributeConfig, ModelConfig
    from inception.training import distribute, paper_recipe, targets_for
    from inception.training.testing import tiny_model

    R, B = 4, 3
    strategy = distribute.build_strategy(DistributeConfig(cpu_replicas=R))
    assert strategy.num_replicas_in_sync == R
    # No batch norm, no dropout: a replica's step depends on its examples only.
    spec = ModelConfig(num_classes=5, input_size=8, dropout_keep_prob=1.0)
    recipe = dict(steps_per_epoch=10, clip_global_norm=0.05)  # small, so clipping acts
    with strategy.scope():
        model = tiny_model(spec, batch_norm=False)
        model.compile(**paper_recipe(**recipe))
    single = tiny_model(spec, batch_norm=False)
    single.compile(**paper_recipe(**recipe))
    single.set_weights(model.get_weights())
    single.optimizer.build(single.trainable_variables)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(R * B, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 5, size=R * B).astype("int32")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(R * B).map(targets_for(model))
    model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)

    gradients = []
    for r in range(R):
        xr, yr = x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]
        with tf.GradientTape() as tape:
            out = single(xr, training=True)
            loss = single.compute_loss(x=xr, y={"logits": yr, "aux_logits": yr}, y_pred=out)
        gradients.append(tape.gradient(loss, single.trainable_variables))
    mean = [tf.add_n(list(g)) / R for g in zip(*gradients)]
    single.optimizer.apply(mean, single.trainable_variables)

    for a, b in zip(model.get_weights(), single.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for v, w in zip(model.trainable_variables, single.trainable_variables):
        np.testing.assert_allclose(model.optimizer.average_of(v).numpy(),
                                   single.optimizer.average_of(w).numpy(), rtol=1e-5, atol=1e-6)

    # With batch norm, each replica updates its own moving statistics; before
    # a checkpoint every replica gets their mean.
    with strategy.scope():
        model = tiny_model(spec)
        model.compile(**paper_recipe(**recipe))
    model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    moving = [v for v in model.non_trainable_variables if v.name == "moving_mean"][0]
    copies = strategy.experimental_local_results(moving.value)
    assert not np.allclose(copies[0].numpy(), copies[1].numpy())
    expected = np.mean([c.numpy() for c in copies], axis=0)
    distribute.average_batch_norm_statistics(model, strategy)
    for copy in strategy.experimental_local_results(moving.value):
        # float32 rounding of the mean: relative to the statistics' scale, not to each entry
        # (an entry near zero differs by 4e-6 of itself on some machines).
        np.testing.assert_allclose(copy.numpy(), expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    print("ok")
"""


def test_one_step_on_replicas_equals_the_averaged_gradient_applied_once():
    # ...and batch-norm moving statistics are averaged over replicas on demand.
    assert "ok" in check(run_python(SYNC_STEP))


FIFTY_REPLICAS = """
    import sys
    from inception.config import *
    from inception.training import trainer
    from inception.training.testing import tiny_model

    config = ExperimentConfig(
        name="fifty_replicas", model=ModelConfig(num_classes=10, input_size=28),
        data=DataConfig(source="fashion_mnist", train_examples=3200, eval_examples=100,
                        train_augmentation=False, shuffle_buffer=100),
        distribute=DistributeConfig(cpu_replicas=50, per_replica_batch=32),
        max_steps=2, log_every_steps=1, checkpoint_every_steps=2)
    # Training only: evaluating on 50 logical devices of one CPU gains nothing
    # and traces 50 copies of the evaluation step.
    run = trainer.train(config, sys.argv[1], model_fn=tiny_model, verbose=0)
    assert run.strategy.num_replicas_in_sync == 50 and run.size.global_batch == 1600, run.size
    assert run.steps == 2 and [r["step"] for r in run.history] == [1, 2], run.history
    print("ok")
"""


@pytest.mark.slow
def test_fifty_cpu_replicas_of_batch_32_train(tmp_path):
    assert "ok" in check(run_python(FIFTY_REPLICAS, tmp_path))


TWO_WORKERS = """
    import sys, numpy as np
    from inception.config import *
    from inception.training import trainer
    from inception.training.testing import tiny_model

    config = ExperimentConfig(
        name="two_workers", model=ModelConfig(num_classes=10, input_size=28),
        data=DataConfig(source="fashion_mnist", train_examples=256, eval_examples=40,
                        train_augmentation=False, shuffle_buffer=64),
        distribute=DistributeConfig(strategy="auto", per_replica_batch=8),
        evaluation=EvalConfig(batch_size=8), max_steps=6, log_every_steps=3, checkpoint_every_steps=3)
    run = trainer.train(config, sys.argv[1], model_fn=tiny_model, verbose=0)
    results = trainer.evaluate(run)
    assert run.strategy.num_replicas_in_sync == 2 and run.steps == 6, run
    np.savez(sys.argv[2], *run.model.get_weights(),
             *[run.model.optimizer.average_of(v).numpy() for v in run.model.trainable_variables])
    print("ok", results["top1_error"])
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_on_localhost_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        environment = support.environment({"TF_CONFIG": json.dumps(tf_config)})
        processes.append(subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(TWO_WORKERS), str(tmp_path / "run"),
             str(tmp_path / f"weights{index}.npz")],
            cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=support.HANG_TIMEOUT_S) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, out[-3000:] + err[-5000:]
    first, second = (np.load(tmp_path / f"weights{i}.npz") for i in range(2))
    assert len(first.files) == len(second.files) > 0
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name])
    assert (tmp_path / "run" / "final.weights.h5").exists()
    assert not any(p.name.startswith(".worker") for p in (tmp_path / "run" / "checkpoints").iterdir())
