"""The same network and recipe on TensorFlow and JAX: logits, 20 training steps, portable weights.

Keras picks its backend at import, so each backend runs in its own Python
process (`KERAS_BACKEND=...`), once for all the tests here. The TensorFlow
process writes each network's starting weights (`model.save_weights`, a
`.weights.h5` file any backend reads), the JAX process loads them; both run
the same computation on the same Fashion-MNIST test images and write what
they got.

Dropout is off: the backends draw different random masks.
"""


import numpy as np
import pytest

from tests.support import run_python

BACKENDS = ("tensorflow", "jax")  # the first one writes the starting weights

RUN = """
    import dataclasses, os, sys
    import numpy as np, keras, tensorflow as tf
    import inception
    from inception import data as data_lib, profiles
    from inception.config import ModelConfig
    from inception.training import ema, paper_recipe, targets_for
    from inception.training.testing import tiny_model

    workdir, BACKENDS = sys.argv[1], sys.argv[2:]
    backend = keras.backend.backend()
    SMALL = profiles.get("bn_auxiliary", "small").config  # the main row at the small profile

    def network(case):
        keras.utils.set_random_seed(0)
        if case == "recipe":  # test-sized, with batch norm and the auxiliary head
            return tiny_model(ModelConfig(num_classes=10, input_size=28, dropout_keep_prob=1.0))
        if case == "small":
            return inception.inception_v3(dataclasses.replace(SMALL.model, dropout_keep_prob=1.0))
        return inception.inception_v3(num_classes=1000, include_aux=False)  # at 299x299

    def same_start(model, case):
        weights = os.path.join(workdir, case + ".weights.h5")
        if os.path.exists(weights):
            model.load_weights(weights)
        else:
            model.save_weights(weights)

    def batches(size, count, batch):
        data = dataclasses.replace(SMALL.data, eval_examples=count * batch)
        dataset = data_lib.build_dataset(data, split="eval", image_size=size, batch_size=batch,
                                         training=False)
        pairs = list(dataset.as_numpy_iterator())
        return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    def logits(model, images, training=False):
        out = model(images, training=training) if training else model.predict_on_batch(images)
        return np.asarray(out["logits"] if isinstance(out, dict) else out)

    def twenty_steps(model, images, labels):
        # steps_per_epoch=5: the staircase decays the learning rate every 10 steps.
        model.compile(**paper_recipe(steps_per_epoch=5))
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).map(targets_for(model))
        history = model.fit(dataset, epochs=len(images), steps_per_epoch=1, verbose=0, shuffle=False)
        results = {"losses": np.array(history.history["loss"]), "trained": logits(model, images[0])}
        with ema.ema_weights(model):
            results["averaged"] = logits(model, images[0])
        return results

    for case, batch in (("recipe", 8), ("small", 8), ("299", 2)):
        model = network(case)
        same_start(model, case)
        images, labels = batches(model.input_shape[1], 20 if case == "recipe" else 1, batch)
        results = {"logits": logits(model, images[0])}
        if case == "small":
            results["training_logits"] = logits(model, images[0], training=True)
        if case == "recipe":
            results.update(twenty_steps(model, images, labels))
            if backend == BACKENDS[0]:  # float32 rounding alone: every weight one ulp up
                model = network(case)
                same_start(model, case)
                model.set_weights([np.nextafter(w, np.inf) for w in model.get_weights()])
                nudged = twenty_steps(model, images, labels)
                results.update({"nudged_" + key: value for key, value in nudged.items()})
        np.savez(os.path.join(workdir, f"{case}.{backend}.npz"), **results)
"""


def run_on(backend: str, workdir) -> None:
    """Run RUN in a fresh process on `backend`."""
    run_python(RUN, workdir, *BACKENDS, env={"KERAS_BACKEND": backend}, check=True)


@pytest.fixture(scope="module")
def on_both_backends(tmp_path_factory):
    """{case: (TensorFlow's results, JAX's)} for the cases of RUN."""
    workdir = tmp_path_factory.mktemp("backends")
    for backend in BACKENDS:
        run_on(backend, workdir)
    return {case: tuple(dict(np.load(workdir / f"{case}.{backend}.npz")) for backend in BACKENDS)
            for case in ("recipe", "small", "299")}


@pytest.mark.slow
def test_the_same_weights_give_the_same_logits_at_299(on_both_backends):
    tf_results, jax_results = on_both_backends["299"]
    assert tf_results["logits"].shape == (2, 1000) and np.abs(tf_results["logits"]).max() > 0.1
    np.testing.assert_allclose(jax_results["logits"], tf_results["logits"], rtol=0, atol=1e-4)


@pytest.mark.slow
def test_the_same_weights_give_the_same_logits_at_the_small_profile(on_both_backends):
    tf_results, jax_results = on_both_backends["small"]
    np.testing.assert_allclose(jax_results["logits"], tf_results["logits"], rtol=0, atol=1e-4)
    # In training mode every batch norm rescales the previous rounding differences
    # (ulps after the first convolution) to unit variance; they about double
    # per block, to ~1e-3 at the logits after 16 blocks.
    np.testing.assert_allclose(jax_results["training_logits"], tf_results["training_logits"],
                               rtol=0, atol=1e-2)


@pytest.mark.slow
def test_twenty_steps_of_the_recipe_give_the_same_losses(on_both_backends):
    """TF1 RMSProp, staircase schedule, clipping, EMA, smoothed losses with the 0.4 aux weight, weight decay.

    Training at the paper's learning rate amplifies rounding differences
    (about x1.6 a step after the first few here), so the tolerance over the
    20 steps is the float32 noise floor itself: how far TensorFlow's own run
    moves when every starting weight is one ulp higher, times 10.
    """
    tf_results, jax_results = on_both_backends["recipe"]
    expected, actual = tf_results["losses"], jax_results["losses"]
    assert len(expected) == 20 and np.ptp(expected) > 0.1  # it trains
    np.testing.assert_allclose(actual[:5], expected[:5], rtol=1e-5)  # before rounding has grown
    noise_floor = np.abs(tf_results["nudged_losses"] - expected).max()
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=10 * noise_floor)
    for weights in ("trained", "averaged"):  # the logits of the raw and of the averaged weights
        floor = np.abs(tf_results["nudged_" + weights] - tf_results[weights]).max()
        np.testing.assert_allclose(jax_results[weights], tf_results[weights], rtol=0, atol=1e-5 + 10 * floor)
