"""Benchmarking: every comparison with its uncertainty (rendered on page ``01_trends``).

Sections:

- :func:`differences`: each headline rate and percentage with its 95% interval, against
  England and the region, with a score test of the difference and Holm's adjustment across
  the table;
- :func:`funnels`: every council's value against its denominator, with 95% and 99.8% limits
  widened for overdispersion (:mod:`cpstats.stats.funnel`), the LA highlighted;
- :func:`neighbour_table`: each statistical neighbour's value (LAIT-style), the LA's rank and
  quartile among all councils and among its neighbours, the neighbours' means named as
  unweighted or weighted;
- :func:`trend_tests`: the LA's yearly trend against England's and its neighbours'
  (:mod:`cpstats.stats.trends`), and this year's rate ratio on last year's.

Words such as "higher", "lower" or "differs" are written only where a recorded test backs them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cpstats import comparison, plots, registry, release_cache
from cpstats.defaults import ENGLAND_CODE
from cpstats.facts import select
from cpstats.periods import is_year, period_year
from cpstats.stats import funnel, trends
from cpstats.themes.base import Chart, Section, ThemeData, rounded_interval, text

THEME = "01_trends"
#: The headline rates and percentages tested against England and the region.
HEADLINE: tuple[str, ...] = (
    "cp_rate_per_10k", "cp_plans_started_rate_per_10k", "cp_plans_ended_rate_per_10k",
    "cp_second_or_subsequent_pct", "cp_reviews_in_timescale_pct",
    "icpc_within_15_working_days_pct", "referrals_rate_per_10k", "re_referrals_pct",
    "s47_enquiries_rate_per_10k", "icpcs_rate_per_10k",
)
#: Measures drawn as funnel plots across all councils.
FUNNELS: tuple[str, ...] = ("cp_rate_per_10k", "cp_second_or_subsequent_pct",
                            "cp_reviews_in_timescale_pct", "icpc_within_15_working_days_pct")
#: Measures in the neighbour table (their counts are kept for every council).
NEIGHBOUR_MEASURES: tuple[str, ...] = FUNNELS + ("re_referrals_pct",)
#: Counts whose trend is tested: (count measure, rate measure whose population it implies).
TRENDS: tuple[tuple[str, str], ...] = (("cp_plans_at_31_march", "cp_rate_per_10k"),
                                       ("cp_plans_started", "cp_plans_started_rate_per_10k"))
#: Years of trend fitted (the run's year and those before it).
TREND_YEARS = 5
#: Significance level of every test on this page (after Holm's adjustment where stated).
ALPHA = 0.05


# -- rules ---------------------------------------------------------------------------------------
def holm(p_values: pd.Series) -> pd.Series:
    """Holm's step-down adjustment of a family of p-values (NaN left as NaN)."""
    from statsmodels.stats.multitest import multipletests

    p = pd.Series(p_values, dtype=float)
    valid = p.dropna()
    if valid.empty:
        return p
    adjusted = multipletests(valid.to_numpy(), method="holm")[1]
    return pd.Series(adjusted, index=valid.index).reindex(p.index)


def p_words(p: float) -> str:
    """A p-value as prose states it: ``p < 0.001`` or ``p = 0.060``."""
    return "p < 0.001" if p < 0.001 else f"p = {text(p, 'p_value')}"


def difference_table(data: ThemeData) -> pd.DataFrame:
    """Each headline measure's LA value beside England and the region, with intervals and
    tests: one row per measure and comparator (``measure, against, code, la, la_lower,
    la_upper, other, other_lower, other_upper, z, p_value, p_holm``)."""
    rows = []
    for measure in HEADLINE:
        source = _source(data, measure)
        if source is None:
            continue
        table = comparison.compare(data.facts, measure, data.la_code, data.period,
                                   data.region[0], data.neighbours,
                                   against=("england", "region"), source=source)
        la = table[table["role"] == "la"]
        if la.empty or pd.isna(la["value"].iloc[0]):
            continue
        for _, other in table[table["role"] != "la"].iterrows():
            rows.append({"measure": measure, "against": other["role"],
                         "code": other["geography_code"], "source": source,
                         "la": la["value"].iloc[0], "la_lower": la["lower_95"].iloc[0],
                         "la_upper": la["upper_95"].iloc[0], "other": other["value"],
                         "other_lower": other["lower_95"], "other_upper": other["upper_95"],
                         "z": other["z"], "p_value": other["p_value"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.assign(p_holm=holm(frame["p_value"]))


def _source(data: ThemeData, measure: str) -> str | None:
    for source in ("dfe", "derived"):
        if len(data.fact(measure, source)) == 1:
            return source
    return None


def councils(data: ThemeData, measure: str) -> pd.DataFrame:
    """Every council's value, numerator and denominator of ``measure`` this year (see
    :func:`cpstats.comparison.panel`)."""
    table = comparison.panel(data.facts, measure, data.period)
    return table[table["geography_level"] == "local_authority"]


def rank(values: pd.Series, code: str) -> tuple[int, int, int]:
    """(rank from the highest value, councils ranked, quartile 1-4 with 1 the highest quarter)
    of ``code`` among ``values``; ties share the best rank."""
    ranks = values.rank(ascending=False, method="min")
    place = int(ranks[code])
    quartile = min(4, int(math.ceil(4 * place / len(values))))
    return place, len(values), quartile


def neighbour_means(table: pd.DataFrame, kind: str) -> tuple[float, float]:
    """(unweighted, weighted) mean of the neighbours' values: the weighted one pools their
    counts (sum of numerators over sum of denominators), so larger councils count for more."""
    scale = 10_000 if kind == "rate" else 100
    return (float(table["value"].mean()),
            float(table["numerator"].sum() / table["denominator"].sum() * scale))


def yearly_counts(data: ThemeData, count: str, rate: str, codes: list[str]) -> pd.DataFrame:
    """Counts and DfE-implied populations (count / rate x 10,000) summed over ``codes``, by
    integer year, for the :data:`TREND_YEARS` years up to the run's."""
    rows = select(data.facts, measure=[count, rate], geography_code=codes, source="dfe",
                  breakdown="total")
    rows = rows[is_year(rows["period"])]
    wide = rows.pivot_table(index=["period", "geography_code"], columns="measure",
                            values="value", aggfunc="first").dropna()
    if wide.empty or count not in wide or rate not in wide:
        return pd.DataFrame(columns=["count", "population"])
    wide = wide.assign(population=wide[count] / wide[rate] * 10_000).rename(
        columns={count: "count"})
    wide = wide[wide["population"].notna() & np.isfinite(wide["population"])]
    summed = wide.groupby(level="period")[["count", "population"]].sum()
    summed.index = period_year(summed.index.to_series()).to_numpy()
    return summed[summed.index > data.year - TREND_YEARS].sort_index()


# -- sections ------------------------------------------------------------------------------------
def differences(data: ThemeData) -> Section:
    """Headline rates and percentages with 95% intervals, tested against England and the region.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "differences", "Against England and the region, with uncertainty",
                      data)
    table = difference_table(data)
    if table.empty:
        section.leave_out("tests against England and the region (no headline figure published "
                          f"for {data.la_name} in {data.period})")
        return section
    for row in table.itertuples(index=False):
        section.record_fact(data.fact(row.measure, row.source))
        section.record_fact(data.fact(row.measure, row.source, row.code))
        which = f"measure={row.measure};against={row.against}"
        section.record("difference_z", row.z, source="derived", breakdown=which)
        section.record("p_value", row.p_value, source="derived", breakdown=which)
        section.record("p_value_holm", row.p_holm, source="derived", breakdown=which)
    section.say(_difference_words(data, table))
    section.table("differences", _difference_frame(table, data.region[1]), caption=(
        "95% intervals: Byar's (exact below 10 events) for rates per 10,000 on the population "
        "DfE's rate implies, Wilson's for percentages. Tests: score tests of two Poisson rates "
        "or two proportions; Holm's adjustment across every test in the table. The council is "
        "part of England and of its region, so each test is slightly conservative."))
    return section


def _difference_words(data: ThemeData, table: pd.DataFrame) -> str:
    parts = []
    for against, name in (("england", "England"), ("region", data.region[1])):
        rows = table[table["against"] == against]
        found = rows[rows["p_holm"] < ALPHA]
        same = rows[~(rows["p_holm"] < ALPHA)]
        said = [f"{_label(r.measure)} {'higher' if r.la > r.other else 'lower'} "
                f"({text(r.la, r.measure)} against {text(r.other, r.measure)}, "
                f"{p_words(r.p_holm)})" for r in found.itertuples()]
        alike = [_label(r.measure) for r in same.itertuples()]
        words = (f"Against {name}, {data.la_name} differed beyond chance (Holm-adjusted "
                 f"p < {ALPHA}) in: " + "; ".join(said) + "." if said else
                 f"Against {name}, no headline figure of {data.la_name} differed beyond chance "
                 f"(Holm-adjusted p < {ALPHA}).")
        if alike:
            words += " No difference beyond chance in: " + ", ".join(alike) + "."
        parts.append(words)
    return " ".join(parts) + (" A difference beyond chance says the gap is unlikely to be "
                              "sampling noise; it does not say why the figures differ.")


def _label(measure: str) -> str:
    return registry.label(measure)


def _interval_text(value: float, lower: float, upper: float, measure: str) -> str:
    if pd.isna(lower):
        return text(value, measure)
    return f"{text(value, measure)} ({text(lower, measure)} to {text(upper, measure)})"


def _difference_frame(table: pd.DataFrame, region: str) -> pd.DataFrame:
    shown = pd.DataFrame({
        "Measure": table["measure"].map(_label),
        "Compared with": table["against"].map({"england": "England", "region": region}),
        "Council (95% interval)": [_interval_text(r.la, r.la_lower, r.la_upper, r.measure)
                                   for r in table.itertuples()],
        "Comparator (95% interval)": [_interval_text(r.other, r.other_lower, r.other_upper,
                                                     r.measure) for r in table.itertuples()],
        "z": table["z"].map(lambda z: text(z, "difference_z")),
        "p": table["p_value"].map(_p_cell),
        "p (Holm)": table["p_holm"].map(_p_cell),
    })
    return shown.set_index("Measure")


def _p_cell(p: float) -> str:
    return "" if pd.isna(p) else ("< 0.001" if p < 0.001 else text(p, "p_value"))


def funnels(data: ThemeData) -> Section:
    """Funnel plots across every council for the CP rate, repeat plans, reviews on time and
    ICPC timeliness, with 95% and 99.8% limits widened for overdispersion.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "funnels", "Funnel plots: every council", data)
    rows, words = [], []
    for measure in FUNNELS:
        panel, fitted, grid = funnel_of(data, measure)
        if data.la_code not in panel.index or fitted is None:
            section.leave_out(f"the funnel plot of {_label(measure).lower()} (fewer than 10 "
                              f"councils, or none for {data.la_name}, published in {data.period})")
            continue
        kind = comparison.BASES[measure][0]
        scale = 10_000 if kind == "rate" else 100
        la = panel.loc[data.la_code]
        where = funnel.position(la["numerator"] / la["denominator"], la["denominator"], fitted,
                                exact=True)
        # On the exact limits' scale, so the z-score and the position always agree.
        z = float(fitted.exact_z_scores(np.array([la["numerator"]]),
                                        np.array([la["denominator"]]))[0])
        value = section.record_fact(data.fact(measure, _source(data, measure) or "dfe"))
        breakdown = f"measure={measure}"
        section.record("funnel_z_score", z, source="derived", breakdown=breakdown,
                       note="on the scale of the funnel's exact limits (the normal deviate of "
                            "the count's interpolated exact probability under the pooled "
                            "value, after the overdispersion widening)")
        target = section.record(measure, fitted.target * scale, source="derived",
                                geography_code=ENGLAND_CODE, breakdown="funnel=pooled_councils",
                                interval_95=_pooled_interval(panel, kind, measure))
        phi = section.record("funnel_overdispersion_phi", fitted.phi, source="derived",
                             geography_code=ENGLAND_CODE, breakdown=breakdown)
        words.append(f"{_label(measure)}: {value}, {where} around the {fitted.councils} "
                     f"councils' pooled {target} (overdispersion phi = {phi}; "
                     f"{_method_words(fitted)}).")
        rows.append(_funnel_row(measure, la, fitted, scale, where))
        frame = panel.assign(value=panel["numerator"] / panel["denominator"] * scale,
                             highlight=panel.index == data.la_code)[
            ["geography_name", "denominator", "value", "highlight"]]
        section.chart(f"funnel_{measure}", frame, draw_funnel,
                      title=f"{data.la_name}, {_label(measure)}: {where}",
                      source=f"DfE, Characteristics of children in need, {data.period}; every "
                             f"council with the counts published",
                      funnel=fitted, limits=grid, scale=scale, la=data.la_name,
                      xlabel=_denominator_label(measure), ylabel=_label(measure))
    if words:
        section.say(f"Each council against its size, {data.period}. Limits are drawn around all "
                    "councils pooled, from exact binomial (percentages) or Poisson (rates) "
                    "quantiles, so they hold for small councils, where the normal approximation "
                    "would not; where councils differ by more than chance alone gives, they "
                    "are widened about the pooled value by the random-effects factor (an "
                    "approximation: the exact quantiles themselves assume no overdispersion). "
                    "Each council's z-score is read on the same exact scale. "
                    + " ".join(words) + " A council can differ from England beyond sampling "
                    "chance (the tests above) and still sit inside these limits, which allow "
                    "for the spread councils show.")
        section.table("funnel_positions", pd.DataFrame(rows).set_index("Measure"))
    return section


def funnel_of(data: ThemeData, measure: str) -> tuple[pd.DataFrame, funnel.Funnel | None,
                                                       pd.DataFrame]:
    """Every council's counts of ``measure``, its fitted funnel (``None`` under 10 councils)
    and the limits on a grid of 200 denominators (:func:`cpstats.stats.funnel.limit_table`).
    None of it depends on the LA: it is computed once per release and year into
    :mod:`cpstats.release_cache`."""
    return release_cache.for_run(data, f"funnel-{measure}", lambda: _funnel_of(data, measure))


def _funnel_of(data: ThemeData, measure: str) -> tuple[pd.DataFrame, funnel.Funnel | None,
                                                        pd.DataFrame]:
    panel = councils(data, measure)
    if len(panel) < 10:
        return panel, None, pd.DataFrame()
    fitted = funnel.fit(panel["numerator"], panel["denominator"], comparison.BASES[measure][0])
    n = np.geomspace(max(panel["denominator"].min(), 1), panel["denominator"].max(), 200)
    return panel, fitted, funnel.limit_table(fitted, n)


def release_level(data: ThemeData) -> None:
    """Compute what this theme shares between every LA of a release and year (the funnels)
    into :mod:`cpstats.release_cache`."""
    for measure in FUNNELS:
        funnel_of(data, measure)


def _method_words(fitted: funnel.Funnel) -> str:
    if fitted.method == "none":
        return "no more spread than chance, limits not widened"
    kind = " random-effects" if fitted.method == "additive" else ""
    return f"councils differ by more than chance, so limits widened, {fitted.method}{kind} method"


def _funnel_row(measure: str, la: pd.Series, fitted: funnel.Funnel, scale: float,
                where: str) -> dict[str, object]:
    inner = [float(v) * scale for v in fitted.exact_limits(la["denominator"], funnel.LEVELS[0])]
    outer = [float(v) * scale for v in fitted.exact_limits(la["denominator"], funnel.LEVELS[1])]
    return {"Measure": _label(measure), "Council": text(la["value"], measure),
            "All councils pooled": text(fitted.target * scale, measure),
            "95% limits": f"{text(inner[0], measure)} to {text(inner[1], measure)}",
            "99.8% limits": f"{text(outer[0], measure)} to {text(outer[1], measure)}",
            "Position": where, "Councils": fitted.councils}


def _denominator_label(measure: str) -> str:
    base = comparison.BASES[measure]
    if base[0] == "rate":
        return "Children aged 0-17 (DfE's population)"
    spec = base[2]
    return _label(spec if isinstance(spec, str) else spec[0])


def neighbour_table(data: ThemeData) -> Section:
    """LAIT-style benchmarking: each statistical neighbour's value, the LA's rank and quartile
    among all councils and among its neighbours, the neighbours' unweighted and weighted means.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "neighbour_table", "Statistical neighbours and ranks", data)
    columns, words = {}, []
    for measure in NEIGHBOUR_MEASURES:
        panel = councils(data, measure)
        if data.la_code not in panel.index:
            section.leave_out(f"{_label(measure).lower()} among councils (not published for "
                              f"{data.la_name} in {data.period})")
            continue
        words.append(_rank_words(section, data, panel, measure))
        shown = panel.reindex([data.la_code, *data.neighbours])
        columns[_label(measure)] = shown["value"].map(lambda v, m=measure: text(v, m))
    if not columns:
        return section
    names = comparison.panel(data.facts, "cp_rate_per_10k", data.period)["geography_name"]
    table = pd.DataFrame(columns)
    table.index = [names.get(c, c) for c in table.index]
    section.say(f"{data.la_name} against its ten statistical neighbours (DfE's 2021 model, "
                f"closest first) in {data.period}. Ranks count from the highest value; quartile 1 "
                "is the highest quarter of councils. " + " ".join(words))
    section.table("neighbours", table.rename_axis("Council").fillna("not published"))
    return section


def _rank_words(section: Section, data: ThemeData, panel: pd.DataFrame, measure: str) -> str:
    kind = comparison.BASES[measure][0]
    place, of, quartile = rank(panel["value"], data.la_code)
    nearby = panel.reindex([data.la_code, *data.neighbours]).dropna(subset=["value"])
    n_place, n_of, _ = rank(nearby["value"], data.la_code)
    others = nearby.drop(index=data.la_code)
    key = f"measure={measure}"
    said = [section.record(m, v, source="derived", breakdown=key) for m, v in (
        ("rank_among_councils", place), ("quartile_among_councils", quartile),
        ("rank_among_neighbours", n_place))]
    ranks = (f"{_label(measure)}: rank {said[0]} of {of} councils (quartile {said[1]}), "
             f"{said[2]} of {n_of} with its neighbours")
    if others.empty:
        return f"{ranks}; no neighbour publishes it, so there is no neighbours' mean."
    plain, weighted = neighbour_means(others, kind)
    mean = section.record(measure, plain, source="derived", breakdown="neighbours=unweighted_mean",
                          interval_95=_mean_interval(others, kind, measure))
    pooled = section.record(measure, weighted, source="derived",
                            breakdown="neighbours=weighted_mean",
                            interval_95=_pooled_interval(others, kind, measure))
    return (f"{ranks}; neighbours' unweighted mean {mean}, weighted (pooled counts) {pooled}.")


def _pooled_interval(table: pd.DataFrame, kind: str, measure: str) -> tuple[float, float] | None:
    """95% interval of a value pooled from counts (sampling variation only); ``None`` when
    the counts rest on no population or children at all."""
    from cpstats.stats import intervals

    x, n = float(table["numerator"].sum()), float(table["denominator"].sum())
    if n <= 0:
        return None
    bounds = (intervals.rate_interval(x, n) if kind == "rate"
              else intervals.wilson_interval(x, n))
    return rounded_interval(bounds, measure)


def _mean_interval(table: pd.DataFrame, kind: str, measure: str) -> tuple[float, float] | None:
    """95% interval of an unweighted mean of councils' values (sampling variation only):
    Dobson's for rates (each count weighted 10,000 / (k x its population)), the normal
    interval of a mean of proportions for percentages; ``None`` with no council, or one
    with no population or children to divide by."""
    from cpstats.stats import intervals

    x, n = table["numerator"].to_numpy(float), table["denominator"].to_numpy(float)
    if not len(n) or (n <= 0).any():
        return None
    bounds = (intervals.weighted_sum_interval(x, 10_000 / (len(x) * n)) if kind == "rate"
              else intervals.mean_proportion_interval(x, n))
    return rounded_interval(bounds, measure)


def trend_tests(data: ThemeData) -> Section:
    """The LA's yearly trend in children on plans and plans started, against England's and its
    neighbours', and this year's rate on last year's, with intervals.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "trend_tests", "Trends tested", data)
    rows, words = [], []
    areas = {"council": [data.la_code], "england": [ENGLAND_CODE], "neighbours": data.neighbours}
    for count, rate in TRENDS:
        series = {k: yearly_counts(data, count, rate, codes) for k, codes in areas.items()}
        try:
            fitted = {k: trends.fit(s["count"], s["population"]) for k, s in series.items()}
        except ValueError as error:
            section.leave_out(f"the trend of {_label(count).lower()} ({error})")
            continue
        words.append(_trend_words(section, data, count, fitted, series["council"]))
        rows.extend(_trend_rows(count, fitted, data))
    if words:
        section.say(f"Yearly trends over the {TREND_YEARS} years to {data.period}: a Poisson "
                    "model of counts with the population as exposure, its variance scaled to "
                    "the spread the years show (quasi-Poisson), t intervals on the few years "
                    "there are. " + " ".join(words))
        section.table("trend_tests", pd.DataFrame(rows).set_index("Measure"))
    return section


def _trend_words(section: Section, data: ThemeData, count: str,
                 fitted: dict[str, trends.Trend], series: pd.DataFrame) -> str:
    la = fitted["council"]
    key = f"measure={count}"
    ratio = section.record("trend_rate_ratio_per_year", la.ratio, source="derived",
                           breakdown=key,
                           interval_95=rounded_interval((la.lower_95, la.upper_95),
                                                "trend_rate_ratio_per_year"))
    said = []
    for other in ("england", "neighbours"):
        t, p = trends.trends_differ(la, fitted[other])
        which = f"{key};against={other}"
        section.record("p_value", p, source="derived", breakdown=which)
        said.append(f"{'differed from' if p < ALPHA else 'did not differ beyond chance from'} "
                    f"{'England' if other == 'england' else 'its neighbours'} "
                    f"({text(fitted[other].ratio, 'trend_rate_ratio_per_year')} a year, "
                    f"{p_words(p)})")
    change = ""
    if {data.year, data.year - 1} <= set(series.index):
        this, last = series.loc[data.year], series.loc[data.year - 1]
        rr, low, high = trends.rate_ratio(this["count"], this["population"], last["count"],
                                          last["population"])
        said_rr = section.record("rate_ratio_on_previous_year", rr, source="derived",
                                 breakdown=key,
                                 interval_95=rounded_interval((low, high), "rate_ratio_on_previous_year"))
        change = (f" This year's rate on last year's: {said_rr} (95% interval "
                  f"{text(low, 'rate_ratio_on_previous_year')} to "
                  f"{text(high, 'rate_ratio_on_previous_year')}; counts treated as Poisson, "
                  "though many children are counted in both years).")
    return (f"{_label(count)} in {data.la_name}: rate ratio {ratio} a year (95% interval "
            f"{text(la.lower_95, 'trend_rate_ratio_per_year')} to "
            f"{text(la.upper_95, 'trend_rate_ratio_per_year')}); the trend "
            + " and ".join(said) + "." + change)


def _trend_rows(count: str, fitted: dict[str, trends.Trend],
                data: ThemeData) -> list[dict[str, object]]:
    names = {"council": data.la_name, "england": "England",
             "neighbours": "Statistical neighbours (pooled)"}
    measure = "trend_rate_ratio_per_year"
    return [{"Measure": _label(count), "Area": names[k],
             "Rate ratio a year (95% interval)": _interval_text(t.ratio, t.lower_95, t.upper_95,
                                                                measure),
             "Years": t.years, "Dispersion": text(t.dispersion, "funnel_overdispersion_phi")}
            for k, t in fitted.items()]


#: Flow measures compared (count measure or (measure, breakdown) of a published figure).
FLOW_RATES: tuple[str, ...] = ("cp_plans_started_rate_per_10k", "cp_plans_ended_rate_per_10k")
EARLY_END = ("cp_plans_ended_first_6_months_of_year_by_duration_pct", "duration=3_months_or_less")
FLOW_AREAS = ("council", "england", "region", "neighbours")


def mean_duration(data: ThemeData, codes: list[str]) -> float:
    """Children on a plan at 31 March over plans started in the year, summed over ``codes``:
    the mean years on a plan if starts and lengths were steady (Little's law); NaN when any
    area lacks either count."""
    stock = [data.value("cp_plans_at_31_march", "dfe", c) for c in codes]
    starts = [data.value("cp_plans_started", "dfe", c) for c in codes]
    if any(pd.isna(v) for v in stock + starts) or sum(starts) == 0:
        return math.nan
    return sum(stock) / sum(starts)


def pooled_share(data: ThemeData, codes: list[str]) -> tuple[float, float, float]:
    """(numerator, denominator, percent) of plans ending within 3 months among those ending
    April to September (DfE d8), pooled over ``codes``; NaNs when any is unpublished."""
    measure, breakdown = EARLY_END
    counts, total = comparison.SHARE_TOTALS[measure]
    x = [data.value(counts, "dfe", c, breakdown=breakdown) for c in codes]
    n = [data.value(total, "dfe", c) for c in codes]
    if any(pd.isna(v) for v in x + n) or sum(n) == 0:
        return math.nan, math.nan, math.nan
    return sum(x), sum(n), 100 * sum(x) / sum(n)


def flows_compared(data: ThemeData) -> Section:
    """Flows in and out of plans against England, the region and the pooled neighbours: start
    and end rates per 10,000, mean time on a plan, plans ending within 3 months, re-referrals.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "flows_compared", "Flows in and out of plans, compared", data)
    areas = {"council": [data.la_code], "england": [ENGLAND_CODE], "region": [data.region[0]],
             "neighbours": data.neighbours}
    names = {"council": data.la_name, "england": "England", "region": data.region[1],
             "neighbours": "Statistical neighbours (pooled)"}
    table: dict[str, dict[str, str]] = {}
    for key, codes in areas.items():
        table[names[key]] = _flow_column(section, data, key, codes)
    if all(v == "not published" for column in table.values() for v in column.values()):
        section.leave_out(f"flows compared (not published for {data.la_name} in {data.period})")
        return section
    section.say(_flow_words(section, data, table[data.la_name], table["England"]))
    section.table("flows_compared", pd.DataFrame(table).rename_axis("Measure"), caption=(
        "Rates and shares with 95% intervals where DfE publishes their counts. Mean time on a "
        "plan is children on a plan at 31 March over plans started in the year (steady-state "
        "arithmetic, not a measured length). Neighbours are pooled: their counts summed."))
    return section


def _flow_column(section: Section, data: ThemeData, key: str,
                 codes: list[str]) -> dict[str, str]:
    column = {}
    single = len(codes) == 1
    for measure in FLOW_RATES + ("re_referrals_pct",):
        fact = data.fact(measure, "dfe", codes[0]) if single else pd.DataFrame()
        column[_label(measure)] = (_with_interval(section, fact, measure) if len(fact) == 1
                                   else _pooled_rate(data, measure, codes))
    years = mean_duration(data, codes)
    column[_label("cp_mean_duration_years")] = (
        section.record("cp_mean_duration_years", years, source="derived",
                       geography_code=codes[0], note="DfE d1: children on a plan at 31 March "
                       "over plans started") if single else text(years, "cp_mean_duration_years"))
    measure, breakdown = EARLY_END
    x, n, share = pooled_share(data, codes)
    if single and not pd.isna(share):
        # Derived from d8's counts (the reference extract keeps them, not DfE's rounded share).
        section.record(measure, share, source="derived", geography_code=codes[0],
                       breakdown=breakdown, note="DfE d8: 3 months or less over plans ending "
                       "April to September")
    column[_label(measure) + ": 3 months or less"] = _interval_text(
        share, *intervals_or_nan(x, n), measure)
    return {k: ("not published" if v in ("not available", "") else v) for k, v in column.items()}


def intervals_or_nan(x: float, n: float) -> tuple[float, float]:
    """Wilson's 95% interval of x of n (percent), NaNs when either is missing."""
    from cpstats.stats import intervals

    return (math.nan, math.nan) if pd.isna(x) or not n else intervals.wilson_interval(x, n)


def _with_interval(section: Section, fact: pd.DataFrame, measure: str) -> str:
    section.record_fact(fact)
    row = section.findings.frame()
    row = row[(row["measure"] == measure) & (row["geography_code"] == fact["geography_code"].iloc[0])
              & (row["breakdown"] == fact["breakdown"].iloc[0])].iloc[0]
    return _interval_text(row["value"], row["lower_95"], row["upper_95"], measure)


def _pooled_rate(data: ThemeData, measure: str, codes: list[str]) -> str:
    """A rate or percentage pooled over areas from the counts it rests on."""
    panel = comparison.panel(data.facts, measure, data.period).reindex(codes)
    if panel["numerator"].isna().any():
        return "not published"
    kind = comparison.BASES[measure][0]
    scale = 10_000 if kind == "rate" else 100
    return text(panel["numerator"].sum() / panel["denominator"].sum() * scale, measure)


def _flow_words(section: Section, data: ThemeData, la: dict[str, str],
                england: dict[str, str]) -> str:
    """The sentence on flows; 'more' or 'fewer' only from the test of the 3-month share."""
    measure, breakdown = EARLY_END
    x, n, share = pooled_share(data, [data.la_code])
    ex, en, eshare = pooled_share(data, [ENGLAND_CODE])
    words = (f"In {data.period}, {data.la_name} against England: "
             + "; ".join(f"{k}: {v} against {england[k]}" for k, v in la.items()) + ".")
    if pd.isna(share) or pd.isna(eshare):
        return words
    from cpstats.stats import intervals

    z, p = intervals.proportions_differ(x, n, ex, en)
    section.record("p_value", p, source="derived",
                   breakdown=f"measure={measure};against=england")
    if p < ALPHA:
        more = "more" if share > eshare else "fewer"
        return words + (f" Of plans ending April to September, {more} ended within 3 months "
                        f"than in England beyond chance ({p_words(p)}): plans ending at or "
                        "before the first review conference.")
    return words + (f" The share of plans ending within 3 months did not differ from England's "
                    f"beyond chance ({p_words(p)}).")


SECTIONS = (differences, funnels, neighbour_table, trend_tests, flows_compared)


# -- drawing ---------------------------------------------------------------------------------------
def draw_funnel(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Councils as points against their denominator, the 95% and 99.8% limits as lines, the
    LA highlighted."""
    options = chart.options
    fitted: funnel.Funnel = options["funnel"]  # type: ignore[assignment]
    scale = float(options["scale"])  # type: ignore[arg-type]
    fig, ax = plots.new_figure()
    colours = plots.colours(3)
    others = frame[~frame["highlight"]]
    ax.scatter(others["denominator"], others["value"], s=14, color=plots.SHADE,
               edgecolor="grey", lw=0.5, label="Other councils", zorder=2)
    la = frame[frame["highlight"]]
    ax.scatter(la["denominator"], la["value"], s=60, color=colours[0], zorder=3,
               label=str(options["la"]))
    grid: pd.DataFrame = options["limits"]  # type: ignore[assignment]
    for level, style in zip(funnel.LEVELS, ("--", ":"), strict=True):
        name = f"{100 * level:g}".replace(".", "_")
        ax.plot(grid["denominator"], grid[f"lower_{name}"] * scale, ls=style, color=colours[1],
                lw=1.2, label=f"{level:.1%} limits (exact)".replace(".0%", "%"))
        ax.plot(grid["denominator"], grid[f"upper_{name}"] * scale, ls=style, color=colours[1],
                lw=1.2)
    ax.axhline(fitted.target * scale, color=colours[2], lw=1, label="All councils pooled")
    ax.set_xscale("log")
    # Councils fill every corner of a funnel: the legend goes beside it, never over a council.
    return plots.finish(fig, ax, title=chart.title, xlabel=str(options["xlabel"]),
                        ylabel=str(options["ylabel"]), source=chart.source, legend_outside=True)
