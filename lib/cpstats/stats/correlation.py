"""Referrals, section 47 enquiries, ICPCs and plans: how the pipeline moves together.

Methods (docs/ethnicity_and_correlation.md):

* :func:`correlation`: Pearson or Spearman with a Fisher-z interval
  (SE = 1/sqrt(n-3); for Spearman sqrt(1.06/(n-3)), Fieller, Hartley & Pearson 1957).
* :func:`critical_r`: the smallest |r| significant at a level over n pairs (Student's t);
  :func:`correlation_grid`: pairs of series at several frequencies, levels and changes.
* :func:`cross_correlation`: the sample cross-correlation at lags -k..k with
  the white-noise bound +/- z/sqrt(n). Trending or autocorrelated series give
  large cross-correlations at every lag; ``difference=True`` compares changes.
* :func:`distributed_lag`: OLS of an outcome on the driver at lags 0..L (and
  optional month effects and trend) with Newey-West (HAC) standard errors,
  R^2, Durbin-Watson and Ljung-Box on the residuals.
* :func:`month_effects`: each month's count over its year's monthly mean,
  averaged across years, with an F-test of month dummies given year effects.
* :func:`pipeline_ratios`: s47 enquiries per referral, ICPCs per s47, plan
  starts per ICPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.stats.stattools import durbin_watson
from statsmodels.tools.tools import add_constant

from cpstats.periods import is_month, is_year

#: Pipeline stages in order, as measure names in the facts table.
PIPELINE = ("referrals", "s47_enquiries", "icpcs", "cp_plans_started")
#: Conversion ratios: name -> (numerator, denominator).
RATIOS: dict[str, tuple[str, str]] = {
    "s47_per_referral": ("s47_enquiries", "referrals"),
    "icpc_per_s47": ("icpcs", "s47_enquiries"),
    "plan_per_icpc": ("cp_plans_started", "icpcs"),
}
MONTHS = ("April", "May", "June", "July", "August", "September", "October", "November",
          "December", "January", "February", "March")


def correlation(x: Sequence[float] | pd.Series, y: Sequence[float] | pd.Series,
                method: str = "pearson", alpha: float = 0.05) -> dict[str, float | str]:
    """Correlation of paired observations with a Fisher-z confidence interval.

    Parameters
    ----------
    x, y
        Paired values; pairs with a missing value are dropped.
    method
        ``"pearson"`` or ``"spearman"``.
    alpha
        1 - coverage.

    Returns
    -------
    dict
        ``method, n, r, lower, upper, p_value`` (NaN limits when n < 4).
    """
    pair = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)}).dropna()
    n = len(pair)
    if method == "pearson":
        r, p = stats.pearsonr(pair["x"], pair["y"]) if n >= 3 else (np.nan, np.nan)
        var = 1.0
    elif method == "spearman":
        r, p = stats.spearmanr(pair["x"], pair["y"]) if n >= 3 else (np.nan, np.nan)
        var = 1.06
    else:
        raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
    lower = upper = np.nan
    if n >= 4 and abs(r) < 1:
        z, half = np.arctanh(r), stats.norm.ppf(1 - alpha / 2) * np.sqrt(var / (n - 3))
        lower, upper = np.tanh(z - half), np.tanh(z + half)
    return {"method": method, "n": float(n), "r": float(r), "lower": float(lower),
            "upper": float(upper), "p_value": float(p)}


def critical_r(n: int, alpha: float = 0.05) -> float:
    """The smallest |Pearson r| significant at ``alpha`` (two-sided) over ``n`` pairs.

    From the t test of r: t = r sqrt(n - 2) / sqrt(1 - r^2), so r = t / sqrt(t^2 + n - 2) with t
    the (1 - alpha/2) quantile of Student's t on n - 2 degrees of freedom.

    Parameters
    ----------
    n
        Number of pairs (at least 3).
    alpha
        Two-sided significance level.

    Returns
    -------
    float
    """
    if n < 3:
        raise ValueError(f"a correlation's significance needs at least 3 pairs, not {n}")
    t = stats.t.ppf(1 - alpha / 2, n - 2)
    return float(t / np.sqrt(t**2 + n - 2))


def correlation_grid(frames: Mapping[str, pd.DataFrame],
                     pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Pearson and Spearman correlations of several pairs of series, of their levels and of
    their changes (first differences), at several frequencies.

    Parameters
    ----------
    frames
        Frequency label (``"monthly"``, ``"quarterly"``) -> a frame with one column per series,
        rows in time order.
    pairs
        (a, b) column pairs to correlate.

    Returns
    -------
    pandas.DataFrame
        One row per pair, frequency and ``of`` (``levels`` / ``changes``) in that order:
        ``a, b, series, of, n, r, lower, upper, p_value`` (Pearson, Fisher-z 95% interval) and
        ``rho, rho_lower, rho_upper`` (Spearman).
    """
    rows = []
    for a, b in pairs:
        for series, frame in frames.items():
            for of, values in (("levels", frame[[a, b]]), ("changes", frame[[a, b]].diff())):
                r = correlation(values[a], values[b])
                rho = correlation(values[a], values[b], method="spearman")
                rows.append({"a": a, "b": b, "series": series, "of": of, "n": int(r["n"]),
                             "r": r["r"], "lower": r["lower"], "upper": r["upper"],
                             "p_value": r["p_value"], "rho": rho["r"],
                             "rho_lower": rho["lower"], "rho_upper": rho["upper"]})
    return pd.DataFrame(rows)


def cross_correlation(x: pd.Series, y: pd.Series, max_lag: int = 6, *,
                      difference: bool = False, alpha: float = 0.05) -> pd.DataFrame:
    """Sample cross-correlation of ``x`` leading ``y``.

    ``r`` at lag k estimates corr(x_t, y_{t+k}): a positive k means x moves
    first. Standard estimator (whole-series means, divisor n).

    Parameters
    ----------
    x, y
        Series on the same regular index (months or quarters), no gaps.
    max_lag
        Lags -max_lag..max_lag.
    difference
        Correlate first differences (removes a shared trend).
    alpha
        For the approximate bound z/sqrt(n), valid when the series are
        independent white noise.

    Returns
    -------
    pandas.DataFrame
        ``lag, r, bound, beyond_bound``.
    """
    a, b = np.asarray(x, float), np.asarray(y, float)
    if difference:
        a, b = np.diff(a), np.diff(b)
    n = len(a)
    if n != len(b):
        raise ValueError("x and y must have the same length")
    da, db = a - a.mean(), b - b.mean()
    denom = n * a.std() * b.std()
    lags = np.arange(-max_lag, max_lag + 1)
    r = np.array([(da[: n - k] * db[k:]).sum() / denom if k >= 0
                  else (da[-k:] * db[: n + k]).sum() / denom for k in lags])
    bound = stats.norm.ppf(1 - alpha / 2) / np.sqrt(n)
    return pd.DataFrame({"lag": lags, "r": r, "bound": bound, "beyond_bound": np.abs(r) > bound})


def prewhitened_cross_correlation(x: pd.Series, y: pd.Series, max_lag: int = 6,
                                  max_ar: int = 3, alpha: float = 0.05) -> tuple[pd.DataFrame, int]:
    """Cross-correlation of ``x`` leading ``y`` after prewhitening (Box-Jenkins): an AR(p) model
    of ``x`` (p from 0 to ``max_ar`` by AIC) filters ``x`` to white noise and the same filter is
    applied to ``y``, so the z/sqrt(n) bound holds approximately and a shared trend or season in
    ``x`` no longer shows as correlation at every lag.

    Returns
    -------
    tuple
        :func:`cross_correlation`'s table on the filtered series, and p.
    """
    from statsmodels.tsa.ar_model import AutoReg, ar_select_order

    a = pd.Series(np.asarray(x, float))
    b = pd.Series(np.asarray(y, float))
    order = ar_select_order(a, maxlag=max_ar, ic="aic", trend="c").ar_lags
    p = int(max(order)) if order is not None and len(order) else 0
    phi = AutoReg(a, lags=p, trend="c").fit().params.to_numpy()[1:] if p else np.array([])

    def whiten(series: pd.Series) -> pd.Series:
        out = series.copy()
        for i, coef in enumerate(phi, start=1):
            out = out - coef * series.shift(i)
        return out.iloc[p:]

    return cross_correlation(whiten(a), whiten(b), max_lag=max_lag, alpha=alpha), p


@dataclass
class LagModel:
    """A fitted distributed-lag regression and its diagnostics."""

    outcome: str
    driver: str
    lags: tuple[int, ...]
    coefficients: pd.DataFrame
    n: int
    r2: float
    adj_r2: float
    durbin_watson: float
    ljung_box_p: float
    ljung_box_lags: int
    hac_maxlags: int
    result: object

    def strongest_lag(self) -> int:
        """The lag whose coefficient has the largest |t| (HAC)."""
        lag_rows = self.coefficients[self.coefficients["lag"].notna()]
        return int(lag_rows.loc[lag_rows["t"].abs().idxmax(), "lag"])

    def summary_row(self) -> dict[str, float | str]:
        """One line for a results table."""
        return {"outcome": self.outcome, "driver": self.driver, "n": self.n, "r2": self.r2,
                "adj_r2": self.adj_r2, "durbin_watson": self.durbin_watson,
                "ljung_box_p": self.ljung_box_p, "strongest_lag": self.strongest_lag()}


def selected_interval(model: LagModel, lag: int, candidates: int,
                      alpha: float = 0.05) -> tuple[float, float]:
    """The interval of the coefficient at ``lag`` when it was picked from ``candidates`` lags
    after seeing the data: Bonferroni's, each at level 1 - alpha / candidates, so that all
    candidates' intervals cover together with probability at least 1 - alpha and the one
    picked, whichever rule picked it, does too (HAC errors, t critical values)."""
    term = model.coefficients.loc[model.coefficients["lag"] == lag, "term"].iloc[0]
    low, high = model.result.conf_int(alpha / candidates).loc[term]  # type: ignore[attr-defined]
    return float(low), float(high)


def lag_sum(model: LagModel, alpha: float = 0.05) -> dict[str, float]:
    """The sum of a model's lag coefficients (the total effect of a one-off rise in the driver,
    spread over the lags) with its HAC standard error, t interval and p-value. When the number
    of lags was chosen from several (:func:`lag_length_by_aic`), pass ``alpha`` divided by the
    number of candidates (Bonferroni) so the interval allows for the choice."""
    terms = model.coefficients.loc[model.coefficients["lag"].notna(), "term"]
    names = list(model.result.params.index)  # type: ignore[attr-defined]
    contrast = np.array([[1.0 if n in set(terms) else 0.0 for n in names]])
    test = model.result.t_test(contrast)  # type: ignore[attr-defined]
    low, high = np.asarray(test.conf_int(alpha)).ravel()
    return {"sum": float(np.asarray(test.effect).ravel()[0]),
            "se": float(np.asarray(test.sd).ravel()[0]), "lower": float(low),
            "upper": float(high), "p_value": float(np.asarray(test.pvalue).ravel()[0])}


def lag_length_by_aic(frame: pd.DataFrame, outcome: str, driver: str, max_lag: int,
                      **options: object) -> int:
    """The number of lags (0 to ``max_lag``) with the lowest AIC, every model fitted on the same
    months (the first ``max_lag`` dropped), so the criterion compares like with like."""
    same = frame.iloc[max_lag:] if max_lag else frame
    aic = {}
    for k in range(max_lag + 1):
        padded = pd.concat([frame.iloc[max_lag - k:max_lag], same]) if k else same
        model = distributed_lag(padded, outcome, driver, lags=tuple(range(k + 1)), **options)
        aic[k] = float(model.result.aic)  # type: ignore[attr-defined]
    return min(aic, key=aic.get)


def newey_west_lags(n: int) -> int:
    """Newey-West rule of thumb for HAC lags: floor(4 (n/100)^(2/9))."""
    return int(np.floor(4 * (n / 100) ** (2 / 9)))


def distributed_lag(frame: pd.DataFrame, outcome: str, driver: str,
                    lags: Sequence[int] = (0, 1, 2), *, month_effects: bool = False,
                    trend: bool = False, hac_maxlags: int | None = None,
                    alpha: float = 0.05) -> LagModel:
    """OLS of ``outcome`` on ``driver`` at ``lags``, with HAC standard errors.

    Parameters
    ----------
    frame
        One row per period, in time order, regular (no missing periods),
        with the two columns; a ``month`` column (1-12) if ``month_effects``.
    outcome, driver
        Column names, e.g. ``"cp_plans_started"`` and ``"s47_enquiries"``.
    lags
        Driver lags in periods (0 = same period).
    month_effects
        Add month-of-year dummies (seasonality).
    trend
        Add a linear time trend.
    hac_maxlags
        Newey-West lags; default :func:`newey_west_lags`.
    alpha
        1 - coverage of coefficient intervals.

    Returns
    -------
    LagModel
        Coefficients (``term, lag, coef, se, t, p_value, lower, upper``), R^2,
        adjusted R^2, Durbin-Watson and Ljung-Box p on the residuals.
    """
    design = pd.DataFrame({f"{driver}_lag{k}": frame[driver].shift(k) for k in lags})
    if trend:
        design["trend"] = np.arange(len(frame), dtype=float)
    if month_effects:
        dummies = pd.get_dummies(frame["month"].astype(int), prefix="month", drop_first=True,
                                 dtype=float)
        design = design.join(dummies)
    data = design.assign(_y=frame[outcome].astype(float)).dropna()
    n = len(data)
    maxlags = newey_west_lags(n) if hac_maxlags is None else hac_maxlags
    X = add_constant(data.drop(columns="_y"), has_constant="add")
    # Small-sample HAC: the finite-sample correction and t (not normal) critical values, as a
    # few dozen months need.
    result = OLS(data["_y"], X).fit(cov_type="HAC", use_t=True,
                                    cov_kwds={"maxlags": maxlags, "use_correction": True})
    ci = result.conf_int(alpha)
    terms = list(X.columns)
    lag_of = {f"{driver}_lag{k}": k for k in lags}
    coefficients = pd.DataFrame({
        "term": terms,
        "lag": [lag_of.get(t, np.nan) for t in terms],
        "coef": result.params.to_numpy(),
        "se": result.bse.to_numpy(),
        "t": result.tvalues.to_numpy(),
        "p_value": result.pvalues.to_numpy(),
        "lower": ci.iloc[:, 0].to_numpy(),
        "upper": ci.iloc[:, 1].to_numpy(),
    })
    lb_lags = max(1, min(10, n // 5))
    lb = acorr_ljungbox(result.resid, lags=[lb_lags])
    return LagModel(outcome=outcome, driver=driver, lags=tuple(lags), coefficients=coefficients,
                    n=n, r2=float(result.rsquared), adj_r2=float(result.rsquared_adj),
                    durbin_watson=float(durbin_watson(result.resid)),
                    ljung_box_p=float(lb["lb_pvalue"].iloc[0]), ljung_box_lags=lb_lags,
                    hac_maxlags=maxlags, result=result)


def month_effects(frame: pd.DataFrame, value: str = "value", alpha: float = 0.05
                  ) -> tuple[pd.DataFrame, dict[str, float]]:
    """Seasonality: each month against its year's monthly mean.

    Parameters
    ----------
    frame
        Columns ``year`` (year ending 31 March), ``month`` (1-12) and ``value``;
        only complete years (12 months) are used.
    value
        The count column.
    alpha
        1 - coverage of the month indices' t intervals across years.

    Returns
    -------
    (pandas.DataFrame, dict)
        Per month in financial-year order (April first): ``month, month_name,
        index`` (mean of count / year's monthly mean), ``lower, upper,
        years``; and the F-test of month dummies in OLS with year effects
        (``f, df_num, df_den, p_value, years``).
    """
    data = frame[["year", "month", value]].dropna()
    complete = data.groupby("year")["month"].transform("nunique") == 12
    data = data[complete]
    ratio = data[value] / data.groupby("year")[value].transform("mean")
    data = data.assign(ratio=ratio)
    grouped = data.groupby("month")["ratio"]
    years = grouped.size()
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    half = stats.t.ppf(1 - alpha / 2, np.maximum(years - 1, 1)) * sd / np.sqrt(years)
    order = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
    table = pd.DataFrame({"month": order, "month_name": MONTHS})
    table = table.assign(index=mean.reindex(order).to_numpy(),
                         lower=(mean - half).reindex(order).to_numpy(),
                         upper=(mean + half).reindex(order).to_numpy(),
                         years=years.reindex(order).to_numpy())
    n_years = data["year"].nunique()
    test = {"f": np.nan, "df_num": np.nan, "df_den": np.nan, "p_value": np.nan,
            "years": float(n_years)}
    if n_years >= 2:
        X = pd.get_dummies(data[["year", "month"]].astype(str), drop_first=True, dtype=float)
        full = OLS(data[value].astype(float), add_constant(X)).fit()
        year_only = X[[c for c in X.columns if c.startswith("year_")]]
        restricted = OLS(data[value].astype(float), add_constant(year_only)).fit()
        f, p, df_diff = full.compare_f_test(restricted)
        test = {"f": float(f), "df_num": float(df_diff), "df_den": float(full.df_resid),
                "p_value": float(p), "years": float(n_years)}
    return table, test


def pipeline_ratios(counts: pd.DataFrame) -> pd.DataFrame:
    """Conversion through the pipeline from stage counts.

    Parameters
    ----------
    counts
        Any index (e.g. geography and period) and columns among
        :data:`PIPELINE`.

    Returns
    -------
    pandas.DataFrame
        The same index with one column per ratio in :data:`RATIOS` whose
        stages are present (as fractions, not percentages).
    """
    out = pd.DataFrame(index=counts.index)
    for name, (num, den) in RATIOS.items():
        if num in counts.columns and den in counts.columns:
            out[name] = counts[num].astype(float) / counts[den].astype(float)
    return out


def _prefer_source(frame: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """Keep one row per geography, period and measure: the first of ``sources`` that has it."""
    rank = {s: i for i, s in enumerate(sources)}
    frame = frame[frame["source"].isin(list(sources))]
    frame = frame.assign(_rank=frame["source"].map(rank)).sort_values("_rank", kind="stable")
    return frame.drop_duplicates(["geography_code", "period", "measure"]).drop(columns="_rank")


def pipeline_table(facts: pd.DataFrame, geography_codes: Sequence[str] | None = None,
                   sources: Sequence[str] = ("dfe", "derived")) -> pd.DataFrame:
    """Annual pipeline counts and conversion ratios per geography, from a facts table.

    Parameters
    ----------
    facts
        Facts holding the annual totals ``referrals``, ``s47_enquiries``,
        ``icpcs`` and ``cp_plans_started`` (e.g. :func:`cpstats.io.dfe.read_release`).
    geography_codes
        Geographies to keep (``E92000001``, ``"825"``...); all when ``None``.
    sources
        Sources to use, in order of preference (one figure per measure).

    Returns
    -------
    pandas.DataFrame
        One row per geography and year (``geography_code, geography_name,
        period``), the stage counts and :func:`pipeline_ratios` (fractions),
        sorted.
    """
    rows = facts[facts["measure"].isin(list(PIPELINE)) & (facts["breakdown"] == "total")
                 & is_year(facts["period"])]
    if geography_codes is not None:
        rows = rows[rows["geography_code"].isin(list(geography_codes))]
    rows = _prefer_source(rows, sources)
    wide = rows.pivot_table(index=["geography_code", "geography_name", "period"],
                            columns="measure", values="value", aggfunc="first", observed=True)
    wide = wide.reindex(columns=[m for m in PIPELINE if m in wide.columns])
    out = wide.join(pipeline_ratios(wide)).rename_axis(columns=None).reset_index()
    return out.sort_values(["geography_code", "period"], kind="stable").reset_index(drop=True)


def monthly_frame(facts: pd.DataFrame, geography_code: str, measure: str = "referrals",
                  sources: Sequence[str] = ("dfe", "cin_census", "synthetic")) -> pd.DataFrame:
    """A monthly series from facts (periods ``"2016-04"``...) as ``period, year, month, value``.

    ``year`` is the year ending 31 March the month falls in (April 2016 -> 2017).
    """
    rows = facts[(facts["geography_code"] == geography_code) & (facts["measure"] == measure)
                 & (facts["breakdown"] == "total")
                 & is_month(facts["period"])]
    rows = _prefer_source(rows, sources)
    month = rows["period"].str[5:7].astype(int)
    frame = pd.DataFrame({"period": rows["period"].astype(str), "month": month,
                          "year": rows["period"].str[:4].astype(int) + (month >= 4).astype(int),
                          "value": rows["value"].astype(float)})
    return frame.sort_values("period").reset_index(drop=True)


def cross_section(facts: pd.DataFrame, period: str, x: str, y: str,
                  sources: Sequence[str] = ("dfe", "derived")) -> pd.DataFrame:
    """Two measures side by side for every LA in one year (e.g. s47 rate and CP rate).

    Returns
    -------
    pandas.DataFrame
        ``geography_code, geography_name, x, y`` for LAs with both values, sorted by code.
    """
    rows = facts[(facts["geography_level"] == "local_authority") & (facts["period"] == period)
                 & facts["measure"].isin([x, y]) & (facts["breakdown"] == "total")]
    rows = _prefer_source(rows, sources)
    wide = rows.pivot_table(index=["geography_code", "geography_name"], columns="measure",
                            values="value", aggfunc="first", observed=True)
    wide = wide.reindex(columns=[x, y]).dropna().rename_axis(columns=None).reset_index()
    return wide.sort_values("geography_code", kind="stable").reset_index(drop=True)
