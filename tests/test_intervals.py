"""Intervals and tests of difference, against values computed by hand."""

from __future__ import annotations

import math

import pytest

from cpstats.stats import intervals


def test_exact_poisson_interval_below_ten():
    # Exact limits for 6 events: chi2(0.025, 12)/2 and chi2(0.975, 14)/2 (tables: 4.404, 26.119).
    lower, upper = intervals.poisson_interval(6)
    assert lower == pytest.approx(4.4038 / 2, abs=1e-3) and upper == pytest.approx(26.1189 / 2, abs=1e-3)
    assert intervals.poisson_interval(0)[0] == 0


def test_byar_interval_by_hand():
    # Byar, O = 553, z = 1.959964: O(1 - 1/(9O) - z/(3 sqrt O))^3 and (O+1)(1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3
    z = 1.959964
    lower = 553 * (1 - 1 / (9 * 553) - z / (3 * math.sqrt(553))) ** 3
    upper = 554 * (1 - 1 / (9 * 554) + z / (3 * math.sqrt(554))) ** 3
    assert intervals.poisson_interval(553) == pytest.approx((lower, upper), rel=1e-6)
    # Buckinghamshire 2016-17 on DfE's implied population: 45.2 per 10,000, about 41.5 to 49.1.
    low, high = intervals.rate_interval(553, 553 / 45.2 * 10_000)
    assert (round(low, 1), round(high, 1)) == (41.5, 49.1)


def test_wilson_interval_by_hand():
    # 10 of 50: centre (p + z^2/2n)/(1 + z^2/n), half z sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n)
    low, high = intervals.wilson_interval(10, 50)
    assert (round(low, 2), round(high, 2)) == (11.24, 33.04)
    with pytest.raises(ValueError):
        intervals.wilson_interval(5, 4)


def test_differences_are_signed_and_tested():
    # Pooled 0.15: se = sqrt(0.15 x 0.85 x (1/100 + 1/100)) = 0.0505, z = -0.1 / 0.0505 = -1.98.
    z, p = intervals.proportions_differ(10, 100, 20, 100)
    assert z == pytest.approx(-1.980, abs=1e-3) and p == pytest.approx(0.0477, abs=1e-4)
    z, p = intervals.rates_differ(100, 10_000, 100, 10_000)
    assert abs(z) < 1e-9 and p == pytest.approx(1.0)


def test_dobson_interval_by_hand():
    # 20 and 30 events, each weighted 0.5 (a mean of two rates): total X = 50, Byar's limits
    # of 50 are 37.11 and 65.92; scale sqrt((0.25 x 20 + 0.25 x 30) / 50) = 0.5 around M = 25.
    x_low, x_high = intervals.poisson_interval(50)
    assert (round(x_low, 2), round(x_high, 2)) == (37.11, 65.92)
    low, high = intervals.weighted_sum_interval([20, 30], [0.5, 0.5])
    assert (low, high) == pytest.approx((25 + 0.5 * (x_low - 50), 25 + 0.5 * (x_high - 50)))
    assert (round(low, 2), round(high, 2)) == (18.55, 32.96)
    # One count with weight 1 is its own exact interval.
    assert intervals.weighted_sum_interval([6], [1]) == pytest.approx(intervals.poisson_interval(6))
    # Every count 0, or no counts at all: nothing to scale, no interval (not an error).
    assert intervals.weighted_sum_interval([0, 0], [1, 1]) is None
    assert intervals.weighted_sum_interval([], []) is None


def test_mean_of_proportions_by_hand():
    # 10/100 and 30/100: mean 0.2, variance (0.09/100 + 0.21/100) / 2^2 = 0.00075,
    # half-width 1.959964 x 0.027386 = 0.053676.
    low, high = intervals.mean_proportion_interval([10, 30], [100, 100])
    assert (round(low, 2), round(high, 2)) == (14.63, 25.37)
    # No proportions, or one with no trials: undefined, not 0-100.
    assert intervals.mean_proportion_interval([], []) is None
    assert intervals.mean_proportion_interval([10, 0], [100, 0]) is None


def test_exact_ratio_of_counts_by_hand():
    from cpstats.stats.intervals import exact_ratio_interval

    # 6 against 4: Clopper-Pearson limits of 6 of 10 are 0.2624 and 0.8784 (tables), so the
    # ratio's are 0.2624 / 0.7376 = 0.356 and 0.8784 / 0.1216 = 7.23.
    low, high = exact_ratio_interval(6, 1, 4, 1)
    assert (round(low, 3), round(high, 2)) == (0.356, 7.23)
