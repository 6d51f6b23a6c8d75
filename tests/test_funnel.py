"""Funnel limits and overdispersion against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cpstats.stats import funnel


def test_plain_limits_by_hand():
    # Four councils of 100 with 10, 20, 20, 30 events: pooled p0 = 80 / 400 = 0.2; z-scores
    # (0.1 - 0.2) / 0.04 = -2.5, 0, 0, +2.5; winsorised at the 10th/90th percentiles
    # (-1.75, +1.75 by linear interpolation): phi = (1.75^2 + 1.75^2) / 4 = 1.53125; k phi
    # = 6.125 < chi2(0.95, 3) = 7.815, so no adjustment.
    fitted = funnel.fit([10, 20, 20, 30], [100, 100, 100, 100], "percent")
    assert fitted.target == pytest.approx(0.2)
    assert fitted.phi == pytest.approx(1.53125)
    assert fitted.method == "none" and not fitted.overdispersed
    # 95% limit at n = 100: 0.2 +- 1.959964 x sqrt(0.2 x 0.8 / 100) = 0.2 +- 0.0783986.
    low, high = fitted.limits(100, 0.95)
    assert (float(low), float(high)) == pytest.approx((0.1216014, 0.2783986), abs=1e-6)
    # 99.8% at n = 400: z = 3.090232, se = 0.02: 0.2 +- 0.0618046.
    low, high = fitted.limits(400, 0.998)
    assert (float(low), float(high)) == pytest.approx((0.1381954, 0.2618046), abs=1e-6)


def test_additive_limits_widen_by_tau():
    # Rates: 5 councils of 10,000 with 20, 40, 60, 80, 100 events; theta = 300 / 50,000 = 0.006.
    # se = sqrt(0.006 / 10,000) = 7.746e-4; z = (-40, -20, 0, 20, 40) / 7.746 = -5.164, -2.582,
    # 0, 2.582, 5.164; winsorised at the 10th/90th percentiles (-4.131, 4.131):
    # phi = 2 x (4.131^2 + 2.582^2) / 5 = 9.493; k phi = 47.5 > chi2(0.95, 4) = 9.488.
    # w = 1 / se^2 = 1,666,667 each: sum w - sum w^2 / sum w = 4 w; tau^2 = (47.46 - 4) / 4w.
    n = np.full(5, 10_000.0)
    fitted = funnel.fit([20, 40, 60, 80, 100], n, "rate")
    se = math.sqrt(0.006 / 10_000)
    z = np.array([-40, -20, 0, 20, 40]) / 10_000 / se
    low, high = np.quantile(z, (0.1, 0.9))
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    assert fitted.phi == pytest.approx(phi) and phi == pytest.approx(9.493, abs=1e-3)
    tau2 = (5 * phi - 4) / (4 / se**2)
    assert fitted.method == "additive" and fitted.tau2 == pytest.approx(tau2)
    lower, upper = fitted.limits(10_000, 0.95)
    half = 1.959964 * math.sqrt(se**2 + tau2)
    assert (float(lower), float(upper)) == pytest.approx((0.006 - half, 0.006 + half), rel=1e-6)
    multiplicative = funnel.fit([20, 40, 60, 80, 100], n, "rate", method="multiplicative")
    assert float(multiplicative.limits(10_000, 0.95)[1]) == pytest.approx(
        0.006 + 1.959964 * se * math.sqrt(phi), rel=1e-6)


def test_position_words():
    fitted = funnel.fit([10, 20, 20, 30], [100, 100, 100, 100], "percent")
    assert funnel.position(0.2, 100, fitted) == "within the 95% limits"
    assert funnel.position(0.1, 100, fitted) == "between the 95% and 99.8% limits, below"
    assert funnel.position(0.5, 100, fitted) == "beyond the 99.8% limits, above"


def test_exact_limits_by_hand():
    # Binomial(100, 0.2): F(11) = 0.012575, F(12) = 0.025329, so the 2.5% quantile is 12 and
    # a = (0.025329 - 0.025) / (0.025329 - 0.012575) = 0.0258: lower (12 - 0.0258) / 100.
    # F(27) = 0.965848, F(28) = 0.979980: a = 0.00498 / 0.014132 = 0.3524, upper 27.6476 / 100.
    fitted = funnel.fit([10, 20, 20, 30], [100, 100, 100, 100], "percent")
    low, high = fitted.exact_limits(100, 0.95)
    assert (float(low), float(high)) == pytest.approx((0.119742, 0.276476), abs=1e-5)
    # Poisson(1,000 x 0.003 = 3): F(6) = 0.966491, F(7) = 0.988095: a = 0.013095 / 0.021604
    # = 0.6061, upper (7 - 0.6061) / 1,000; the lower quantile is 0 and clips at 0.
    plain = funnel.Funnel("rate", 0.003, 1.0, 0.0, False, "none", 5)
    low, high = plain.exact_limits(1_000, 0.95)
    assert float(low) == 0 and float(high) == pytest.approx(0.0063939, abs=1e-6)
    # Large denominators: exact and normal limits agree; overdispersion widens both alike.
    wide = funnel.Funnel("rate", 0.003, 4.0, 0.0, True, "multiplicative", 5)
    assert float(wide.exact_limits(1e7, 0.95)[1]) == pytest.approx(
        float(wide.limits(1e7, 0.95)[1]), rel=1e-3)
    assert float(wide.exact_limits(1_000, 0.95)[1]) == pytest.approx(0.003 + 2 * 0.0033939,
                                                                     abs=1e-6)


def test_exact_z_scores_by_hand_and_agreeing_with_the_position():
    # Poisson, no overdispersion: target 0.01 per child, 500 children (mean 5). A count of 9:
    # P(X <= 9 | 5) = 0.968172, a normal deviate of 1.8546 (inside 95%); the normal
    # approximation would say (9 - 5) / sqrt(5) = 1.789.
    fitted = funnel.Funnel("rate", 0.01, 1.0, 0.0, False, "none", 10)
    z = fitted.exact_z_scores(np.array([9.0]), np.array([500.0]))[0]
    assert z == pytest.approx(1.8546, abs=1e-4)
    # A count of 10.5 lies halfway between 10 and 11: P = F(10) + 0.5 f(11) (0.986305 +
    # 0.5 x 0.008242) = 0.990426, z = 2.3426.
    assert fitted.exact_z_scores(np.array([10.5]), np.array([500.0]))[0] == pytest.approx(
        2.3426, abs=1e-4)
    # Over many small and large councils, overdispersed (additive widening), |z| <= 1.96 exactly
    # where the position is "within the 95% limits", and > 3.09 where "beyond the 99.8%".
    rng = np.random.default_rng(12)
    for kind, target in (("rate", 0.004), ("percent", 0.3)):
        n = rng.integers(5, 3_000, 300).astype(float)
        events = rng.poisson(n * target * np.exp(rng.normal(0, 0.3, 300)))
        events = np.minimum(events, n) if kind == "percent" else events
        fitted = funnel.fit(events, n, kind)
        assert fitted.method == "additive"
        z = fitted.exact_z_scores(events, n)
        where = [funnel.position(x / m, m, fitted, exact=True) for x, m in
                 zip(events, n, strict=True)]
        inside = np.array([w.startswith("within") for w in where])
        beyond = np.array([w.startswith("beyond") for w in where])
        assert (inside == (np.abs(z) <= 1.959964)).all() and 0 < (~inside).sum()
        assert (beyond == (np.abs(z) > 3.090232)).all()
