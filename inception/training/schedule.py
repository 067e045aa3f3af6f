"""The learning-rate schedule of paper section 8.

"A learning rate of 0.045, decayed every two epoch using an exponential rate
of 0.94": lr(step) = 0.045 * 0.94 ** floor(step / (2 * steps_per_epoch)),
epochs counted in steps of the global batch. Keras' ExponentialDecay with
staircase=True is exactly this.
"""

from __future__ import annotations

import keras


def paper_learning_rate(steps_per_epoch: float, initial: float = 0.045, decay_rate: float = 0.94,
                        decay_epochs: float = 2.0) -> keras.optimizers.schedules.LearningRateSchedule:
    """Staircase exponential decay every `decay_epochs` epochs of `steps_per_epoch` steps."""
    if steps_per_epoch <= 0:
        raise ValueError(f"steps_per_epoch must be positive; got {steps_per_epoch}")
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=initial,
        decay_steps=float(steps_per_epoch) * decay_epochs,
        decay_rate=decay_rate,
        staircase=True,
    )
