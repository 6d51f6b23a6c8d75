"""Forecasting (notebook ``05_forecasting``): children on plans next quarter and at the next
31 March, referrals next quarter, what the quarterly forecast means for conference chairs, and
beside every forecast its track record (a rolling-origin backtest).

Fitted numbers move in their last digits from one CPU's BLAS kernels to another's (between two
OpenBLAS kernels an ETS fit of referrals moved by 3 referrals and 0.6 of bias), so everything
shown is rounded coarsely enough to read the same on any machine: forecasts to whole children
or referrals, MASE at the registry's precision (1 decimal), bias to whole units (to 10 for a
series in thousands), interval coverage to whole per cent.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from cpstats import disclosure, plots, registry, release_cache
from cpstats.errors import ParameterError
from cpstats.periods import quarter_label, year_label
from cpstats.stats import backtest as bt
from cpstats.stats import forecast as fc
from cpstats.themes.base import SOURCE_NAMES, Section, ThemeData, ThemeResult, run_sections, text

THEME = "05_forecasting"
#: Years ahead of the annual forecast unless the notebook's ``horizon`` says otherwise.
DEFAULT_HORIZON = 3
#: Models of the annual forecast: the single-series yardsticks, the models pooled over councils
#: and the suite's recommended one (its members among them), each backtested beside the others.
ANNUAL_MODELS = tuple(dict.fromkeys(("naive", "mean_k", "pooled", "pooled_median", "flows",
                                     "local_level", fc.ANNUAL_DEFAULT)))
#: First origin of the annual track record (DfE's series start in 2013).
FIRST_ANNUAL_ORIGIN = 2015
#: Months of DfE referrals needed before referrals are forecast (three years: seasons repeat).
MIN_REFERRAL_MONTHS = 36
BOUNDS = ["point", "lower_80", "upper_80", "lower_95", "upper_95"]
BOUND_LABELS = dict(zip(BOUNDS, ["Forecast", "80% lower", "80% upper", "95% lower", "95% upper"],
                        strict=True))
NO_RETURN = ("children on plans next quarter and conference chair capacity (no CIN Census "
             "return given: pass --cin-census)")

T = TypeVar("T")
# Forecasts and backtests of a run, shared by the sections that state and judge them.
_RUNS: weakref.WeakKeyDictionary[ThemeData, dict[object, object]] = weakref.WeakKeyDictionary()


def _once(data: ThemeData, key: object, compute: Callable[[], T]) -> T:
    store = _RUNS.setdefault(data, {})
    if key not in store:
        store[key] = compute()
    return store[key]  # type: ignore[return-value]


# -- the forecasts -------------------------------------------------------------------------------
def quarter_outlook(data: ThemeData) -> bt.Outlook | None:
    """Children on plans at the end of the quarter after 31 March, from the child-level records,
    with the backtest that chose the default model.

    The synthetic county (the default run's stand-in) is generated from a fixed seed, so its
    outlook is the same in every run: it is kept in :mod:`cpstats.release_cache` (its quarterly
    totals, forecasts and backtest scores; the county's records are kept apart, by
    :func:`cpstats.release_cache.synthetic_county`). A council's own return is fitted afresh in
    every run and never kept.

    Returns
    -------
    Outlook or None
        ``None`` without child-level records.
    """
    if quarter_gap(data) is not None:
        return None

    def fit() -> bt.Outlook:
        return bt.next_quarter(data.child_level, origin=f"{data.year}Q4", h=1)

    if data.inputs.uses_synthetic:  # the same generated county every run: fitted once
        # Keyed by the plans themselves too: records put in a run's place (a test's smaller
        # county) must not leave their outlook where the default county's is looked for.
        plans = pd.util.hash_pandas_object(data.child_level.cp_plans, index=False)
        name = f"quarter_outlook-synthetic-{int(plans.sum()) & 0xFFFFFFFFFFFF:012x}"
        return _once(data, "quarter", lambda: release_cache.for_run(data, name, fit))
    return _once(data, "quarter", fit)  # a council's own return: never kept


def forecast_hidden(outlook: bt.Outlook) -> bool:
    """The default forecast of children on plans rounds to 1-5: shown as ``c``, like a count."""
    return bool(disclosure.primary_mask([round(_default(outlook)["point"])])[0])


def quarter_gap(data: ThemeData) -> str | None:
    """Why children on plans next quarter cannot be forecast from the run's records (no
    return, too few full quarters to backtest a model on, no plan at all), or ``None``."""
    if data.child_level is None:
        return NO_RETURN
    cin = data.child_level
    quarters = 4 * (data.year - bt.first_full_year(cin) + 1)
    if quarters < bt.FIRST_ORIGIN + 3:  # the backtest needs this many quarters before its origin
        return (f"children on plans next quarter and conference chair capacity (the records "
                f"cover {max(quarters, 0)} full quarters up to {data.period}; a forecast is "
                f"backtested first, which needs {bt.FIRST_ORIGIN + 3})")
    if cin.cp_plans.empty:
        return ("children on plans next quarter and conference chair capacity (no child "
                "protection plan in the records)")
    return None


def referral_outlook(data: ThemeData) -> bt.Outlook | None:
    """Referrals in the quarter after 31 March from DfE's referrals by month, with its backtest.

    Returns
    -------
    Outlook or None
        ``None`` with fewer than :data:`MIN_REFERRAL_MONTHS` months published (not in the data,
        or months suppressed), or a month of the run's last quarter missing.
    """
    if fc.monthly_series(data.facts, data.la_code).notna().sum() < MIN_REFERRAL_MONTHS:
        return None

    def fit() -> bt.Outlook | None:
        try:
            return bt.next_quarter_referrals(data.facts, data.la_code)
        except ParameterError:  # a month of the last quarter missing or suppressed
            return None
        except ValueError:  # no model could be scored (too few or too flat months to judge)
            return None

    return _once(data, "referrals", fit)


def annual_panel(data: ThemeData) -> dict[str, tuple[pd.Series, pd.DataFrame]]:
    """Every LA's children on plans at 31 March with its flows (:func:`fc.annual_panel`)."""
    return _once(data, "panel", lambda: fc.annual_panel(data.facts))


def has_annual(data: ThemeData) -> bool:
    """DfE published the LA's children on plans at 31 March of the run's year."""
    panel = annual_panel(data)
    return data.la_code in panel and pd.notna(
        panel[data.la_code][0].get(pd.Period(str(data.year), "Y-MAR")))


@dataclass
class AnnualOutlook:
    """The annual forecast of one LA, fitted over every LA in the facts.

    Attributes
    ----------
    forecasts
        The LA's forecasts by :data:`ANNUAL_MODELS` and step.
    las
        LAs in the panel.
    pooled_las
        LAs with the pooled model's features at the origin (the others fell back).
    """

    forecasts: pd.DataFrame
    las: int
    pooled_las: int


def annual_outlook(data: ThemeData, horizon: int | None = None) -> AnnualOutlook | None:
    """Children on plans at the next ``horizon`` 31 Marches (default :data:`DEFAULT_HORIZON`).

    Returns
    -------
    AnnualOutlook or None
        ``None`` when DfE has no count for the LA at 31 March of the run's year.
    """
    if not has_annual(data):
        return None
    steps = DEFAULT_HORIZON if horizon is None else int(horizon)

    def fit() -> AnnualOutlook:
        panel = annual_panel(data)
        every = pooled_forecasts(data, steps)
        first = every[(every["model"] == "pooled") & (every["step"] == 1)]
        return AnnualOutlook(every[every["series"] == data.la_code], len(panel),
                             int((first["fitted"] == "pooled").sum()))

    return _once(data, ("annual", steps), fit)


def pooled_forecasts(data: ThemeData, steps: int) -> pd.DataFrame:
    """Every LA's annual forecasts by :data:`ANNUAL_MODELS` for ``steps`` years from the run's
    year (:func:`fc.forecast_panel`): the same for every LA, so fitted once per release and kept
    in :mod:`cpstats.release_cache`."""
    return release_cache.for_run(
        data, f"annual_forecasts-h{steps}",
        lambda: fc.forecast_panel(annual_panel(data), ANNUAL_MODELS, data.year, steps))


def annual_backtest(data: ThemeData, horizon: int | None = None) -> pd.DataFrame:
    """The annual models backtested at every origin from :data:`FIRST_ANNUAL_ORIGIN` to the
    year before the run's, over every LA (rows with a known outcome only; may be empty)."""
    steps = DEFAULT_HORIZON if horizon is None else int(horizon)
    origins = list(range(FIRST_ANNUAL_ORIGIN, data.year))

    def run() -> pd.DataFrame:
        if not origins:
            return pd.DataFrame(columns=["series", *bt.BACKTEST_COLUMNS])
        record = bt.backtest_panel(annual_panel(data), ANNUAL_MODELS, origins, steps, jobs=1)
        return record[record["actual"].notna()]

    return _once(data, ("annual_backtest", steps),  # the same for every LA: once per release
                 lambda: release_cache.for_run(data, f"annual_backtest-h{steps}", run))


def release_level(data: ThemeData, horizon: int | None = None) -> None:
    """Compute what this theme shares between every LA of a release and year (the pooled annual
    forecast and its backtest; for the default run, the synthetic county's next-quarter outlook)
    into :mod:`cpstats.release_cache`."""
    pooled_forecasts(data, DEFAULT_HORIZON if horizon is None else int(horizon))
    annual_backtest(data, horizon)
    if data.inputs.uses_synthetic:
        quarter_outlook(data)


# -- shown as published ---------------------------------------------------------------------------
def _default_rows(outlook: bt.Outlook) -> pd.DataFrame:
    return outlook.forecasts[outlook.forecasts["model"] == "default"]


def _default(outlook: bt.Outlook) -> pd.Series:
    return _default_rows(outlook).iloc[0]


def _label(period: pd.Period) -> str:
    return quarter_label(period.qyear, period.quarter)


def _intervals(row: pd.Series) -> dict[str, tuple[int, int]]:
    """The 80% and 95% bounds of a forecast row, rounded to whole units as published."""
    return {f"interval_{level}": (round(row[f"lower_{level}"]), round(row[f"upper_{level}"]))
            for level in ("80", "95")}


def _bounds_text(row: pd.Series, measure: str) -> list[str]:
    return [text(round(row[b]), measure) for b in BOUNDS[1:]]


def _model_note(outlook: bt.Outlook, what: str) -> str:
    if not outlook.study.choose_on:
        return (f"{what}; default model {outlook.study.default}, fixed by the quarterly "
                f"benchmark across synthetic counties")
    first, last = (bt.origin_label(o) for o in (outlook.study.choose_on[0],
                                                 outlook.study.choose_on[-1]))
    return (f"{what}; default model {outlook.study.default}, chosen on backtest origins "
            f"{first} to {last}")


#: Plain names of the models for tables; the code name (the prose's and docs/forecasting.md's)
#: follows in brackets.
MODEL_NAMES = {"naive": "Last value", "snaive": "Same quarter a year earlier",
               "drift": "Recent trend", "mean_k": "Mean of the last 3", "ets":
               "Exponential smoothing", "arima": "ARIMA", "sarimax": "Leading indicator regression",
               "stock_flow": "Stock and flow", "stock_flow_hazard": "Child-level stock and flow",
               "combo": "Average of models", "pooled": "Pooled over councils",
               "combo_pooled": "Average with the pooled model",
               "pooled_median": "Median regression over councils",
               "combo_median": "Average of the two pooled regressions",
               "flows": "Starts and exits, shrunk to the region",
               "local_level": "Damped local level over councils",
               "combo_flows": "Average of starts and exits with the pooled regressions"}


def model_name(model: str, default: str | None = None) -> str:
    """A model as a table names it: ``naive`` -> ``Last value (naive)``, and ``default`` ->
    ``Recommended: Mean of the last 3 (mean_k)`` when the model behind it is given."""
    if model == "default" and default:
        return f"Recommended: {model_name(default)}"
    plain = MODEL_NAMES.get(model)
    return f"{plain} ({model})" if plain else model


def _rests_on(data: ThemeData) -> str:
    """Which data the next-quarter forecast rests on, said beside it."""
    if data.synthetic:
        return (f"These next-quarter figures rest on {SOURCE_NAMES['synthetic']}: they show the "
                f"method, not {data.la_name}'s next quarter. The forecast from DfE's published "
                f"counts for {data.la_name} is the next year's, below.")
    return f"These next-quarter figures rest on {SOURCE_NAMES[str(data.child_source)]}."


def forecast_table(rows: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Point forecasts and 80%/95% bounds in whole units, with readers' column labels."""
    return rows[BOUNDS].round(0).astype(int).set_axis(index).rename(columns=BOUND_LABELS)


def bias_step(y: pd.Series) -> int:
    """The unit bias is shown to: 10 for a series in thousands (where its fit moves by more
    than 1 between CPUs), else 1."""
    return 10 if y.dropna().median() >= 1000 else 1


def backtest_table(scores: pd.DataFrame, baseline: str, default: str, step: int = 1
                   ) -> pd.DataFrame:
    """A backtest's scores as published: MASE at the registry's precision, bias to ``step``
    units, coverage in whole per cent, sorted by the figures shown (stable on any CPU).

    Parameters
    ----------
    scores
        :func:`cpstats.stats.backtest.score` by model and step.
    baseline
        The yardstick each model's MASE is divided by (``naive``, ``snaive``).
    default
        The model behind ``default`` (named in its row).
    step
        Bias is rounded to a multiple of this (see :func:`bias_step`).
    """
    places = registry.decimals("forecast_backtest_mase")
    base = scores[scores["model"] == baseline].set_index("step")["mase"]
    table = pd.DataFrame({
        "Model": scores["model"].map(lambda m: model_name(m, default)),
        "Steps ahead": scores["step"].astype(int),
        "Forecasts": scores["n"].astype(int),
        "Mean MASE": scores["mase"].round(places),
        "Median MASE": scores["median_mase"].round(places),
        f"MASE / {baseline}": (scores["mase"] / scores["step"].map(base)).round(places),
        "Bias": ((scores["bias"] / step).round() * step).astype(int),
        "80% interval coverage (%)": (100 * scores["coverage_80"]).round().astype(int),
        "95% interval coverage (%)": (100 * scores["coverage_95"]).round().astype(int),
    }).sort_values(["Steps ahead", "Mean MASE", "Model"], kind="stable")
    shown = [c for c in table.columns if "MASE" in c]
    table[shown] = table[shown].map(lambda v: f"{v:.{places}f}")  # 1.0, not 1
    return table.reset_index(drop=True)


def _caption(step: int, unit: str) -> str:
    places = registry.decimals("forecast_backtest_mase")
    return (f"Rounded to read the same on any computer: MASE to {places} decimal, bias (mean "
            f"forecast minus outcome) to the nearest {'' if step == 1 else f'{step} '}{unit}, "
            f"coverage to whole per cent.")


def _fan_frame(history: pd.Series, forecasts: pd.DataFrame, labels: Callable[[pd.Index], list]
               ) -> pd.DataFrame:
    """What a fan chart draws: ``observed`` on the history, :data:`BOUNDS` on the forecasts."""
    observed = pd.DataFrame({"observed": history.to_numpy()}, index=labels(history.index))
    ahead = forecasts[BOUNDS].astype(float).set_axis(labels(pd.Index(forecasts["period"])))
    return pd.concat([observed, ahead])


def draw_fan(frame: pd.DataFrame, chart: object) -> object:
    """A :class:`cpstats.themes.Chart` drawer: the observed series, then the forecast with its
    80% and 95% intervals (bars around one point, a shaded fan over several).

    Reads ``observed``, ``forecast``, ``xlabel``, ``ylabel`` from ``chart.options``.
    """
    options = chart.options  # type: ignore[attr-defined]
    fig, ax = plots.new_figure()
    x = np.arange(len(frame))
    seen = frame["observed"].notna().to_numpy()
    ax.plot(x[seen], frame.loc[seen, "observed"], marker="o", color=plots.AF_DARK_BLUE,
            label=options["observed"])
    ahead, colour = frame[~seen], plots.AF_PALETTE[1]
    if len(ahead) == 1:
        row = ahead.iloc[0]
        for level, alpha in (("95", 0.45), ("80", 1.0)):
            ax.errorbar(x[~seen], [row["point"]], alpha=alpha, elinewidth=10, fmt="none",
                        yerr=[[row["point"] - row[f"lower_{level}"]],
                              [row[f"upper_{level}"] - row["point"]]],
                        ecolor=colour, label=f"{level}% interval")
        ax.plot(x[~seen], [row["point"]], "o", color=colour, label=options["forecast"])
    else:  # the fan starts from the last observed value
        xs = np.r_[x[seen][-1], x[~seen]]
        last = frame.loc[seen, "observed"].iloc[-1]
        for level, alpha in (("95", 0.2), ("80", 0.35)):
            ax.fill_between(xs, np.r_[last, ahead[f"lower_{level}"]],
                            np.r_[last, ahead[f"upper_{level}"]], color=colour, alpha=alpha,
                            linewidth=0, label=f"{level}% prediction interval")
        ax.plot(xs, np.r_[last, ahead["point"]], marker="o", linestyle="--", color=colour,
                label=options["forecast"])
    plots.period_ticks(ax, x, frame.index)
    return plots.finish(fig, ax, title=chart.title, xlabel=options["xlabel"],  # type: ignore[attr-defined]
                        ylabel=options["ylabel"], source=chart.source)  # type: ignore[attr-defined]


def _quarter_labels(index: pd.Index) -> list[str]:
    return [_label(p) for p in index]


# -- the sections ---------------------------------------------------------------------------------
def next_quarter(data: ThemeData) -> Section:
    """Children on plans at the end of the next quarter: the default model's forecast with its
    intervals, every model's, the backtest behind the choice, and a fan chart.

    Parameters
    ----------
    data
        The run's data; without child-level records the section is left out.

    Returns
    -------
    Section
    """
    section = Section(THEME, "next_quarter", "Children on plans next quarter", data)
    outlook = quarter_outlook(data)
    if outlook is None:
        section.leave_out(str(quarter_gap(data)))
        return section
    source, chosen = str(data.child_source), _default(outlook)
    label, model = _label(chosen["period"]), outlook.study.default
    stock = float(outlook.y.iloc[-1])
    small = 1 <= stock <= 5  # a child-level count of 1 to 5 is never shown
    now = section.record("cp_plans_at_date", None if small else stock, source=source,
                         marker="c" if small else None,
                         period=str(outlook.y.index[-1].end_time.date()),
                         note="children on a plan at the quarter end, child-level records")
    if forecast_hidden(outlook):  # as the table by model shows it: c
        point = section.record("cp_forecast_next_quarter", None, source=source, period=label,
                               marker="c", note=_model_note(outlook, "child-level records"))
        section.say(f"**{now}** children were on a plan at the end of "
                    f"{quarter_label(data.year, 4)}. The default model (`{model}`, fixed beforehand by a "
                    f"benchmark across five synthetic counties with sibling groups) expects a number from 1 to 5 at the end of {label} ({point}: "
                    f"small forecasts are not shown, nor their intervals).")
    else:
        point = section.record("cp_forecast_next_quarter", round(chosen["point"]),
                               source=source, period=label, **_intervals(chosen),
                               note=_model_note(outlook, "child-level records"))
        lo80, hi80, lo95, hi95 = _bounds_text(chosen, "cp_forecast_next_quarter")
        section.say(f"**{now}** children were on a plan at the end of "
                    f"{quarter_label(data.year, 4)}. The default model (`{model}`, fixed beforehand by a "
                    f"benchmark across five synthetic counties with sibling groups) expects **{point}** at the end of {label}: 80% prediction "
                    f"interval {lo80} to {hi80}, 95% interval {lo95} to {hi95}.")
    section.say(_rests_on(data))
    others = outlook.forecasts[outlook.forecasts["model"] != "default"]
    section.table("next_quarter_by_model",
                  forecast_table(others, pd.Index(others["model"].map(model_name), name="Model")),
                  child_level=True)
    section.table("next_quarter_backtest",
                  backtest_table(outlook.study.scores, "naive", model, bias_step(outlook.y)),
                  caption=_caption(bias_step(outlook.y), "child"))
    fan = _fan_frame(outlook.y.iloc[-12:], _default_rows(outlook), _quarter_labels)
    if disclosure.primary_mask(np.rint(fan.to_numpy(dtype="float64"))).any():
        section.leave_out("the fan chart of children on plans by quarter (a quarter's count or "
                          "a forecast bound is from 1 to 5, which a chart would show)")
        return section
    section.chart("next_quarter_fan", fan,
                  draw_fan, title=f"About {point} children expected on plans at the end of {label}",
                  source=f"Child-level records ({SOURCE_NAMES[source]}); cpstats forecast, "
                         f"default model {model}",
                  child_level=True, observed="Children on a plan at the quarter end",
                  forecast=f"Forecast ({model})", xlabel="Quarter",
                  ylabel="Children on a plan (count)")
    return section


def _service(data: ThemeData, measure: str) -> pd.DataFrame:
    """The LA's latest service figure ``measure`` (one row), or an empty frame."""
    rows = data.service[data.service["measure"] == measure]
    return rows.sort_values("period", kind="stable").tail(1)


def chairs(data: ThemeData) -> Section:
    """What next quarter's forecast means for conference chairs: children per full-time chair
    with the chairs in post, and the chairs needed at the service's caseload target.

    The chair FTE and caseload target come from the LA's service settings
    (:attr:`ThemeData.service`: ``--service FILE``, or the seed report for its LA); an LA that
    gives none gets a sentence saying so.

    Returns
    -------
    Section
    """
    section = Section(THEME, "chairs", "What it means for conference chairs", data)
    fte_row, target_row = (_service(data, m) for m in ("conference_chairs_fte",
                                                        "children_per_chair_fte_target"))
    if fte_row.empty or target_row.empty:
        section.say(f"No conference chair establishment or caseload target is known for "
                    f"{data.la_name}, so what the forecast means for chairs is not worked out: a "
                    f"council gives both in a service settings file (`--service FILE`).")
        section.leave_out("conference chair capacity (no chair FTE or caseload target: give them "
                          "with --service FILE)")
        return section
    outlook = quarter_outlook(data)
    if outlook is None:
        section.leave_out(str(quarter_gap(data)))
        return section
    if forecast_hidden(outlook):
        section.leave_out("conference chair capacity (next quarter's forecast is from 1 to 5, "
                          "not shown, and children per chair would give it away)")
        return section
    chosen, source = _default(outlook), str(data.child_source)
    label = _label(chosen["period"])
    fte_value, target_value = float(fte_row["value"].iloc[0]), float(target_row["value"].iloc[0])
    fte, target = section.record_fact(fte_row), section.record_fact(target_row)
    given = SOURCE_NAMES[str(fte_row["source"].iloc[0])]
    capacity = fc.chair_capacity(_default_rows(outlook), fte_value, target_value).iloc[0]
    per_fte = section.record(
        "cp_forecast_children_per_fte_chair", capacity["per_fte"], source=source, period=label,
        interval_80=(round(capacity["per_fte_lower_80"], 1), round(capacity["per_fte_upper_80"], 1)),
        note=f"forecast / {fte} FTE chairs ({given})")
    needed = section.record(
        "cp_forecast_fte_chairs_needed", capacity["fte_needed"], source=source, period=label,
        interval_80=(round(capacity["lower_80"] / target_value, 1),
                     round(capacity["fte_needed_upper_80"], 1)),
        note=f"forecast / {target} children per FTE chair (the target, {given})")
    low, high = (text(capacity[c], "cp_forecast_children_per_fte_chair")
                 for c in ("per_fte_lower_80", "per_fte_upper_80"))
    upper = text(capacity["fte_needed_upper_80"], "cp_forecast_fte_chairs_needed")
    point = text(round(chosen["point"]), "cp_forecast_next_quarter")
    over = "above" if capacity["per_fte"] > target_value else "within"
    if data.synthetic:
        section.say("These chair figures use the next-quarter forecast above, so they too rest "
                    "on the synthetic county and illustrate the method only.")
    section.say(f"The service had {fte} full-time-equivalent (FTE) conference chairs and a target "
                f"of {target} children per full-time chair ({given}).")
    section.say(f"With {fte} FTE chairs and the forecast of {point} children from "
                f"{SOURCE_NAMES[source]}, there would be **{per_fte} children per full-time "
                f"chair** ({low} to {high} across the 80% interval), {over} the target of "
                f"{target}. Meeting the target would take **{needed} FTE chairs**, or {upper} to "
                f"cover the upper end of the 80% interval.")
    return section


def next_year(data: ThemeData, horizon: int | None = None) -> Section:
    """Children on plans at the next 31 Marches from DfE's figures: the recommended model's
    forecast, its pooled member's, a fan chart and a table of every year ahead.

    Parameters
    ----------
    data
        The run's data.
    horizon
        Years ahead (default :data:`DEFAULT_HORIZON`).

    Returns
    -------
    Section
    """
    section = Section(THEME, "next_year", "Children on plans at 31 March in the years ahead", data)
    outlook = annual_outlook(data, horizon)
    if outlook is None:
        section.leave_out(f"the annual forecast (no DfE count of children on plans at 31 March "
                          f"{data.year})")
        return section
    rows = outlook.forecasts
    ahead = rows[rows["model"] == fc.ANNUAL_DEFAULT].set_index("step")
    if 1 not in ahead.index:  # the release's first year: no change yet to model
        section.leave_out(f"the annual forecast (DfE's series for {data.la_name} has one year "
                          f"up to {data.period}; the model needs at least two)")
        return section
    nxt, period = ahead.loc[1], year_label(data.year + 1)
    next_year_text = section.record(
        "cp_forecast_next_year", round(nxt["point"]), source="derived", period=period,
        **_intervals(nxt), note=f"DfE counts to {data.year}; model {fc.ANNUAL_DEFAULT} (cpstats "
                                f"forecast annual's default), pooled over {outlook.las} LAs")
    lo, hi = _bounds_text(nxt, "cp_forecast_next_year")[:2]
    said = (f"From DfE's figures up to 31 March {data.year}, the recommended model expects "
            f"**{next_year_text}** children on plans in {data.la_name} at 31 March "
            f"{data.year + 1} (80% prediction interval {lo} to {hi}).")
    own = rows[(rows["model"] == "pooled") & (rows["step"] == 1)].iloc[0]
    if own["fitted"] == "pooled":
        pooled = section.record(
            "cp_forecast_next_year", round(own["point"]), source="derived", period=period,
            breakdown="model=pooled", **_intervals(own),
            note=f"DfE counts to {data.year}; one regression over {outlook.las} LAs' series, "
                 f"{outlook.pooled_las} with its features at {data.year}")
        plo, phi = _bounds_text(own, "cp_forecast_next_year")[:2]
        said += (f" Its pooled member, one regression over every council in the data, expects "
                 f"{pooled} on its own (80% interval {plo} to {phi}).")
    else:
        section.leave_out(f"the pooled model's own forecast for {data.la_name} (too few LAs or "
                          f"years in the data given: it fell back to {own['fitted']})")
    if data.year < fc.ANNUAL_DEFAULT_DATA_TO:
        said += (f" That model was chosen by a backtest on DfE's figures to 31 March "
                 f"{fc.ANNUAL_DEFAULT_DATA_TO}, later than {data.year}: an analyst in {data.year} "
                 f"could not have chosen it that way.")
    section.say(said)
    years = pd.Index([p.year for p in ahead["period"]], name="31 March")
    section.table("annual_forecast", forecast_table(ahead, years))
    history = annual_panel(data)[data.la_code][0].loc[:pd.Period(str(data.year), "Y-MAR")]
    section.chart("annual_fan",
                  _fan_frame(history.dropna(), ahead, lambda idx: [p.year for p in idx]),
                  draw_fan, title=f"{next_year_text} children expected on plans at 31 March "
                                  f"{data.year + 1}",
                  source="DfE Characteristics of children in need (table d1); cpstats forecast",
                  observed="DfE: children on a plan at 31 March",
                  forecast=f"Forecast ({fc.ANNUAL_DEFAULT})", xlabel="Year ending 31 March",
                  ylabel="Children on a plan (count)")
    return section


def annual_track_record(data: ThemeData, horizon: int | None = None) -> Section:
    """How the annual models did at every origin before the run's year over every LA, and how
    often a model fell back to the last value for want of history.

    Returns
    -------
    Section
    """
    section = Section(THEME, "annual_track_record", "The annual track record so far", data)
    if not has_annual(data):
        return section  # the annual forecast itself says why it is left out
    record = annual_backtest(data, horizon)
    scores = bt.score(record)
    if scores.empty:
        section.leave_out("the annual track record (too few years before the report year)")
        return section
    own = annual_panel(data)[data.la_code][0]
    section.table("annual_backtest",
                  backtest_table(scores, "naive", fc.ANNUAL_DEFAULT, bias_step(own)),
                  caption=_caption(bias_step(own), "child"))
    others = record[record["model"] != "naive"]
    fell = others["fitted"].str.startswith("naive").groupby(others["model"]).mean()
    fell = fell[fell > 0]
    if len(fell):
        shares = ", ".join(
            f"`{m}` in " + section.derive("forecast_backtest_fallback_pct", 100 * v,
                                         inputs=["dfe"], breakdown=f"model={m}",
                                         note="No interval: a count of what every backtest "
                                              "forecast did, not an estimate from a sample")
            for m, v in fell.items())
        section.say(f"DfE's series start at 31 March {own.first_valid_index().year}, so at these "
                    f"early origins some models had too short a history and fell back to the "
                    f"last value: {shares} of their backtest forecasts (the pooled model's "
                    f"features need a few years before they exist, whatever the number of LAs: "
                    f"{len(annual_panel(data))} here).")
    common = bt.common_rows(record)
    if common.left_out:
        left = section.derive("forecast_backtest_left_out", common.left_out, inputs=["dfe"],
                              note="No interval: a count of backtest forecasts")
        lacking = ", ".join(f"`{m}`" for m in common.missing.index)
        section.say(f"Every model is scored on the same forecasts (council, origin and years "
                    f"ahead), so their errors compare like with like: {left} that only some "
                    f"models made are left out for all ({lacking} made none there: a council "
                    f"with too few years at the origin, where the single-series models took "
                    f"the last value with the pooled spread).")
    return section


def referrals(data: ThemeData) -> Section:
    """Referrals next quarter from DfE's referrals by month: the default model's forecast, a
    chart and the backtest against seasonal naive.

    Returns
    -------
    Section
    """
    section = Section(THEME, "referrals", "Referrals next quarter", data)
    outlook = referral_outlook(data)
    if outlook is None:
        section.leave_out("referrals next quarter (fewer than three years of DfE referrals by "
                          "month: not in the data given, or months suppressed; or too few "
                          "referrals for any model's errors to be measured)")
        return section
    chosen, model = _default(outlook), outlook.study.default
    label = _label(chosen["period"])
    point = section.record("referrals_forecast_next_quarter", round(chosen["point"]),
                           source="derived", period=label, **_intervals(chosen),
                           note=_model_note(outlook, f"DfE referrals by month (table c6) to "
                                                     f"{data.year}"))
    lo, hi = _bounds_text(chosen, "referrals_forecast_next_quarter")[:2]
    section.say(f"The default model (`{model}`) expects **{point}** referrals in {label} (80% "
                f"prediction interval {lo} to {hi}).")
    step = bias_step(outlook.y)
    section.table("referrals_backtest", backtest_table(outlook.study.scores, "snaive", model, step),
                  caption=_caption(step, "referrals"))
    section.chart("referrals_next_quarter",
                  _fan_frame(outlook.y.iloc[-12:], _default_rows(outlook), _quarter_labels),
                  draw_fan, title=f"About {point} referrals expected in {label}",
                  source="DfE Characteristics of children in need (table c6, by month, summed)",
                  observed="DfE: referrals in the quarter", forecast=f"Forecast ({model})",
                  xlabel="Quarter", ylabel="Referrals (count)")
    return section


def _track_record(section: Section, outlook: bt.Outlook, baseline: str, forecast: str,
                  source: str) -> dict[str, str] | None:
    """Record the default's and the baseline's one-step backtest scores; their texts (``None``
    when it scored no one-step forecast of the default or of the baseline, e.g. a series with gaps)."""
    study = outlook.study
    if not {"default", baseline} <= set(study.scores.loc[study.scores["step"] == 1, "model"]):
        section.leave_out(f"the backtest track record ({registry.label(forecast)}): no "
                          f"one-step forecast of both the default and {baseline} was scored on "
                          f"the later origins")
        return None
    period = _label(_default(outlook)["period"])
    note = (f"one-step backtest on origins {bt.origin_label(study.report_on[0])} to "
            f"{bt.origin_label(study.report_on[-1])} (not those the default was chosen on)")
    said: dict[str, str] = {}
    step1 = study.scores[study.scores["step"] == 1].set_index("model")
    shown = step1["mase"].round(registry.decimals("forecast_backtest_mase"))
    others = step1.index.drop(["default", baseline, study.default], errors="ignore")
    for model in others:
        said[f"{model}_mase"] = section.record(
            "forecast_backtest_mase", step1.loc[model, "mase"], source=source, period=period,
            note=note, breakdown=f"forecast={forecast};model={model}")
    said["others"] = ", ".join(f"`{m}` {said[f'{m}_mase']}" for m in
                               shown[others].sort_values(kind="stable").index)
    for model in ("default", baseline):
        row = step1.loc[model]
        where = {"source": source, "period": period, "note": note,
                 "breakdown": f"forecast={forecast};model={model}"}
        said[f"{model}_mase"] = section.record("forecast_backtest_mase", row["mase"], **where)
        if model == "default":
            said["n"] = f"{int(row['n'])}"
            for level in ("80", "95"):
                # Backtests overlap and share origins: not independent trials for Wilson.
                said[level] = section.record(
                    f"forecast_backtest_coverage_{level}_pct", 100 * row[f"coverage_{level}"],
                    **{**where, "note": f"No interval: a count of what every backtest "
                                        f"forecast did, not an estimate from a sample; {note}"})
    # judged on the figures shown, so the sentence agrees with them on any CPU
    said["better"] = "smaller" if shown["default"] < shown[baseline] else "no smaller"
    cover = round(100 * step1.loc["default", "coverage_80"])
    said["calibrated"] = 70 <= cover <= 90
    return said


def trust(data: ThemeData) -> Section:
    """How far to trust the forecasts: each one's track record on the backtest origins its
    default was not chosen on (MASE against the yardstick, interval coverage).

    Returns
    -------
    Section
    """
    section = Section(THEME, "trust", "How far to trust these forecasts", data)
    lines = []
    quarter = quarter_outlook(data)
    s = None if quarter is None else _track_record(
        section, quarter, "naive", "cp_forecast_next_quarter", str(data.child_source))
    if s is not None:
        first, last = (bt.origin_label(o) for o in (quarter.study.report_on[0],
                                                     quarter.study.report_on[-1]))
        verdict = ("the interval is a fair guide, the point less so" if s["calibrated"] else
                   "the interval held the outcome far from 80% of the time here, so read it as "
                   "rough too")
        lines.append(
            f"- **Next quarter:** from the {s['n']} backtest origins ({first} to {last}), "
            f"the default's errors were {s['better']} than the last value's (MASE "
            f"{s['default_mase']} against {s['naive_mase']}; the other models: {s['others']}), "
            f"and its 80% interval held the outcome in {s['80']} of them (95%: {s['95']}). So "
            f"few origins make every figure rough: {verdict}.")
    referral = referral_outlook(data)
    s = None if referral is None else _track_record(
        section, referral, "snaive", "referrals_forecast_next_quarter", "derived")
    if s is not None:
        lines.append(f"- **Referrals:** the default's MASE was {s['default_mase']} against "
                     f"seasonal naive's {s['snaive_mase']} on the later origins (the other "
                     f"models: {s['others']}); its 80% interval covered {s['80']}.")
    if has_annual(data):
        lines.append(
            "- **Next year:** across all LAs (the benchmark in `docs/forecasting.md`) the "
            "recommended model's errors were only slightly smaller than the last value's, short "
            "of the aim: year-to-year changes in a council's plans are mostly not predictable "
            "from its past. Its 80% intervals held about 80% of outcomes for small and large "
            "councils alike: the interval is the useful part.")
    if lines:
        section.say("\n".join(lines))
    return section


SECTIONS = (next_quarter, chairs, next_year, annual_track_record, referrals, trust)


def compute(data: ThemeData, **options: object) -> ThemeResult:
    """Every section of the forecasting theme for a run (``horizon=`` years ahead, optional)."""
    return run_sections(THEME, data, SECTIONS, **options)
