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
