"""Every use of a private Keras or TensorFlow internal, in one place.

Each function here works around something the public API does not offer,
says which upstream issue or missing API it stands for, and has a canary
test in `tests/test_compat.py` that fails loudly when the internal it relies
on moves (a Keras upgrade is the likeliest way this project breaks). Nothing
else in the project touches `keras.src`, `tensorflow.python` or underscore
attributes of Keras objects. The versions these were written against are
pinned in setup.cfg.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional


# -- TensorFlow -----------------------------------------------------------------

def onednn_enabled() -> bool:
    """Whether TensorFlow runs with oneDNN kernels in this process.

    No public API says so (TF_ENABLE_ONEDNN_OPTS only states a wish, and the
    default depends on the CPU); `IsMklEnabled` is what TensorFlow's own
    start-up message reads.
    """
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


def variables_to_constants(concrete_function):
    """A concrete function with its variables folded into graph constants.

    `convert_variables_to_constants_v2` has no public export in TF 2 (only
    the TF1 `graph_util` one for GraphDefs); the int8 kernels need constant
    filters, and constant folding needs constant weights.
    """
    from tensorflow.python.framework import convert_to_constants

    return convert_to_constants.convert_variables_to_constants_v2(concrete_function)


# -- The functional graph of a Keras model ---------------------------------------
# Keras 3 has no public API to walk a functional model's graph (which layer
# produced a tensor, which nodes call a layer); graph rewrites (batch-norm
# folding, int8) need it.

def producer(tensor):
    """The layer whose output the symbolic Keras `tensor` is (an InputLayer for an input)."""
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def inbound_nodes(layer) -> list:
    """The nodes where `layer` is called in functional models."""
    return list(layer._inbound_nodes)


def outbound_nodes(layer) -> list:
    """The nodes that consume `layer`'s outputs."""
    return list(layer._outbound_nodes)


def nodes_in_order(model) -> list:
    """Every node of a functional model, inputs first (topological order)."""
    by_depth = model._nodes_by_depth
    return [node for depth in sorted(by_depth, reverse=True) for node in by_depth[depth]]


# -- Keras training internals ----------------------------------------------------

SEED_GENERATOR_STATE = "seed_generator_state"


def seed_generator_states(model) -> list:
    """The variables holding the random-number state of `model` (dropout, the colour distortion layer).

    Keras does not save SeedGenerator states with the weights, and offers no
    accessor; they are the non-trainable variables named so.
    """
    return [v for v in model.non_trainable_variables if v.name == SEED_GENERATOR_STATE]


def prebuild_compiled_state(model, data_batch) -> None:
    """Build the compiled losses' and metrics' state from specs, once, and skip Keras' per-call build.

    Works around two things. keras-team/keras#20585 (open in Keras 3.15):
    before every fit/evaluate under MultiWorkerMirroredStrategy, Keras reads a
    real batch and `strategy.reduce`s it only to learn its shapes, which
    fails for nested batches. And without a strategy (one device) Keras
    defers the build into the first trace of the training step
    (`_maybe_symbolic_build` returns early), so the loss trackers' variables
    are created inside `tf.function`, and TensorFlow traces the whole step
    again without them (tensorflow/tensorflow#48851). `data_batch` is
    (images spec, targets spec).
    """
    model._symbolic_build(data_batch=data_batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


@contextlib.contextmanager
def multi_worker_logs_averaged() -> Iterator[None]:
    """While inside, Keras averages per-replica logs of MultiWorkerMirroredStrategy over replicas.

    Works around keras-team/keras#20585 (open in Keras 3.15): after each step
    Keras reduces the per-replica loss and metrics with
    `strategy.reduce("MEAN", value, axis=0)`, which fails for those scalars
    under MultiWorkerMirroredStrategy; `axis=None` averages them over the
    replicas. Scoped: Keras' own function is back in place on exit.
    """
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer as keras_trainer

    keras_reduce = keras_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return tf.nest.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return keras_reduce(values, strategy, reduction)

    keras_trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        keras_trainer.reduce_per_replica = keras_reduce


class GradientsSummedBeforeClipping:
    """Optimizer mixin: under tf.distribute, sum the gradients over replicas *before* Keras clips them.

    Keras 3 on TensorFlow clips each replica's gradient in
    `_backend_apply_gradients` and only then all-reduces it in
    `_backend_update_step` (`_all_reduce_sum_gradients`), so with R replicas
    the global norm of the applied step can reach R times `global_clipnorm`;
    there is no public hook between the all-reduce and the update. This is
    the long-standing tensorflow/tensorflow#33929 (clipping before
    aggregation, "usually wrong"), still so in Keras 3.15. TF1's synchronous
    replicas clipped the summed gradient, as here: the sum moves in front of
    the clipping and Keras' own all-reduce becomes the identity.

    On JAX (and outside `strategy.run`) the gradient reaching the optimizer
    is already the gradient of the global batch (`keras.distribution` runs
    one SPMD program), so nothing is summed.
    """

    def _backend_apply_gradients(self, grads, trainable_variables):
        super()._backend_apply_gradients(summed_over_replicas(grads), trainable_variables)

    def _all_reduce_sum_gradients(self, grads_and_vars):
        # Called by the TF backend's update step, after the clipping; already summed above.
        return list(grads_and_vars)


def summed_over_replicas(grads) -> list:
    """The gradients all-reduced (summed) over tf.distribute replicas; unchanged elsewhere.

    Keras scales each replica's loss by 1/R, so the sum is the gradient of
    the mean loss over the global batch.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return list(grads)
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return list(grads)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, list(grads))


def variable_index(optimizer, variable) -> Optional[int]:
    """The position of a model variable among those the optimizer was built with.

    Keras keeps this mapping privately (`_get_variable_index`); slot lookups
    (the moving averages of a weight) need it.
    """
    return optimizer._get_variable_index(variable)
