"""Label-smoothed cross-entropy (paper section 7).

q'(k) = (1 - eps) * delta(k, y) + eps * u(k) with u(k) = 1/K and eps = 0.1, so
the loss is (1 - eps) * H(q, p) + eps * H(u, p). Keras' CategoricalCrossentropy
smooths exactly this way but takes one-hot targets; this wrapper takes the
sparse integer labels the input pipeline yields.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="inception")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy from logits against integer labels smoothed towards 1/K."""

    def __init__(self, label_smoothing: float = 0.1, name: str = "smoothed_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        num_classes = ops.shape(y_pred)[-1]
        labels = ops.reshape(ops.cast(y_true, "int32"), ops.shape(y_pred)[:-1])
        one_hot = ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=True, label_smoothing=self.label_smoothing)

    def get_config(self):
        config = super().get_config()
        config["label_smoothing"] = self.label_smoothing
        return config
