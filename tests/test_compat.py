"""Canaries for inception.compat: each fails loudly when a private Keras/TF internal moves.

If one of these fails after a Keras or TensorFlow upgrade, the workaround in
`inception/compat.py` that names it needs a new way in (or the upstream fix).
"""

import ast
import pathlib

import keras
import numpy as np
import tensorflow as tf

from inception import compat
from tests.support import variables_created_while_tracing

REPO = pathlib.Path(__file__).resolve().parents[1]


def _functional():
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(3, name="hidden")(inputs)
    outputs = keras.layers.Dropout(0.5, seed=1, name="drop")(keras.layers.ReLU(name="relu")(hidden))
    return keras.Model(inputs, outputs)


def test_onednn_probe_answers_a_bool():
    assert compat.onednn_enabled() in (True, False)


def test_variables_to_constants_folds_the_weights():
    model = _functional()
    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 4], tf.float32))
    frozen = compat.variables_to_constants(traced)
    assert not frozen.variables
    x = tf.ones([1, 4])
    np.testing.assert_allclose(frozen(x)[0].numpy(), traced(x).numpy(), atol=1e-6)


def test_the_functional_graph_can_be_walked():
    model = _functional()
    relu = model.get_layer("relu")
    assert compat.producer(relu.output) is relu
    assert isinstance(compat.producer(model.inputs[0]), keras.layers.InputLayer)
    assert len(compat.inbound_nodes(relu)) == 1 and len(compat.outbound_nodes(model.get_layer("hidden"))) == 1
    names = [node.operation.name for node in compat.nodes_in_order(model) if not node.is_input]
    assert names == ["hidden", "relu", "drop"]


def test_dropout_rng_state_is_found_by_name():
    states = compat.seed_generator_states(_functional())
    assert len(states) == 1 and states[0].name == compat.SEED_GENERATOR_STATE


def test_the_keras_builders_the_multi_worker_workaround_replaces_exist():
    model = _functional()
    model.compile(optimizer="sgd", loss="mse")
    assert callable(model._symbolic_build) and callable(model._maybe_symbolic_build)
    compat.prebuild_compiled_state(model, (tf.TensorSpec([2, 4]), tf.TensorSpec([2, 3])))
    assert model.compiled_loss is not None


def test_the_log_reduction_patch_is_scoped():
    from keras.src.backend.tensorflow import trainer as keras_trainer

    before = keras_trainer.reduce_per_replica
    with compat.multi_worker_logs_averaged():
        assert keras_trainer.reduce_per_replica is not before
    assert keras_trainer.reduce_per_replica is before


def test_the_optimizer_variable_index_is_found():
    model = _functional()
    optimizer = keras.optimizers.SGD()
    optimizer.build(model.trainable_variables)
    assert compat.variable_index(optimizer, model.trainable_variables[1]) == 1


def test_no_other_module_touches_private_internals():
    """keras.src, tensorflow.python and `._private` attributes of Keras objects live only in compat."""
    offenders = []
    for path in sorted((REPO / "inception").rglob("*.py")) + sorted((REPO / "tools").glob("*.py")):
        if path.name == "compat.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if module and (module.startswith("keras.src") or module.startswith("tensorflow.python")):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno} imports {module}")
            elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                  and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} uses .{node.attr}")
    assert not offenders, "\n".join(offenders)


def test_keras_clips_between_the_two_methods_the_summing_mixin_overrides():
    """Keras' order: _backend_apply_gradients -> _clip_gradients -> _all_reduce_sum_gradients -> update_step."""
    calls = []

    class Recording(compat.GradientsSummedBeforeClipping, keras.optimizers.SGD):
        def _backend_apply_gradients(self, grads, trainable_variables):
            calls.append("apply")
            super()._backend_apply_gradients(grads, trainable_variables)

        def _clip_gradients(self, grads):
            calls.append("clip")
            return super()._clip_gradients(grads)

        def _all_reduce_sum_gradients(self, grads_and_vars):
            calls.append("all_reduce")
            return super()._all_reduce_sum_gradients(grads_and_vars)

        def update_step(self, gradient, variable, learning_rate):
            calls.append("update")
            super().update_step(gradient, variable, learning_rate)

    variable = keras.Variable([3.0, 4.0])
    Recording(learning_rate=1.0, global_clipnorm=1.0).apply([keras.ops.convert_to_tensor([3.0, 4.0])], [variable])
    assert calls == ["apply", "clip", "all_reduce", "update"]  # the TF backend's order
    np.testing.assert_allclose(variable.numpy(), [3.0 - 0.6, 4.0 - 0.8], rtol=1e-6)  # clipped to norm 1


def test_gradients_are_unchanged_outside_a_replica_context():
    grads = [tf.constant([1.0, 2.0])]
    assert compat.summed_over_replicas(grads)[0] is grads[0]


def _compiled_tiny_model():
    from inception.training import paper_recipe
    from inception.training.testing import tiny_model

    model = tiny_model()
    model.compile(**paper_recipe(steps_per_epoch=10))
    return model


def _tiny_batches():
    images = np.zeros((4, 28, 28, 3), "float32")
    return tf.data.Dataset.from_tensors((images, np.arange(4, dtype="int32"))).repeat()


def test_without_a_strategy_keras_still_builds_the_loss_trackers_inside_the_first_trace():
    """While this holds, `prebuild_compiled_state` saves every run a second trace of its training step;
    when it fails, Keras builds them before tracing and the one-device call of the workaround can go."""
    model = _compiled_tiny_model()
    with variables_created_while_tracing() as created:
        model.fit(_tiny_batches(), steps_per_epoch=1, verbose=0)
    assert created


def test_a_prebuilt_model_creates_no_variable_while_its_steps_are_traced():
    model = _compiled_tiny_model()
    batches = _tiny_batches()
    compat.prebuild_compiled_state(model, batches.element_spec)
    with variables_created_while_tracing() as created:
        model.fit(batches, steps_per_epoch=1, verbose=0)
        model.evaluate(batches, steps=1, verbose=0)
    assert created == []
