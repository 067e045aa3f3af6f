"""Parameter averaging for evaluation (paper section 8).

"Model evaluations are performed using a running average of the parameters
computed over time." The authors' code uses TF1's
`ExponentialMovingAverage(0.9999, num_updates=global_step)`, whose effective
decay is min(0.9999, (1 + t) / (10 + t)): early averages follow the weights
instead of staying near the random initialisation.

The averages live in the optimizer's slots (`optimizer.TF1Optimizer`); the
model always holds its raw training weights. `ema_weights(model)` swaps the
averages in for evaluation or export and swaps the raw weights back.
"""

from __future__ import annotations

import contextlib

import keras
from keras import ops


def tf1_decay(step, max_decay: float):
    """Effective decay of TF1's ExponentialMovingAverage with num_updates=step."""
    return ops.minimum(max_decay, (1.0 + step) / (10.0 + step))


def has_averages(model: keras.Model) -> bool:
    return bool(getattr(getattr(model, "optimizer", None), "has_averages", False))


def _pairs(model: keras.Model):
    optimizer = model.optimizer
    if optimizer is None or not optimizer.built:
        raise ValueError("The model's optimizer is not built; there are no averages yet.")
    return [(v, optimizer.average_of(v)) for v in model.trainable_variables]


def assign_ema_weights(model: keras.Model) -> None:
    """Overwrite the model's trainable weights with their moving averages (for export)."""
    for variable, average in _pairs(model):
        variable.assign(average)


@contextlib.contextmanager
def ema_weights(model: keras.Model, enabled: bool = True):
    """Within the block the model holds its averaged weights; afterwards its raw ones.

    A no-op when `enabled` is False or the model's optimizer keeps no
    averages, so evaluation code can always use it. Only trainable variables
    are averaged; batch-norm moving statistics are already averages.

        with ema_weights(model):
            model.evaluate(eval_ds)
    """
    if not (enabled and has_averages(model)):
        yield model
        return
    pairs = _pairs(model)
    raw = [ops.copy(variable.value) for variable, _ in pairs]
    for variable, average in pairs:
        variable.assign(average)
    try:
        yield model
    finally:
        for (variable, _), value in zip(pairs, raw):
            variable.assign(value)
