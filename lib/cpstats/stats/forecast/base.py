"""What every forecast model shares: the forecast frame's columns, the exception a model
raises when a series is too short, the t-based interval and the quiet statsmodels context."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

#: Columns of every forecast frame.
FORECAST_COLUMNS = (
    "step", "period", "point", "lower_80", "upper_80", "lower_95", "upper_95",
    "model", "fitted", "note",
)
#: Leading indicators tried by ``sarimax``, in order of preference (measure names).
LEADING_INDICATORS = ("icpcs", "s47_enquiries", "referrals")
#: Exogenous columns the aggregate stock-flow model needs (measure names).
FLOW_COLUMNS = ("cp_plans_started", "cp_plans_ended")
#: How many recent values ``mean_k`` and the stock-flow averages use.
K_RECENT = 3
#: Members of ``combo`` (``stock_flow`` joins when starts and ends are given).
COMBO_MEMBERS = ("naive", "mean_k", "ets", "arima")
_LEVELS = (0.80, 0.95)


@dataclass(frozen=True)
class _Fit:
    """A model's forecast before intervals: point, sd per step and t degrees of freedom."""

    point: np.ndarray
    sd: np.ndarray
    df: float


class TooShort(ValueError):
    """The series is too short for the model (the caller falls back)."""


@contextmanager
def quiet_statsmodels() -> Iterator[None]:
    """Silence statsmodels' fitting chatter (convergence, frequency, start values) here only.

    Short series routinely trigger these warnings; the backtest, not the optimiser's
    messages, tells us whether a fit is any good.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"statsmodels\.")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        yield


def season_of(index: pd.Index) -> int:
    """Steps per year implied by a PeriodIndex: 1 (annual), 4 (quarterly) or 12 (monthly)."""
    freq = getattr(index, "freqstr", "") or ""
    if freq.startswith("Q"):
        return 4
    if freq.startswith("M"):
        return 12
    return 1


def _sigma(residuals: np.ndarray, n_params: int) -> tuple[float, float]:
    """Root mean square of residuals and the t degrees of freedom they leave (at least 1)."""
    e = residuals[np.isfinite(residuals)]
    if e.size == 0:
        raise TooShort("no residuals to estimate the spread")
    return float(np.sqrt(np.mean(e**2))), float(max(e.size - n_params, 1))


def _need(y: np.ndarray, n: int, model: str) -> None:
    if y.size < n:
        raise TooShort(f"{model} needs at least {n} points, has {y.size}")


def _trailing_run(y: pd.Series) -> pd.Series:
    """The last unbroken run of observed values (a gap or series break starts a new series)."""
    missing = y.isna().to_numpy()
    if not missing.size or missing[-1]:
        return y.iloc[:0]
    gaps = np.flatnonzero(missing)
    return y.iloc[gaps[-1] + 1:] if gaps.size else y


def _interval_frame(fit: _Fit) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {"point": np.maximum(fit.point, 0.0)}
    for level in _LEVELS:
        q = stats.t.ppf(0.5 + level / 2, fit.df)
        tag = int(round(level * 100))
        out[f"lower_{tag}"] = np.maximum(fit.point - q * fit.sd, 0.0)
        out[f"upper_{tag}"] = np.maximum(fit.point + q * fit.sd, 0.0)
    return out
