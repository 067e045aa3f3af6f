"""Training on JAX: DataParallel replicas, a table row trained on JAX and evaluated and exported on TensorFlow.

Keras picks its backend at import, so the JAX parts run in their own
processes (`KERAS_BACKEND=jax`); several CPU devices come from
`XLA_FLAGS=--xla_force_host_platform_device_count=N`. The kill -9 resume
test of both backends is in test_training_trainer.py.
"""

import glob
import json
import os

import numpy as np
import pytest

from tests.support import run_python, run_script



def run_on_jax(code, *args, devices: int = 1) -> str:
    """`code` (or, when None, the script args[0]) on JAX with `devices` CPU devices; its stdout."""
    env = {"KERAS_BACKEND": "jax", "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    if code is None:
        return run_script(args[0], *args[1:], env=env, check=True).stdout
    return run_python(code, *args, env=env, check=True).stdout


DATA_PARALLEL_STEP = """
    import keras, numpy as np, tensorflow as tf
    from inception.config import DistributeConfig, ModelConfig
    from inception.training import distribute, paper_recipe, targets_for
    from inception.training.testing import tiny_model

    replicas = distribute.build_strategy(DistributeConfig())  # DataParallel over all devices
    assert replicas.num_replicas_in_sync == 2, replicas.devices
    spec = ModelConfig(num_classes=5, input_size=8, dropout_keep_prob=1.0)  # with batch norm
    recipe = dict(steps_per_epoch=10, clip_global_norm=0.05)  # small, so clipping acts

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 5, size=8).astype("int32")

    def one_step(model):
        model.compile(**paper_recipe(**recipe))
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8).map(targets_for(model))
        model.fit(ds, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        averages = [model.optimizer.average_of(v) for v in model.trainable_variables]
        return model.get_weights(), [np.asarray(a) for a in averages]

    parallel = tiny_model(spec)
    start = parallel.get_weights()
    kernel = parallel.trainable_variables[0].value
    assert len(kernel.sharding.device_set) == 2  # replicated on both devices
    parallel_weights, parallel_averages = one_step(parallel)

    keras.distribution.set_distribution(None)  # one device, the same global batch
    single = tiny_model(spec)
    single.set_weights(start)
    single_weights, single_averages = one_step(single)
    assert not np.allclose(start[0], single_weights[0])
    for a, b in zip(parallel_weights + parallel_averages, single_weights + single_averages):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    print("ok")
"""


@pytest.mark.slow
def test_data_parallel_on_two_devices_takes_the_step_of_one_device_on_the_global_batch():
    # Under DataParallel the gradient and the batch-norm statistics are the global batch's.
    assert "ok" in run_on_jax(DATA_PARALLEL_STEP, devices=2)


@pytest.mark.slow
def test_a_row_trained_on_jax_evaluates_and_exports_on_tensorflow(tmp_path):
    """experiments/table2.py on JAX; this process (TensorFlow) evaluates the run and exports it."""
    import tensorflow as tf

    from inception import data as data_lib, evaluation, export, loading
    from inception.training.workdir import read_config

    results_dir = tmp_path / "results"
    run_on_jax(None, "experiments/table2.py", "--row", "rf79", "--workdir", tmp_path / "runs",
               "--results_dir", results_dir, "--max_steps", "2", "--eval_examples", "4",
               "--set", "data.train_examples=64", "--set", "model.depth_multiplier=0.1",
               "--set", "evaluation.heldout_every_steps=0")
    record = json.loads((results_dir / "small" / "table2" / "rf79" / "seed_0.json").read_text())
    assert record["machine"]["backend"] == "jax" and record["steps"] == 2
    [run] = [os.path.dirname(p) for p in glob.glob(str(tmp_path / "runs" / "**" / "config.json"),
                                                  recursive=True)]
    assert os.path.isfile(os.path.join(run, "checkpoints", "ckpt-2.weights.h5"))  # Keras' format

    model = loading.classifier(loading.load_trained_model(run))  # the averaged weights, on TF
    config = read_config(run)
    eval_data = data_lib.build_dataset(config.data, split="eval", image_size=config.model.input_size,
                                       batch_size=4, training=False)
    assert evaluation.evaluate(model, eval_data).top1_error == record["top1_error"]

    size = config.model.input_size
    pixels = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    logits = np.asarray(model.predict_on_batch(pixels), np.float64)
    version = export.export_savedmodel(run, tmp_path / "export")
    served = tf.saved_model.load(version).signatures["predict_images"](images=tf.constant(pixels))
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(served["probabilities"].numpy(), probabilities, rtol=1e-4, atol=1e-6)
