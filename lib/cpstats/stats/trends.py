"""Trends in counts over years, with the population as exposure.

A council's yearly counts (children on plans at 31 March, plans started...) are modelled as
``log E[count] = a + b * year + log(population)``: a Poisson GLM with a population offset,
its variance scaled by the Pearson chi-square over the residual degrees of freedom
(quasi-Poisson), because yearly counts vary more than Poisson chance allows. ``exp(b)`` is the
average yearly rate ratio. Two areas' trends are compared by the difference of their slopes
over the root of the summed variances (each area fitted on its own, so England's large counts
do not set the council's dispersion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Fewest years a trend is fitted on.
MIN_YEARS = 4


@dataclass(frozen=True)
class Trend:
    """A fitted log-linear trend: yearly rate ratio, its 95% interval, dispersion, years."""

    ratio: float
    lower_95: float
    upper_95: float
    slope: float
    se: float
    dispersion: float
    years: int


def fit(counts: pd.Series, population: pd.Series) -> Trend:
    """Fit the quasi-Poisson log-linear trend of ``counts`` over ``population``.

    Parameters
    ----------
    counts, population
        Indexed by the integer year ending 31 March; years missing either are dropped.

    Returns
    -------
    Trend

    Raises
    ------
    ValueError
        With fewer than :data:`MIN_YEARS` years.
    """
    # The modules themselves, not statsmodels.api (which imports every model: 0.2 s a kernel).
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.tools import add_constant

    frame = pd.DataFrame({"y": counts, "n": population}).dropna()
    frame = frame[frame["n"] > 0]
    if len(frame) < MIN_YEARS:
        raise ValueError(f"a trend needs {MIN_YEARS} years or more, not {len(frame)}")
    year = frame.index.to_numpy(dtype=float)
    design = add_constant(year - year.mean())
    model = GLM(frame["y"].to_numpy(dtype=float), design, family=Poisson(),
                offset=np.log(frame["n"].to_numpy(dtype=float)))
    result = model.fit(scale="X2")
    slope, se = float(result.params[1]), float(result.bse[1])
    # t on the residual degrees of freedom: a handful of years makes z too confident.
    t = float(stats.t.ppf(0.975, len(frame) - 2))
    return Trend(math.exp(slope), math.exp(slope - t * se), math.exp(slope + t * se), slope, se,
                 float(result.scale), len(frame))


def trends_differ(one: Trend, other: Trend) -> tuple[float, float]:
    """Test that two trends' slopes are equal: (t statistic, two-sided p-value), on the smaller
    of the two fits' residual degrees of freedom."""
    t = (one.slope - other.slope) / math.sqrt(one.se**2 + other.se**2)
    df = min(one.years, other.years) - 2
    return t, float(2 * stats.t.sf(abs(t), df))


def rate_ratio(count1: float, population1: float, count0: float,
               population0: float) -> tuple[float, float, float]:
    """Rate ratio of year 1 over year 0 with its 95% interval (score method for two Poisson
    rates, statsmodels ``confint_poisson_2indep``): (ratio, lower, upper)."""
    from statsmodels.stats.rates import confint_poisson_2indep

    ratio = (count1 / population1) / (count0 / population0)
    lower, upper = confint_poisson_2indep(count1, population1, count0, population0,
                                          method="score", compare="ratio")
    return float(ratio), float(lower), float(upper)
