"""Confidence intervals and tests of difference for published rates and percentages.

Rates per 10,000 treat the count as Poisson: Byar's approximation for counts of 10 or more and
the exact (chi-square) interval below 10, as the PHE/OHID Fingertips technical guidance does.
Percentages use Wilson's score interval. Differences between two areas are tested with the
score test of two Poisson rates (statsmodels ``test_poisson_2indep``) or of two proportions.
A mean of several areas' rates uses Dobson's method for a weighted sum of Poisson counts; a
mean of their percentages, the normal interval of a mean of binomial proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

#: Counts below this use the exact Poisson interval rather than Byar's approximation.
EXACT_BELOW = 10


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def poisson_interval(count: float, level: float = 0.95) -> tuple[float, float]:
    """Interval for a Poisson count: exact below :data:`EXACT_BELOW`, Byar's otherwise.

    >>> [round(x, 2) for x in poisson_interval(6)]
    [2.2, 13.06]
    """
    if count < 0 or math.isnan(count):
        raise ValueError(f"a count of 0 or more, not {count}")
    alpha = 1 - level
    if count < EXACT_BELOW:
        lower = 0.0 if count == 0 else stats.chi2.ppf(alpha / 2, 2 * count) / 2
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * (count + 1)) / 2
        return float(lower), float(upper)
    z = _z(level)
    lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    upper = (count + 1) * (1 - 1 / (9 * (count + 1)) + z / (3 * math.sqrt(count + 1))) ** 3
    return float(lower), float(upper)


def rate_interval(count: float, population: float, per: float = 10_000,
                  level: float = 0.95) -> tuple[float, float]:
    """Interval for a rate per ``per`` (default 10,000) of ``count`` events in ``population``."""
    lower, upper = poisson_interval(count, level)
    return lower / population * per, upper / population * per


def wilson_interval(successes: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion, as percentages (0-100)."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"0 <= successes <= trials and trials > 0, not {successes}/{trials}")
    z = _z(level)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def rates_differ(count1: float, population1: float, count2: float,
                 population2: float) -> tuple[float, float]:
    """Score test that two Poisson rates are equal: (z statistic, two-sided p-value)."""
    from statsmodels.stats.rates import test_poisson_2indep

    result = test_poisson_2indep(count1, population1, count2, population2, method="score")
    return float(result.statistic), float(result.pvalue)


def proportions_differ(successes1: float, trials1: float, successes2: float,
                       trials2: float) -> tuple[float, float]:
    """Score (pooled) z test that two proportions are equal: (z, two-sided p-value)."""
    pooled = (successes1 + successes2) / (trials1 + trials2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / trials1 + 1 / trials2))
    if se == 0:
        return 0.0, 1.0
    z = (successes1 / trials1 - successes2 / trials2) / se
    return z, float(2 * stats.norm.sf(abs(z)))


def exact_ratio_interval(count1: float, exposure1: float, count2: float, exposure2: float,
                         alpha: float = 0.05) -> tuple[float, float]:
    """Exact conditional interval for a ratio of two Poisson rates: given the total, count1
    is binomial with p = r e1 / (r e1 + e2); Clopper-Pearson limits of p map to the ratio as
    p / (1 - p) x e2 / e1 (lower 0 when count1 is 0). Element-wise for arrays (then returns
    arrays)."""
    c1, c2 = np.asarray(count1, dtype=float), np.asarray(count2, dtype=float)
    with np.errstate(invalid="ignore"):  # count1 = 0 has no lower quantile: its limit is 0
        lo_p = np.where(c1 == 0, 0.0, stats.beta.ppf(alpha / 2, c1, c2 + 1))
    hi_p = stats.beta.ppf(1 - alpha / 2, c1 + 1, c2)
    scale = np.asarray(exposure2, dtype=float) / np.asarray(exposure1, dtype=float)
    low, up = lo_p / (1 - lo_p) * scale, hi_p / (1 - hi_p) * scale
    return (float(low), float(up)) if np.ndim(low) == 0 else (low, up)


def weighted_sum_interval(counts: Sequence[float], weights: Sequence[float],
                          level: float = 0.95) -> tuple[float, float] | None:
    """Dobson's interval for a weighted sum of Poisson counts, sum(w x) (as Fingertips uses for
    directly standardised rates): the interval of the total count (:func:`poisson_interval`)
    scaled by sqrt(var(sum w x) / var(sum x)). An unweighted mean of k rates per 10,000 is the
    sum with w = 10,000 / (k x population). ``None`` when the counts total 0 (no counts, or
    all 0): Dobson's method has nothing to scale.

    >>> [round(x, 2) for x in weighted_sum_interval([20, 30], [0.5, 0.5])]
    [18.55, 32.96]
    """
    x, w = np.asarray(counts, dtype=float), np.asarray(weights, dtype=float)
    total, value = float(x.sum()), float((w * x).sum())
    if total <= 0:
        return None
    lower, upper = poisson_interval(total, level)
    scale = math.sqrt(float((w * w * x).sum()) / total)
    return value + scale * (lower - total), value + scale * (upper - total)


def mean_proportion_interval(successes: Sequence[float], trials: Sequence[float],
                             level: float = 0.95) -> tuple[float, float] | None:
    """Normal interval for the unweighted mean of k proportions, as percentages (0-100): its
    variance is the sum of the binomial variances p (1 - p) / n over k squared. ``None`` with
    no proportions or any with no trials (its proportion is undefined)."""
    x, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    if not len(n) or (n <= 0).any():
        return None
    p = x / n
    mean, k = float(p.mean()), len(p)
    half = _z(level) * math.sqrt(float((p * (1 - p) / n).sum())) / k
    return 100 * max(0.0, mean - half), 100 * min(1.0, mean + half)
