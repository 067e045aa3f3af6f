"""The paper's optimizers with TensorFlow-1 semantics (paper section 8), in `keras.ops`.

Both are `keras.optimizers.Optimizer`s, so they work with `model.compile` and
`model.fit` on every Keras backend (TensorFlow and JAX are tested). What Keras
does not do, and this module adds:

- TF1 update rules. Keras' RMSprop starts the mean-square slot at 0 and puts
  epsilon outside the square root; with the paper's epsilon of 1.0 that is a
  different optimizer. Keras' SGD folds the learning rate into the momentum
  accumulator; TF1's MomentumOptimizer does not. The rules below are written
  in the order of TF's own training kernels (`ApplyRMSProp`,
  `ApplyMomentum`), which TF1's optimizers ran.
- Clipping the global gradient. Under tf.distribute Keras clips each
  replica's gradient before the all-reduce, so with R replicas the global
  norm of the applied update can reach R times the threshold. Here the
  gradients are summed across replicas first, then clipped, as TF1's
  synchronous replicas did (`compat.GradientsSummedBeforeClipping`). Under
  `keras.distribution` (JAX) the gradient is already the global one.
- TF1's parameter averaging, `ExponentialMovingAverage(decay, num_updates=t)`
  (see `ema.py`), kept in optimizer slots so that it is checkpointed with the
  optimizer and updated where each variable lives. Keras' `use_ema` has no
  warm-up and overwrites the model's weights at the end of `fit`; here the
  model keeps its raw weights and `ema.ema_weights(model)` swaps the
  averages in for evaluation and export.
"""

from __future__ import annotations

from typing import Optional

import keras
from keras import ops

from inception import compat
from inception.training import ema


def _copy_of(variable):
    """An initializer giving the variable's current value (TF1 starts shadows there).

    A copy, not the same buffer: JAX donates each variable's buffer to the
    training step, and one buffer cannot be donated twice.
    """

    def initializer(shape, dtype=None):
        return ops.copy(ops.cast(ops.convert_to_tensor(variable), dtype or variable.dtype))

    return initializer


def _as(value, variable):
    """`value` as a tensor of the variable's dtype (gradients and hyper-parameters alike)."""
    return ops.cast(value, variable.dtype)


class TF1Optimizer(compat.GradientsSummedBeforeClipping, keras.optimizers.Optimizer):
    """Base of the paper's optimizers: clipping of the global gradient and TF1 averaging.

    Subclasses create their slots in `build_slots` and implement the update
    rule in `apply_rule` with `keras.ops`; everything else is Keras.

    Args:
        learning_rate: float or `keras.optimizers.schedules.LearningRateSchedule`.
        global_clipnorm: clip the global (all-reduced) gradient to this norm.
        ema_decay: keep TF1 moving averages of the trainable variables with
            this maximum decay (0.9999 in the paper); None keeps none.
    """

    def __init__(self, learning_rate, *, global_clipnorm: Optional[float] = None,
                 ema_decay: Optional[float] = None, name: Optional[str] = None, **kwargs):
        if kwargs.get("use_ema"):
            raise ValueError("Use `ema_decay` (TF1 averaging with warm-up), not Keras' `use_ema`.")
        if kwargs.get("gradient_accumulation_steps"):
            raise ValueError("Gradient accumulation would bypass the cross-replica clipping.")
        super().__init__(learning_rate=learning_rate, global_clipnorm=global_clipnorm,
                         name=name, **kwargs)
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1); got {ema_decay}")
        self.ema_decay = ema_decay

    # -- slots -------------------------------------------------------------

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.build_slots(variables)
        self._averages = []
        if self.ema_decay is not None:
            self._averages = [
                self.add_variable_from_reference(v, "average", initializer=_copy_of(v))
                for v in variables
            ]

    def build_slots(self, variables):
        raise NotImplementedError

    def slot_index(self, variable) -> int:
        """The position of a model variable among the slots (as the optimizer was built)."""
        return compat.variable_index(self, variable)

    def average_of(self, variable):
        """The moving average (a variable) of one of the model's trainable variables."""
        if self.ema_decay is None:
            raise ValueError("This optimizer keeps no moving averages (ema_decay=None).")
        return self._averages[self.slot_index(variable)]

    @property
    def learning_rate_schedule(self):
        """The schedule itself (Keras' `learning_rate` is its value at the current step)."""
        return self._learning_rate

    @property
    def has_averages(self) -> bool:
        return self.ema_decay is not None

    # -- one step ----------------------------------------------------------

    def update_step(self, gradient, variable, learning_rate):
        """One variable's update (Keras calls it after clipping the global gradient)."""
        self.apply_rule(_as(gradient, variable), variable, _as(learning_rate, variable))
        if self.ema_decay is not None:
            self._update_average(variable)

    def apply_rule(self, gradient, variable, learning_rate):
        raise NotImplementedError

    def _update_average(self, variable):
        """TF1 `assign_moving_average`: avg -= (avg - var) * (1 - decay).

        t is the number of updates before this one (TF1's `global_step` as the
        step reads it), so the first update uses decay min(d, 1/10).
        """
        average = self.average_of(variable)
        decay = ema.tf1_decay(ops.cast(self.iterations, variable.dtype), self.ema_decay)
        self.assign_sub(average, ops.multiply(ops.subtract(average, variable), 1.0 - decay))

    def get_config(self):
        config = super().get_config()
        config["ema_decay"] = self.ema_decay
        for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency",
                    "gradient_accumulation_steps"):
            config.pop(key, None)
        return config


@keras.saving.register_keras_serializable(package="inception")
class TF1RMSProp(TF1Optimizer):
    """RMSProp as `tf.compat.v1.train.RMSPropOptimizer` (paper section 8).

        ms  <- ms + (g^2 - ms) * (1 - decay)         (ms starts at 1.0)
        mom <- momentum * mom + lr * g / sqrt(ms + epsilon)
        var <- var - mom

    Paper values: decay 0.9, momentum 0.9, epsilon 1.0.
    """

    def __init__(self, learning_rate=0.045, decay: float = 0.9, momentum: float = 0.9,
                 epsilon: float = 1.0, **kwargs):
        kwargs.setdefault("name", "tf1_rmsprop")
        super().__init__(learning_rate, **kwargs)
        self.decay = decay
        self.momentum = momentum
        self.epsilon = epsilon

    def build_slots(self, variables):
        self._mean_squares = [
            self.add_variable_from_reference(v, "rms", initializer="ones") for v in variables
        ]
        self._momenta = [self.add_variable_from_reference(v, "momentum") for v in variables]

    def apply_rule(self, gradient, variable, learning_rate):
        index = self.slot_index(variable)
        mean_square, momentum = self._mean_squares[index], self._momenta[index]
        self.assign_add(mean_square, ops.multiply(ops.subtract(ops.square(gradient), mean_square),
                                                  _as(1.0 - self.decay, variable)))
        step = ops.divide(ops.multiply(gradient, learning_rate),
                          ops.sqrt(ops.add(mean_square, _as(self.epsilon, variable))))
        self.assign(momentum, ops.add(ops.multiply(momentum, _as(self.momentum, variable)), step))
        self.assign_sub(variable, momentum)

    def get_config(self):
        config = super().get_config()
        config.update(decay=self.decay, momentum=self.momentum, epsilon=self.epsilon)
        return config


@keras.saving.register_keras_serializable(package="inception")
class TF1Momentum(TF1Optimizer):
    """Momentum SGD as `tf.compat.v1.train.MomentumOptimizer` (paper Table 3, first row).

        accum <- momentum * accum + g
        var   <- var - lr * accum
    """

    def __init__(self, learning_rate=0.045, momentum: float = 0.9, **kwargs):
        kwargs.setdefault("name", "tf1_momentum")
        super().__init__(learning_rate, **kwargs)
        self.momentum = momentum

    def build_slots(self, variables):
        self._accumulators = [self.add_variable_from_reference(v, "momentum") for v in variables]

    def apply_rule(self, gradient, variable, learning_rate):
        accumulator = self._accumulators[self.slot_index(variable)]
        self.assign(accumulator, ops.add(ops.multiply(accumulator, _as(self.momentum, variable)),
                                         gradient))
        self.assign_sub(variable, ops.multiply(accumulator, learning_rate))

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum)
        return config
