"""The colour distortion as a training-only layer (`RandomColorDistortion`), against the pipeline's."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import inception
from inception import export, loading
from inception.config import DataConfig, DistributeConfig, EvalConfig, ExperimentConfig, ModelConfig
from inception import color_distortion
from inception.data import preprocessing
from inception.training import checkpoint, trainer
from inception.training.workdir import RunPaths
from tests.support import run_python
from inception.training.testing import tiny_model


def photo_like_batch(batch=6, size=21, seed=0):
    """[-1, 1] images with smooth colour fields and noise, as the pipeline's output before colour."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    fields = [np.stack([x, y, (x + y) / 2], -1) * rng.random(3) + rng.random(3) * 0.3 for _ in range(batch)]
    images = np.clip(np.stack(fields) + rng.normal(0, 0.05, (batch, size, size, 3)), 0.0, 1.0)
    return (images * 2.0 - 1.0).astype(np.float32)


def pipeline_color_distortion(image, uniforms):
    """One image through the input pipeline's colour step (tf.image's fused kernels)."""
    pixels = (tf.constant(image) + 1.0) * 127.5
    return preprocessing.distort_color_and_scale(
        pixels, preprocessing.ColorDistortion.draw(tf.constant(uniforms))).numpy()


@pytest.mark.parametrize("order", ["brightness_first", "saturation_first", "mixed"])
def test_the_batched_layer_equals_the_pipelines_colour_step_on_the_same_draws(order):
    images = photo_like_batch()
    uniforms = np.random.default_rng(1).random((len(images), 5)).astype(np.float32)
    if order != "mixed":
        uniforms[:, 0] = 0.25 if order == "brightness_first" else 0.75
    batched = color_distortion.distort_color_batch(images, uniforms)
    expected = np.stack([pipeline_color_distortion(i, u) for i, u in zip(images, uniforms)])
    # Both are float32 HSV round trips of [0, 255] pixels: rounding differs only.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(batched), expected, atol=1e-5)
    assert np.abs(expected - images).max() > 0.1  # the draws did distort


def test_training_distorts_each_image_with_its_own_draw_and_inference_is_the_identity():
    layer = color_distortion.RandomColorDistortion(seed=3)
    same = np.repeat(photo_like_batch(batch=1), 4, axis=0)
    np.testing.assert_array_equal(layer(same, training=False), same)
    distorted = keras.ops.convert_to_numpy(layer(same, training=True))
    assert distorted.min() >= -1.0 and distorted.max() <= 1.0
    per_image = distorted.reshape(4, -1)
    assert min(np.abs(per_image[i] - per_image[j]).max() for i in range(4) for j in range(i)) > 1e-3
    again = keras.ops.convert_to_numpy(layer(same, training=True))
    assert np.abs(again - distorted).max() > 1e-3  # a fresh draw per call


def test_the_network_with_the_layer_has_the_same_weights_and_the_same_inference():
    # No dropout: in training the two networks then differ only by the layer.
    fields = dict(num_classes=5, input_size=75, depth_multiplier=0.1, include_aux=False, dropout_keep_prob=1.0)
    plain = inception.inception_v3(**fields)
    distorting = inception.inception_v3(**fields, color_distortion=True)
    assert distorting.layers[1].name == "ColorDistortion"
    assert [w.shape for w in distorting.weights] == [w.shape for w in plain.weights]
    distorting.set_weights(plain.get_weights())
    images = photo_like_batch(batch=2, size=75)
    np.testing.assert_array_equal(distorting.predict(images, verbose=0), plain.predict(images, verbose=0))
    trained_on = keras.ops.convert_to_numpy(distorting(images, training=True))
    assert np.abs(trained_on - keras.ops.convert_to_numpy(plain(images, training=True))).max() > 0


def test_the_layer_stays_float32_in_a_mixed_precision_network():
    model = inception.inception_v3(num_classes=3, input_size=75, depth_multiplier=0.1, include_aux=False,
                                   color_distortion=True, dtype_policy="mixed_bfloat16")
    assert model.get_layer("ColorDistortion").compute_dtype == "float32"
    assert model.get_layer("Conv2d_1a_3x3").compute_dtype == "bfloat16"


def test_colour_distortion_in_both_the_model_and_the_pipeline_is_refused():
    with pytest.raises(ValueError, match="set data.train_augmentation=False"):
        ExperimentConfig().derive(model={"color_distortion": True})
    moved = ExperimentConfig().derive(model={"color_distortion": True}, data={"train_augmentation": False})
    assert moved.model.color_distortion and not moved.data.train_augmentation


def test_a_run_with_the_layer_trains_resumes_loads_and_exports_without_it(tmp_path):
    config = ExperimentConfig(
        name="color_on_the_accelerator", model=ModelConfig(num_classes=10, input_size=28, color_distortion=True),
        data=DataConfig(source="fashion_mnist", train_examples=64, eval_examples=16, train_augmentation=False,
                        shuffle_buffer=64),
        distribute=DistributeConfig(strategy="default", per_replica_batch=8), evaluation=EvalConfig(batch_size=8),
        max_steps=2, log_every_steps=1, checkpoint_every_steps=1)
    run_dir = str(tmp_path / "run")

    class CrashAfterTheFirstStep(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):  # a Keras epoch is one step here
            if epoch == 1:
                raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        trainer.train(config, run_dir, model_fn=tiny_model, callbacks=[CrashAfterTheFirstStep()], verbose=0)
    assert checkpoint.latest_intact_checkpoint(RunPaths(run_dir).checkpoints).endswith("ckpt-1")
    # Resumes from the checkpoint of step 1, which holds the layer's seed state beside the weights.
    results = trainer.train_and_evaluate(config, run_dir, model_fn=tiny_model, verbose=0)
    assert results["steps"] == 2 and all(np.isfinite(r["loss"]) for r in results["history"])

    model = loading.load_trained_model(run_dir, model_fn=tiny_model)
    images = photo_like_batch(batch=2, size=28)
    version = export.export_savedmodel(model, str(tmp_path / "export"))
    served = tf.saved_model.load(version).signatures["predict_images"]
    expected = keras.ops.softmax(loading.classifier(model).predict(images, verbose=0))
    np.testing.assert_allclose(served(images=tf.constant(images))["probabilities"], expected, atol=1e-5)


ON_JAX = """
    import keras, numpy as np, tensorflow as tf
    from inception.config import ModelConfig
    from inception import color_distortion
    from inception.training import paper_recipe, targets_for
    from inception.training.testing import tiny_model
    from tests.test_color_distortion import photo_like_batch, pipeline_color_distortion

    assert keras.backend.backend() == "jax"
    images = photo_like_batch()
    uniforms = np.random.default_rng(1).random((len(images), 5)).astype(np.float32)
    expected = np.stack([pipeline_color_distortion(i, u) for i, u in zip(images, uniforms)])
    batched = np.asarray(color_distortion.distort_color_batch(images, uniforms))
    np.testing.assert_allclose(batched, expected, atol=1e-5)

    model = tiny_model(ModelConfig(num_classes=5, input_size=21, color_distortion=True))
    model.compile(**paper_recipe(steps_per_epoch=10))
    labels = np.arange(len(images), dtype="int32") % 5
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(3).map(targets_for(model))
    history = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    print("ok")
"""


def test_on_jax_the_layer_equals_the_pipelines_colour_step_and_trains():
    done = run_python(ON_JAX, env={"KERAS_BACKEND": "jax"}, check=True)
    assert done.stdout.strip().endswith("ok")


ON_TWO_REPLICAS = """
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from inception.color_distortion import RandomColorDistortion

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        layer = RandomColorDistortion(seed=1)
    same = tf.data.Dataset.from_tensors(np.full((4, 8, 8, 3), 0.1, np.float32)).unbatch().batch(4)
    batch = next(iter(strategy.experimental_distribute_dataset(same)))  # two images per replica
    distorted = strategy.run(tf.function(lambda x: layer(x, training=True)), args=(batch,))
    first, second = [t.numpy() for t in strategy.experimental_local_results(distorted)]
    assert np.abs(first - 0.1).max() > 1e-3 and np.abs(first - second).max() > 1e-3
    print("ok")
"""


def test_each_replica_draws_its_own_distortions():
    # The same images on both replicas, from one generator state: still different draws.
    assert run_python(ON_TWO_REPLICAS, check=True).stdout.strip().endswith("ok")
