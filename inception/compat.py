"""Every use of a private Keras or TensorFlow internal, in one place.

Each function here works around something the public API does not offer,
names the upstream issue or the missing API, and has a canary test in
`tests/test_compat.py` that fails loudly when the internal it relies on
moves. Nothing else in the project may touch `keras.src`, `tensorflow.python`
or underscore attributes of Keras objects.
"""

from __future__ import annotations


def onednn_enabled() -> bool:
    """Whether TensorFlow runs with oneDNN kernels in this process.

    No public API says so (TF_ENABLE_ONEDNN_OPTS only states a wish, and the
    default depends on the CPU); `IsMklEnabled` is what TensorFlow's own
    start-up message reads.
    """
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())
