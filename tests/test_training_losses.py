"""Label smoothing as in paper section 7."""

import numpy as np
import pytest

from inception.training.losses import SmoothedSparseCategoricalCrossentropy


def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("label_shape", [(4,), (4, 1)])
def test_loss_is_the_paper_mixture_of_cross_entropies(label_shape):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 7)).astype(np.float32) * 3
    labels = np.array([0, 3, 6, 2])
    eps, num_classes = 0.1, 7
    log_p = _log_softmax(logits.astype(np.float64))
    h_q = -log_p[np.arange(4), labels]  # H(q, p), q the one-hot label
    h_u = -log_p.mean(axis=-1)  # H(u, p), u = 1/K
    expected = ((1 - eps) * h_q + eps * h_u).mean()
    loss = SmoothedSparseCategoricalCrossentropy(eps)(labels.reshape(label_shape), logits)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    assert num_classes == logits.shape[-1]


def test_no_smoothing_is_plain_cross_entropy():
    logits = np.array([[2.0, -1.0, 0.5]], np.float32)
    expected = -_log_softmax(logits.astype(np.float64))[0, 2]
    np.testing.assert_allclose(float(SmoothedSparseCategoricalCrossentropy(0.0)(np.array([2]), logits)),
                               expected, rtol=1e-6)
