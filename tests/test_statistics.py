"""inception.statistics against numbers worked out by hand from the textbook formulas."""

import math

import numpy as np
import pytest

from inception import statistics


def test_summary_of_five_runs():
    # mean 3, SD sqrt(10 / 4) = 1.5811, standard error 1.5811 / sqrt(5) = 0.7071,
    # t(0.975, 4) = 2.7764: 3 -+ 1.9632.
    summary = statistics.summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert summary.n == 5
    assert summary.mean == pytest.approx(3.0)
    assert summary.sd == pytest.approx(1.5811388)
    assert summary.interval.low == pytest.approx(1.0367568)
    assert summary.interval.high == pytest.approx(4.9632432)


def test_one_run_has_no_interval():
    summary = statistics.summarize([0.1])
    assert summary.n == 1 and summary.mean == 0.1
    assert math.isnan(summary.sd) and not summary.interval.defined


def test_welch_difference_of_means():
    # 5.5 - 2.0 = 3.5; se^2 = 1.6667 / 4 + 1 / 3 = 0.75; Welch-Satterthwaite
    # df = 0.75^2 / ((1.6667/4)^2 / 3 + (1/3)^2 / 2) = 4.9592, t(0.975, df) = 2.5770:
    # 3.5 -+ 2.5770 * 0.8660 = 3.5 -+ 2.2317.
    difference = statistics.welch_difference([4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0])
    assert difference.estimate == pytest.approx(3.5)
    assert difference.low == pytest.approx(1.2682885)
    assert difference.high == pytest.approx(5.7317115)


def test_welch_needs_two_runs_per_row():
    assert not statistics.welch_difference([1.0, 2.0], [1.0]).defined
    assert statistics.verdict(-0.3, statistics.welch_difference([1.0, 2.0], [1.0])) == statistics.TOO_FEW


def test_bootstrap_error_over_images_brackets_the_binomial_interval():
    # 20 errors in 100 images: the normal approximation gives 0.2 -+ 1.96 * 0.04.
    correct = np.array([True] * 80 + [False] * 20)
    interval = statistics.bootstrap_error(correct)
    assert interval.estimate == pytest.approx(0.2)
    assert interval.low == pytest.approx(0.2 - 0.0784, abs=0.015)
    assert interval.high == pytest.approx(0.2 + 0.0784, abs=0.015)


def test_paired_bootstrap_sees_only_the_images_that_changed():
    earlier = np.array([True] * 80 + [False] * 20)
    later = earlier.copy()
    later[:10] = False  # ten more errors, on the same images
    difference = statistics.paired_bootstrap_difference(later, earlier)
    assert difference.estimate == pytest.approx(0.1)
    # Only the 10 discordant images vary: sd of the mean difference = sqrt(0.1 * 0.9 / 100) = 0.03.
    assert difference.low == pytest.approx(0.1 - 1.96 * 0.03, abs=0.015)
    assert difference.low > 0.0
    same = statistics.paired_bootstrap_difference(earlier, earlier)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same images"):
        statistics.paired_bootstrap_difference(earlier[:50], earlier)


@pytest.mark.parametrize("paper, low, high, expected", [
    (-0.003, -0.02, -0.01, statistics.SAME),
    (-0.003, -0.02, 0.01, statistics.NOT_DETECTABLE),
    (-0.003, 0.01, 0.02, statistics.OPPOSITE),
    (0.014, 0.01, 0.02, statistics.SAME),
    (0.0, 0.01, 0.02, statistics.NO_PAPER_CHANGE),
])
def test_verdicts(paper, low, high, expected):
    ours = statistics.Interval((low + high) / 2, low, high, "t")
    assert statistics.verdict(paper, ours) == expected
