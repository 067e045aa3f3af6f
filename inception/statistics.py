"""What repeated runs of a table row can say: intervals, differences and verdicts.

A row trained with n seeds gives n top-1 errors. Each row is reported with
n, the mean, the standard deviation and a 95% t-interval of the mean; a
change between two rows (a Table 3 step, a Table 2 row against rf299) as
the difference of their means with Welch's 95% interval (unequal variances).
Multi-crop and ensemble rows (Tables 4 and 5) evaluate fixed networks, so
their uncertainty is over the evaluation images: a bootstrap over images,
paired when two evaluations see the same images.

A verdict compares our interval with the direction of the paper's change;
it never claims more than the interval shows. scipy does the statistics.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000

SAME = "same direction, interval excludes zero"
NOT_DETECTABLE = "not detectable at this scale (interval contains zero)"
OPPOSITE = "opposite direction, interval excludes zero"
TOO_FEW = "too few seeds for an interval (n < 2 in a row)"
NO_PAPER_CHANGE = "interval excludes zero; the paper reports no change"
VERDICTS = (SAME, NOT_DETECTABLE, OPPOSITE, TOO_FEW, NO_PAPER_CHANGE)


@dataclasses.dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval (nan bounds when there is too little data)."""

    estimate: float
    low: float
    high: float
    method: str

    @property
    def defined(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))

    def contains_zero(self) -> bool:
        return self.low <= 0.0 <= self.high


@dataclasses.dataclass(frozen=True)
class Summary:
    """n runs of one row: mean, sample standard deviation and the t-interval of the mean."""

    n: int
    mean: float
    sd: float
    interval: Interval


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """n, mean, SD (ddof 1) and the Student-t interval of the mean of `values`."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("summarize needs at least one value.")
    mean = float(values.mean())
    if values.size < 2:
        return Summary(1, mean, math.nan, Interval(mean, math.nan, math.nan, "t"))
    sd = float(values.std(ddof=1))
    low, high = stats.t.interval(confidence, values.size - 1, loc=mean, scale=stats.sem(values))
    if sd == 0.0:  # every run identical: the interval is the point
        low = high = mean
    return Summary(int(values.size), mean, sd, Interval(mean, float(low), float(high), "t"))


def welch_difference(later: Sequence[float], earlier: Sequence[float],
                     confidence: float = CONFIDENCE) -> Interval:
    """mean(later) - mean(earlier) with Welch's interval (two samples, unequal variances)."""
    later, earlier = np.asarray(later, np.float64), np.asarray(earlier, np.float64)
    estimate = float(later.mean() - earlier.mean())
    if later.size < 2 or earlier.size < 2:
        return Interval(estimate, math.nan, math.nan, "welch")
    if later.std() == 0.0 and earlier.std() == 0.0:
        return Interval(estimate, estimate, estimate, "welch")
    result = stats.ttest_ind(later, earlier, equal_var=False)
    low, high = result.confidence_interval(confidence_level=confidence)
    return Interval(estimate, float(low), float(high), "welch")


def _bootstrap(samples: tuple, statistic, paired: bool, confidence: float, seed: int) -> tuple:
    """Percentile bootstrap (robust where every resample agrees, unlike BCa)."""
    result = stats.bootstrap(samples, statistic, paired=paired, vectorized=True,
                             confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                             method="percentile", random_state=seed)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _mean(*arrays, axis=-1):
    return np.mean(arrays[0], axis=axis)


def _mean_difference(later, earlier, axis=-1):
    return np.mean(later, axis=axis) - np.mean(earlier, axis=axis)


def bootstrap_error(correct: Sequence[bool], confidence: float = CONFIDENCE, seed: int = 0) -> Interval:
    """Error rate (1 - mean of `correct`) over images, with a bootstrap interval."""
    errors = 1.0 - np.asarray(correct, dtype=np.float64)
    low, high = _bootstrap((errors,), _mean, False, confidence, seed)
    return Interval(float(errors.mean()), low, high, "bootstrap over images")


def paired_bootstrap_difference(later: Sequence[bool], earlier: Sequence[bool],
                                confidence: float = CONFIDENCE, seed: int = 0) -> Interval:
    """error(later) - error(earlier) on the same images, with a paired bootstrap interval."""
    later_errors = 1.0 - np.asarray(later, dtype=np.float64)
    earlier_errors = 1.0 - np.asarray(earlier, dtype=np.float64)
    if later_errors.shape != earlier_errors.shape:
        raise ValueError("A paired comparison needs the same images in both evaluations.")
    low, high = _bootstrap((later_errors, earlier_errors), _mean_difference, True, confidence, seed)
    return Interval(float(later_errors.mean() - earlier_errors.mean()), low, high,
                    "paired bootstrap over images")


def verdict(paper_change: Optional[float], ours: Interval) -> str:
    """One of `VERDICTS`: how our interval of a change relates to the paper's change."""
    if not ours.defined:
        return TOO_FEW
    if ours.contains_zero():
        return NOT_DETECTABLE
    if paper_change is None or paper_change == 0.0:
        return NO_PAPER_CHANGE
    return SAME if (ours.estimate > 0) == (paper_change > 0) else OPPOSITE
