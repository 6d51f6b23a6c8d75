"""Funnel plots: every council's rate or percentage against its denominator, with control
limits around the national target, adjusted for overdispersion.

Method (Spiegelhalter 2005, "Funnel plots for comparing institutional performance", *Statistics
in Medicine* 24:1185-1202, and "Handling over-dispersion of performance indicators", *Quality
and Safety in Health Care* 14:347-351):

- the target is the pooled value of every council (sum of numerators over sum of denominators);
- under no overdispersion a council with denominator ``n`` has standard error ``s(n)``:
  ``sqrt(theta (1 - theta) / n)`` for a proportion, ``sqrt(theta / n)`` for a Poisson rate;
- z-scores ``(y - theta) / s(n)`` are winsorised at their 10th and 90th percentiles and
  ``phi = mean(z^2)``; councils differ by more than chance when ``k phi`` exceeds the 95th
  percentile of chi-square on ``k - 1`` degrees of freedom;
- *multiplicative* adjustment: limits ``theta +- z sqrt(phi) s(n)``; *additive* (random
  effects): ``tau^2 = (k phi - (k - 1)) / (sum w - sum w^2 / sum w)`` with ``w = 1 / s(n)^2``,
  limits ``theta +- z sqrt(s(n)^2 + tau^2)``. The additive one suits large denominators, where
  a multiplicative funnel narrows to nothing and flags nearly every council.

:meth:`Funnel.limits` uses the normal approximation on the original scale; values are
proportions (0-1) or rates per child, and callers scale them. For small denominators, where the
normal approximation is poor, :meth:`Funnel.exact_limits` gives Spiegelhalter's exact limits
(2005, appendix A.1.1): the ``p`` quantile ``r`` of the count under the target (binomial for a
percentage, Poisson for a rate), interpolated as ``(r - a) / n`` with
``a = (F(r) - p) / (F(r) - F(r - 1))``, and widened about the target by the same factor as the
normal limits (``sqrt(phi)``, or ``sqrt(s^2 + tau^2) / s``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: The two limits a funnel plot draws: about 1 in 20 and 1 in 500 councils outside by chance.
LEVELS = (0.95, 0.998)
#: Percentiles at which z-scores are winsorised before estimating overdispersion.
WINSOR = (0.10, 0.90)
METHODS = ("none", "multiplicative", "additive")


@dataclass(frozen=True)
class Funnel:
    """A fitted funnel: target, overdispersion and the method chosen.

    Attributes
    ----------
    kind
        ``"percent"`` (binomial) or ``"rate"`` (Poisson).
    target
        Pooled proportion (0-1) or rate per unit of denominator.
    phi
        Overdispersion factor from winsorised z-scores (1 = none beyond chance).
    tau2
        Between-council variance of the additive method (0 when ``phi`` shows none).
    overdispersed
        ``k phi`` above the 95th percentile of chi-square on ``k - 1`` degrees of freedom.
    method
        How limits are widened: ``"none"``, ``"multiplicative"`` or ``"additive"``.
    councils
        Councils in the fit (``k``).
    """

    kind: str
    target: float
    phi: float
    tau2: float
    overdispersed: bool
    method: str
    councils: int

    def standard_error(self, denominator: np.ndarray | float) -> np.ndarray:
        """Standard error under no overdispersion at each denominator."""
        n = np.asarray(denominator, dtype=float)
        spread = self.target * (1 - self.target) if self.kind == "percent" else self.target
        return np.sqrt(spread / n)

    def limits(self, denominator: np.ndarray | float, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) control limits at ``level`` for each denominator."""
        z = float(stats.norm.ppf(0.5 + level / 2))
        se = self.standard_error(denominator)
        if self.method == "multiplicative":
            se = se * math.sqrt(self.phi)
        elif self.method == "additive":
            se = np.sqrt(se**2 + self.tau2)
        lower = self.target - z * se
        upper = self.target + z * se
        if self.kind == "percent":
            return np.clip(lower, 0, 1), np.clip(upper, 0, 1)
        return np.clip(lower, 0, None), upper

    def exact_limits(self, denominator: np.ndarray | float,
                     level: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) exact control limits at ``level`` (binomial or Poisson quantiles,
        interpolated; see the module notes), widened for overdispersion like :meth:`limits`."""
        n = np.asarray(denominator, dtype=float)
        spread = self._inflation(n)
        lower, upper = (self.target + spread * (_exact_quantile(self.kind, self.target, n, p)
                                                - self.target)
                        for p in ((1 - level) / 2, (1 + level) / 2))
        if self.kind == "percent":
            return np.clip(lower, 0, 1), np.clip(upper, 0, 1)
        return np.clip(lower, 0, None), upper

    def _inflation(self, n: np.ndarray) -> np.ndarray:
        """The overdispersion method's standard error over the plain one, at each denominator."""
        if self.method == "multiplicative":
            return np.full_like(n, math.sqrt(self.phi))
        if self.method == "additive":
            se = self.standard_error(n)
            return np.sqrt(se**2 + self.tau2) / se
        return np.ones_like(n)

    def exact_z_scores(self, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        """Each council's z-score on the scale of :meth:`exact_limits`: its value is brought
        back about the target by the overdispersion factor, its count's place in the
        distribution under the target found by interpolating the CDF between whole counts
        (the inverse of the interpolated quantile), and that probability read as a normal
        deviate. So ``|z| <= 1.96`` exactly when the council is inside the exact 95% limits."""
        n = np.asarray(denominator, dtype=float)
        y = np.asarray(numerator, dtype=float) / n
        if self.kind == "percent":
            n = np.maximum(np.round(n), 1)
            dist = stats.binom(n, self.target)
        else:
            dist = stats.poisson(n * self.target)
        count = n * (self.target + (y - self.target) / self._inflation(n))
        whole = np.floor(count)
        p = dist.cdf(whole) + (count - whole) * dist.pmf(whole + 1)
        return stats.norm.ppf(np.clip(p, 1e-300, 1 - 1e-16))

    def z_scores(self, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        """Each council's z-score against the target, on the method's standard error."""
        n = np.asarray(denominator, dtype=float)
        y = np.asarray(numerator, dtype=float) / n
        se = self.standard_error(n)
        if self.method == "multiplicative":
            se = se * math.sqrt(self.phi)
        elif self.method == "additive":
            se = np.sqrt(se**2 + self.tau2)
        return (y - self.target) / se


def fit(numerator: np.ndarray | pd.Series, denominator: np.ndarray | pd.Series, kind: str,
        method: str = "additive") -> Funnel:
    """Fit a funnel to every council's numerator and denominator.

    Parameters
    ----------
    numerator, denominator
        Events (plans, repeat plans, reviews on time...) and their base (children, plans...),
        one per council; councils with a missing or zero denominator are dropped.
    kind
        ``"percent"`` for a proportion of the denominator, ``"rate"`` for events per unit.
    method
        ``"additive"`` (random effects, the default), ``"multiplicative"`` or ``"none"``; an
        adjustment is applied only when the councils are overdispersed.

    Returns
    -------
    Funnel
    """
    if kind not in ("percent", "rate") or method not in METHODS:
        raise ValueError(f"kind percent|rate and method one of {METHODS}, not {kind}/{method}")
    x = np.asarray(numerator, dtype=float)
    n = np.asarray(denominator, dtype=float)
    keep = np.isfinite(x) & np.isfinite(n) & (n > 0)
    x, n = x[keep], n[keep]
    target = float(x.sum() / n.sum())
    plain = Funnel(kind, target, 1.0, 0.0, False, "none", int(keep.sum()))
    z = plain.z_scores(x, n)
    phi = overdispersion(z)
    k = len(z)
    overdispersed = k * phi > stats.chi2.ppf(0.95, k - 1)
    weights = 1 / plain.standard_error(n) ** 2
    tau2 = max(0.0, (k * phi - (k - 1)) / (weights.sum() - (weights**2).sum() / weights.sum()))
    chosen = method if overdispersed else "none"
    return Funnel(kind, target, phi, tau2 if overdispersed else 0.0, bool(overdispersed), chosen,
                  k)


def _exact_quantile(kind: str, target: float, n: np.ndarray, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated ``p`` quantile of a count over ``n``: binomial(n, target)
    for a percentage (``n`` rounded to whole trials), Poisson(n target) for a rate."""
    if kind == "percent":
        n = np.maximum(np.round(n), 1)
        dist = stats.binom(n, target)
    else:
        dist = stats.poisson(n * target)
    r = dist.ppf(p)
    at, below = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(at > below, (at - p) / (at - below), 0.0)
    return (r - a) / n


def overdispersion(z: np.ndarray) -> float:
    """Spiegelhalter's overdispersion factor: the mean square of winsorised z-scores."""
    z = np.asarray(z, dtype=float)
    low, high = np.quantile(z, WINSOR)
    return float(np.mean(np.clip(z, low, high) ** 2))


def limit_table(funnel: Funnel, denominators: np.ndarray) -> pd.DataFrame:
    """The funnel's limits at each denominator, for drawing: ``denominator``, then
    ``lower``/``upper`` at each of :data:`LEVELS` (``lower_95``, ``upper_99_8``), exact (see
    :meth:`Funnel.exact_limits`), and the same with ``normal_`` in front for the normal
    approximation."""
    n = np.asarray(denominators, dtype=float)
    columns: dict[str, np.ndarray] = {"denominator": n}
    for level in LEVELS:
        name = f"{100 * level:g}".replace(".", "_")
        for prefix, limits in (("", funnel.exact_limits), ("normal_", funnel.limits)):
            columns[f"{prefix}lower_{name}"], columns[f"{prefix}upper_{name}"] = limits(n, level)
    return pd.DataFrame(columns)


def position(value: float, denominator: float, funnel: Funnel, exact: bool = False) -> str:
    """Where one council sits: ``"within the 95% limits"``, ``"between the 95% and 99.8%
    limits, above"``, ``"beyond the 99.8% limits, below"`` (value on the funnel's scale);
    against the exact limits with ``exact``, else the normal approximation's."""
    limits = funnel.exact_limits if exact else funnel.limits
    inner = [float(v) for v in limits(denominator, LEVELS[0])]
    outer = [float(v) for v in limits(denominator, LEVELS[1])]
    side = "above" if value > funnel.target else "below"
    if inner[0] <= value <= inner[1]:
        return "within the 95% limits"
    if outer[0] <= value <= outer[1]:
        return f"between the 95% and 99.8% limits, {side}"
    return f"beyond the 99.8% limits, {side}"
