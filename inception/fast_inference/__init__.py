"""Faster inference on CPU: batch norm folded into the convolutions; int8 through oneDNN.

    from inception import fast_inference
    fast = fast_inference.fold_batch_norm(inception.without_aux(model))
    fast.predict_on_batch(images)            # same outputs, fewer ops; a plain Keras model
    int8 = fast_inference.Int8Classifier(fast, calibration_images)   # ~500 training images
    int8(images)                             # logits, int8 convolutions (oneDNN)
    fast_inference.save_int8(int8, "exported/int8/1")               # SavedModel, predict_images

Modules: `folding.py` (batch-norm folding, frozen constant graphs), `int8.py`
(calibration, the int8 graph, its SavedModel).
"""

from inception.compat import onednn_enabled
from inception.fast_inference.folding import (
    fold_batch_norm,
    foldable_pairs,
    folded_kernel_and_bias,
    frozen_function,
)
from inception.fast_inference.int8 import (
    IMAGES_SIGNATURE,
    ONEDNN_FLAG,
    Int8Classifier,
    Quantized,
    calibrate,
    int8_forward,
    int8_weights,
    plan_ranges,
    save_int8,
)

__all__ = ["IMAGES_SIGNATURE", "ONEDNN_FLAG", "Int8Classifier", "Quantized", "calibrate",
           "fold_batch_norm", "foldable_pairs", "folded_kernel_and_bias", "frozen_function",
           "int8_forward", "int8_weights", "onednn_enabled", "plan_ranges", "save_int8"]
