"""The staircase learning rate of paper section 8."""

import numpy as np
import pytest

from inception.training.schedule import paper_learning_rate


@pytest.mark.parametrize("step, decays", [(0, 0), (199, 0), (200, 1), (399, 1), (400, 2), (10_050, 50)])
def test_rate_decays_by_094_every_two_epochs(step, decays):
    schedule = paper_learning_rate(steps_per_epoch=100)  # two epochs = 200 steps
    np.testing.assert_allclose(float(schedule(step)), 0.045 * 0.94**decays, rtol=1e-6)


def test_fractional_epochs_of_steps():
    schedule = paper_learning_rate(steps_per_epoch=12.5, decay_epochs=2.0)
    assert float(schedule(24)) == pytest.approx(0.045)
    assert float(schedule(25)) == pytest.approx(0.045 * 0.94)
