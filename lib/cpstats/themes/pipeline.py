"""Theme ``pipeline`` (notebook ``04_referrals_s47_correlation``): referrals, section 47
enquiries, initial child protection conferences (ICPCs) and plans, and how they move together.

Sections, in page order:

* :func:`conversion`: enquiries per referral, ICPCs per enquiry and plans per ICPC from DfE's
  counts, here and in England;
* :func:`across_councils`: the section 47 rate against the rate of children on plans, across
  councils, this year and each year before;
* :func:`seasonality`: when referrals arrive over the year (DfE's referrals by month);
* month by month from child-level records: :func:`monthly` (the series), :func:`correlations`,
  :func:`lead_and_lag` (cross-correlation), :func:`lag_regression` and
  :func:`child_seasonality`. Without child-level records :func:`monthly` says why they are left
  out and the others are empty.

Methods: ``docs/ethnicity_and_correlation.md`` (section 4) and :mod:`cpstats.stats.correlation`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cpstats import disclosure, plots, registry, release_cache
from cpstats.defaults import ENGLAND_CODE, ENGLAND_NAME
from cpstats.facts import TOTAL, select
from cpstats.periods import is_month, is_quarter, is_year, period_year
from cpstats.stats import correlation as co
from cpstats.themes.base import (
    SOURCE_NAMES,
    Chart,
    Section,
    ThemeData,
    ThemeResult,
    run_sections,
    text,
)

THEME = "04_referrals_s47_correlation"
#: Pipeline stages as tables and charts name them.
STAGES = {"referrals": "Referrals", "s47_enquiries": "s47 enquiries", "icpcs": "ICPCs",
          "cp_plans_started": "Plans started"}
#: Conversion ratios as tables and charts name them.
RATIO_NAMES = {"s47_per_referral": "s47 per referral", "icpc_per_s47": "ICPCs per s47",
               "plan_per_icpc": "plans per ICPC"}
#: The rates compared across councils (x, y).
X_RATE, Y_RATE = "s47_enquiries_rate_per_10k", "cp_rate_per_10k"
CROSS_LA = "cross_la_correlation_s47_rate_cp_rate"
#: Fewer councils than this with both rates make no correlation worth stating.
MIN_COUNCILS = 5
#: Months with every kind of event needed before monthly series are correlated or modelled.
MIN_ACTIVE_MONTHS = 12
#: Published sources, in order of preference.
PUBLISHED = ("dfe", "derived")
#: Pairs of stages correlated month by month and quarter by quarter.
PAIRS = (("referrals", "s47_enquiries"), ("s47_enquiries", "icpcs"),
         ("s47_enquiries", "cp_plans_started"), ("icpcs", "cp_plans_started"))
#: Correlations the prose states: (a, b, series, of) -> breakdown in the results.
STATED = {("referrals", "s47_enquiries", "monthly", "levels"):
          "pair=referrals_s47;series=monthly;of=levels",
          ("referrals", "s47_enquiries", "monthly", "changes"):
          "pair=referrals_s47;series=monthly;of=changes",
          ("referrals", "s47_enquiries", "quarterly", "levels"):
          "pair=referrals_s47;series=quarterly;of=levels",
          ("s47_enquiries", "cp_plans_started", "monthly", "levels"):
          "pair=s47_plans_started;series=monthly;of=levels"}
#: Driver lags (months) of the distributed-lag regression.
LAGS = (0, 1, 2)
#: How the interval of a lag picked from :data:`LAGS` is named wherever it is shown.
SIMULTANEOUS = f"simultaneous 95% interval, each lag's at {100 * (1 - 0.05 / len(LAGS)):.1f}%"
#: Significance level of a test that decides the words (a chart title saying "dip" and "peak").
ALPHA = 0.05
DFE_PIPELINE_SOURCE = ("DfE Characteristics of children in need, tables c1, c4 and d1 (counts as "
                       "published; England rounded to 10)")
DFE_RATES_SOURCE = ("DfE Characteristics of children in need, tables c4 and d1 (rates as "
                    "published, on DfE's population estimates for the release)")


# -- sections ----------------------------------------------------------------------------------
def conversion(data: ThemeData) -> Section:
    """Conversion through the pipeline from DfE's counts: section 47 enquiries per referral,
    ICPCs per enquiry and plans started per ICPC, for the LA and England, each year.

    Ratios of counts in the same year, not the share of one year's referrals that went on (an
    enquiry can follow a referral from the year before).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        Findings ``<ratio>_pct`` for the LA and England, a chart and a table of every year; left
        out when a count of the run's year is not published.
    """
    section = Section(THEME, "conversion", "Conversion through the pipeline (DfE)", data)
    codes = [data.la_code, ENGLAND_CODE]
    table = co.pipeline_table(data.facts, codes, PUBLISHED)
    table = table[(period_year(table["period"]) <= data.year).to_numpy()]
    now = (table[table["period"] == data.period].set_index("geography_code")
           .reindex(index=codes, columns=list(co.RATIOS)))
    if now.isna().to_numpy().any():
        section.leave_out(f"pipeline conversion for {data.period} (referrals, s47s, ICPCs or plan "
                          "starts not published)")
        return section
    said = {(code, name): section.derive(f"{name}_pct", 100 * now.loc[code, name],
                                         inputs=["dfe"], geography_code=code,
                                         note=_ratio_note(data, code, name))
            for code in codes for name in co.RATIOS}
    la, en = data.la_code, ENGLAND_CODE
    sentence = (f"In {data.period}, {data.la_name} made {said[la, 's47_per_referral']} as many "
                f"section 47 enquiries as referrals (England {said[en, 's47_per_referral']}), held "
                f"{said[la, 'icpc_per_s47']} as many ICPCs as enquiries (England "
                f"{said[en, 'icpc_per_s47']}), and started {said[la, 'plan_per_icpc']} as many "
                f"plans as ICPCs (England {said[en, 'plan_per_icpc']}).")
    gaps = 100 * (now.loc[la] - now.loc[en])
    if abs(gaps["icpc_per_s47"]) >= gaps.abs().max():
        points = text(abs(gaps["icpc_per_s47"]), "icpc_per_s47_pct").removesuffix("%")
        sentence += (f" The step from enquiry to conference is where {data.la_name} differs "
                     f"most: {points} percentage points "
                     f"{'below' if gaps['icpc_per_s47'] < 0 else 'above'} England.")
    section.say(sentence)
    section.chart("pipeline_ratios", _ratio_frame(table, data), _draw_ratios,
                  title=(f"{data.la_name}: {said[la, 's47_per_referral']} s47s per referral and "
                         f"{said[la, 'icpc_per_s47']} ICPCs per s47 in {data.period} (England "
                         f"{said[en, 's47_per_referral']} and {said[en, 'icpc_per_s47']})"),
                  source=DFE_PIPELINE_SOURCE, xlabel="Year ending 31 March",
                  ylabel="Ratio of counts in the year (%)")
    section.table("pipeline_ratios", _ratio_table(table))
    return section


def across_councils(data: ThemeData) -> Section:
    """Section 47 enquiries per 10,000 children against children on plans per 10,000, across
    every council in the published data (the LA highlighted), in the run's year and each year.

    A relation between councils, not about children: it cannot say that more enquiries cause
    more plans.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        Pearson and Spearman correlations (Fisher-z intervals), the LA's two rates, a scatter
        chart and a table of the correlation in each year; left out when the LA's rates are not
        published or too few councils have both.
    """
    section = Section(THEME, "across_councils", "Across councils", data)
    scatter = co.cross_section(data.facts, data.period, X_RATE, Y_RATE, PUBLISHED)
    if data.la_code not in set(scatter["geography_code"]):
        section.leave_out(f"the relation across councils: {data.la_name}'s section 47 or child "
                          f"protection rate for {data.period} is suppressed or not published")
        return section
    if len(scatter) < MIN_COUNCILS:
        section.leave_out(f"the relation across councils (only {len(scatter)} councils with "
                          "both rates)")
        return section
    n = len(scatter)
    every_la = n > len(data.neighbours) + 1
    comparison = "all_las" if every_la else "statistical_neighbours"
    note = f"{n} councils, DfE published rates, {data.period}"
    said = {method: _record_correlation(section, scatter, method, comparison, note)
            for method in ("pearson", "spearman")}
    own_x = section.record_fact(_published(data, X_RATE))
    own_y = section.record_fact(_published(data, Y_RATE))
    own = scatter.set_index("geography_code").loc[data.la_code]
    rank = int((scatter[X_RATE] > own[X_RATE]).sum()) + 1
    place = "the highest enquiry rate" if rank == 1 else f"enquiry rate number {rank} from the top"
    scope = "all councils" if every_la else "the LA and its statistical neighbours"
    (r, interval), (rho, _) = said["pearson"], said["spearman"]
    section.say(f"Across {scope} ({n} councils) in {data.period}, the section 47 rate and the rate "
                f"of children on plans correlate with Pearson r = {r} (95% interval {interval}; "
                f"Spearman {rho}). {data.la_name} had {own_x} enquiries and {own_y} children on "
                f"plans per 10,000: {place} of the {n}.")
    section.chart("cross_la_s47_cp_rates",
                  scatter.assign(highlight=scatter["geography_code"] == data.la_code),
                  _draw_scatter,
                  title=(f"Across {n} councils, s47 and child protection rates correlate at "
                         f"r = {r} in {data.period}"),
                  source=DFE_RATES_SOURCE, area=data.la_name,
                  others="other councils" if every_la else "statistical neighbours")
    section.table("cross_la_correlation_by_year", _correlation_by_year(data),
                  caption="The same correlation in each year (the relation over the years):")
    return section


def seasonality(data: ThemeData) -> Section:
    """When referrals arrive over the year, from DfE's referrals by month (table c6): each
    month over its year's monthly mean, averaged over the years to the run's, with an F-test of
    month effects given each year's level, beside England's.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        The quietest and busiest months (``referrals_month_index`` with t intervals), two charts
        and a table; left out without table c6 or with fewer than 2 complete years (DfE
        suppresses months of 1 to 5 referrals).
    """
    section = Section(THEME, "seasonality", "When referrals arrive over the year (DfE)", data)
    months = _referrals_by_month(data, data.la_code)
    if months.empty:
        section.leave_out("referrals by month (DfE table c6 not in the published data given)")
        return section
    season, test = co.month_effects(months)
    years = int(test["years"])
    if years < 2:
        section.leave_out(f"when referrals arrive over the year: {years} complete year(s) of "
                          f"monthly referrals to {data.period} (DfE suppresses small months); "
                          "2 needed")
        return section
    england, _ = co.month_effects(_referrals_by_month(data, ENGLAND_CODE))
    note = f"DfE c6, mean over {years} years of month / year's monthly mean"
    low, high = season.loc[season["index"].idxmin()], season.loc[season["index"].idxmax()]
    low_text, high_text = (
        section.derive("referrals_month_index", row["index"], inputs=["dfe"],
                       breakdown=f"month={row['month_name'].lower()}",
                       interval_95=(row["lower"], row["upper"]), note=note)
        for row in (low, high))
    section.say(f"Over {years} years to {data.period}, {data.la_name}'s quietest month for "
                f"referrals was {low['month_name']} ({low_text} of an average month) and its "
                f"busiest {high['month_name']} ({high_text}). Month effects, after allowing for "
                f"each year's level: F = {text(test['f'], 'test_statistic')} on "
                f"{int(test['df_num'])} and {int(test['df_den'])} degrees of freedom, "
                f"{p_text(test['p_value'])}.")
    index = season.set_index("month_name")[["index", "lower", "upper"]].assign(
        England=england.set_index("month_name")["index"])
    section.chart("referrals_month_effects", index, _draw_month_index,
                  title=_season_title(low, high, low_text, high_text, test["p_value"]),
                  source=(f"DfE Characteristics of children in need, table c6, years to "
                          f"{data.period}; bars: 95% t interval across years"), area=data.la_name)
    last = months.loc[months["year"] == data.year, "value"]
    section.chart("referrals_by_month", months.set_index("period")[["value"]], _draw_monthly,
                  title=(f"{text(last.sum(), 'referrals')} referrals in {data.period}, "
                         f"{text(last.min(), 'referrals')} to {text(last.max(), 'referrals')} "
                         "a month"),
                  source="DfE Characteristics of children in need, table c6",
                  ylabel="Referrals (count)")
    section.table("referral_month_effects", _month_table(season, england, data.la_name))
    return section


def monthly(data: ThemeData) -> Section:
    """Each month's referrals, section 47 enquiries, ICPCs and plan starts from the child-level
    records (counts 1 to 5 suppressed in the table).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        A chart (each series over its own monthly mean) and the table of counts; says why the
        child-level analyses are left out without records, or with too few months with every
        kind of event (the later sections are then empty).
    """
    section = Section(THEME, "monthly", "Month by month, from child-level records", data)
    if data.child_source is None:
        section.leave_out("monthly series, correlations and lag regression from child-level "
                          "records (no CIN Census return given: pass --cin-census)")
        return section
    months, _ = _child_series(data)
    label = SOURCE_NAMES[data.child_source]
    hidden = data.hidden_by_month({label: m for m, label in STAGES.items()}, months.index)
    counts = months.astype(int).rename(columns=STAGES).rename_axis("Month")
    # the chart plots only what the table shows: a hidden month is a gap, not its count
    plotted = disclosure.visible(disclosure.suppress_table(counts, hidden=hidden))
    section.chart("monthly_pipeline", 100 * plotted / counts.mean(),
                  _draw_monthly,
                  title=(f"Monthly referrals, enquiries, ICPCs and plan starts, "
                         f"{months.index[0]} to {months.index[-1]}"),
                  source=label, child_level=True, ylabel="Count as % of its own monthly mean",
                  reference=100)
    section.table("monthly_pipeline", counts, child_level=True, hidden=hidden,
                  caption=f"Monthly counts, {label} (1 to 5 shown as c):")
    active = int((months > 0).sum().min())
    if active < MIN_ACTIVE_MONTHS:
        section.leave_out(f"correlations, cross-correlation and lag regression from child-level "
                          f"records: too few months with every kind of event ({active} for the "
                          f"sparsest; {MIN_ACTIVE_MONTHS} needed)")
    return section


def correlations(data: ThemeData) -> Section:
    """Correlations of the monthly and quarterly child-level series, of their levels and of
    their changes (levels that share a trend correlate whatever the mechanism).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        The four correlations the prose states (``correlation_pearson``), the r a quarterly
        correlation needs to reach p < 0.05, and the table of every pair; empty when
        :func:`monthly` left the child-level analyses out.
    """
    section = Section(THEME, "correlations", "Correlations of the monthly series", data)
    series = _usable_child_series(data)
    if series is None:
        return section
    months, quarters = series
    grid = co.correlation_grid({"monthly": months, "quarterly": quarters}, PAIRS)
    label = SOURCE_NAMES[str(data.child_source)]
    stated = grid.set_index(["a", "b", "series", "of"]).loc[list(STATED)]
    said = [section.derive("correlation_pearson", row.r, inputs=[str(data.child_source)],
                           breakdown=breakdown, interval_95=(row.lower, row.upper),
                           note=f"n = {row.n}, Fisher z interval; {label}")
            for row, breakdown in zip(stated.itertuples(), STATED.values(), strict=True)]
    level, quarterly = stated.iloc[0], stated.iloc[2]
    n_months, n_quarters = int(level["n"]), int(quarterly["n"])
    needed = text(co.critical_r(n_quarters), "correlation_pearson")
    section.say(f"In {label}, monthly referrals and section 47 enquiries correlate at r = "
                f"{said[0]} ({_interval(level['lower'], level['upper'], 'correlation_pearson')}, "
                f"n = {n_months}); their month-to-month changes at r = {said[1]}. Quarterly, "
                f"r = {said[2]} over {n_quarters} quarters, where a correlation needs to "
                f"exceed {needed} to reach p < 0.05; the report's \"correlation in the peaks and "
                f"falls\" rested on eight quarters. Enquiries and plan starts in the same month "
                f"correlate at r = {said[3]}.")
    section.table("pipeline_correlations", _grid_table(grid))
    return section


def lead_and_lag(data: ThemeData) -> Section:
    """Cross-correlation of monthly enquiries with plan starts at leads and lags of up to six
    months, of the levels and of the month-to-month changes.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        One chart (its title names the lag where the levels correlate most); empty when
        :func:`monthly` left the child-level analyses out.
    """
    section = Section(THEME, "lead_and_lag", "Which leads: enquiries or plans", data)
    series = _usable_child_series(data)
    if series is None:
        return section
    months, _ = series
    ccf = {of: co.cross_correlation(months["s47_enquiries"], months["cp_plans_started"],
                                    max_lag=6, difference=of == "changes").set_index("lag")
           for of in ("levels", "changes")}
    frame = pd.DataFrame({"levels": ccf["levels"]["r"],
                          "month-to-month changes": ccf["changes"]["r"],
                          "bound": ccf["levels"]["bound"]})
    lead = int(frame["levels"].idxmax())
    direction = "enquiries lead" if lead > 0 else "same month" if lead == 0 else "plans lead"
    section.chart("ccf_s47_plans", frame, _draw_ccf,
                  title=(f"Enquiries and plan starts correlate most at lag {lead} (r = "
                         f"{text(frame['levels'].max(), 'correlation_pearson')}): {direction}"),
                  source=(f"{SOURCE_NAMES[str(data.child_source)]}; bounds assume independent "
                          "series, so are a guide only"), child_level=True)
    section.say(_prewhitened(section, months, [str(data.child_source)]))
    return section


def _prewhitened(section: Section, months: pd.DataFrame, source: list[str]) -> str:
    """The cross-correlation after prewhitening enquiries, its peak against the bound."""
    table, order = co.prewhitened_cross_correlation(months["s47_enquiries"],
                                                    months["cp_plans_started"], max_lag=6)
    peak = table.loc[table["r"].abs().idxmax()]
    lag = int(peak["lag"])
    r = section.derive("correlation_pearson", peak["r"], inputs=source,
                       breakdown=f"x=s47_enquiries;y=cp_plans_started;lag={lag};"
                                 f"prewhitened=ar{order}",
                       note=f"enquiries filtered by an AR({order}) model chosen by AIC, plan "
                            "starts by the same filter")
    bound = text(peak["bound"], "correlation_pearson")
    beyond = "beyond" if peak["beyond_bound"] else "within"
    return (f"Prewhitened (enquiries filtered to white noise by an AR({order}) model chosen by "
            f"AIC, plan starts by the same filter, so a shared trend or season no longer "
            f"correlates at every lag), the cross-correlation peaks at lag {lag}: r = {r}, "
            f"{beyond} the approximate 95% bound of ±{bound}.")


def lag_regression(data: ThemeData) -> Section:
    """Distributed-lag regression of monthly plan starts (and ICPCs) on section 47 enquiries in
    the same and the two previous months, with Newey-West (HAC) errors and residual checks.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        R² and the strongest lag's coefficient for plan starts (``lag_regression_r2``,
        ``lag_regression_coefficient``), the coefficients and diagnostics of both models, at
        the precision shown; empty when :func:`monthly` left the child-level analyses out.
    """
    section = Section(THEME, "lag_regression", "Lag regression", data)
    series = _usable_child_series(data)
    if series is None:
        return section
    months, _ = series
    models = {outcome: co.distributed_lag(months, outcome, "s47_enquiries", lags=LAGS)
              for outcome in ("cp_plans_started", "icpcs")}
    plans = models["cp_plans_started"]
    best = plans.strongest_lag()
    row = plans.coefficients.set_index("lag").loc[best].copy()
    # Picked as the largest |t| of the LAGS: its interval is Bonferroni's over them.
    row["lower"], row["upper"] = co.selected_interval(plans, best, len(LAGS))
    source = [str(data.child_source)]
    r2 = section.derive("lag_regression_r2", plans.r2, inputs=source,
                        breakdown="outcome=cp_plans_started;driver=s47_enquiries",
                        note="OLS on s47s at lags 0-2 months, HAC (Newey-West) errors")
    coef = section.derive("lag_regression_coefficient", row["coef"], inputs=source,
                          breakdown=f"outcome=cp_plans_started;driver=s47_enquiries;lag={best}",
                          interval_95=(row["lower"], row["upper"]),
                          note=f"plans started per s47 enquiry at that lag, picked as the "
                               f"largest |t| of {len(LAGS)}; the interval is the HAC "
                               f"{SIMULTANEOUS} (Bonferroni), not this term's own 95% interval")
    dw, lb = plans.durbin_watson, plans.ljung_box_p
    section.say(
        f"Regressing monthly plan starts on enquiries in the same and two previous months, the "
        f"strongest term is lag {best}: {coef} plans per enquiry, {SIMULTANEOUS}: "
        f"{_interval(row['lower'], row['upper'], 'lag_regression_coefficient')} (Bonferroni "
        f"over the {len(LAGS)} lags it was picked from, so it allows for the pick; each "
        f"term's own 95% interval in the table does not). R² = {r2} over "
        f"{plans.n} months. Residual checks: Durbin-Watson {text(dw, 'test_statistic')} "
        f"({'little' if 1.5 < dw < 2.5 else 'some'} first-order autocorrelation), Ljung-Box "
        f"{p_text(lb)} ({'no' if lb > 0.05 else 'some'} sign of autocorrelation left)."
        + (" An enquiry usually reaches conference within 15 working days, so most of the link "
           "sits within the same or the next month; quarterly figures cannot resolve it."
           if best <= 1 else ""))
    section.say(_adjusted_lags(section, months, source))
    section.table("lag_regression_coefficients", _coefficient_table(models))
    section.table("lag_regression_diagnostics", _diagnostics_table(models))
    return section


def _adjusted_lags(section: Section, months: pd.DataFrame, source: list[str]) -> str:
    """The model that allows for trend and season, with no lag picked after the fact: the
    number of lags by AIC (a stated criterion) and the sum of their coefficients."""
    frame = months.assign(month=pd.to_numeric(months.index.str.slice(5, 7)))
    options = {"trend": True, "month_effects": True}
    kept = co.lag_length_by_aic(frame, "cp_plans_started", "s47_enquiries", max(LAGS), **options)
    model = co.distributed_lag(frame, "cp_plans_started", "s47_enquiries",
                               lags=tuple(range(kept + 1)), **options)
    # The lag length was chosen from max(LAGS) + 1: Bonferroni over them allows for the choice.
    total = co.lag_sum(model, alpha=0.05 / (max(LAGS) + 1))
    key = "outcome=cp_plans_started;driver=s47_enquiries"
    lags = section.derive("lag_regression_aic_lags", kept, inputs=source, breakdown=key,
                          note=f"AIC over 0 to {max(LAGS)} lags, trend and month terms")
    said = section.derive(
        "lag_regression_coefficient", total["sum"], inputs=source,
        breakdown=f"{key};lag=sum;terms=trend_month",
        interval_95=(round(total["lower"], 2), round(total["upper"], 2)),
        note=f"sum of lag coefficients; HAC with small-sample correction, t intervals, "
             f"Bonferroni-adjusted over the {max(LAGS) + 1} lag lengths AIC chose from")
    return (f"Allowing for a linear trend and month of year, with the number of lags chosen by "
            f"the lowest AIC among 0 to {max(LAGS)} (lags 0 to {lags} kept), the sum of the lag "
            f"coefficients is {said} plans per enquiry (95% interval "
            f"{_interval(total['lower'], total['upper'], 'lag_regression_coefficient')}; "
            f"Newey-West errors with the small-sample correction and t critical values, "
            f"{model.n} months; Bonferroni-adjusted over the {max(LAGS) + 1} lag lengths, so "
            f"it allows for the choice).")


def child_seasonality(data: ThemeData) -> Section:
    """Month effects in the child-level referrals (as :func:`seasonality` does for DfE's).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
        One sentence (F-test, quietest and busiest month); empty when :func:`monthly` left the
        child-level analyses out, left out with fewer than 2 complete years.
    """
    section = Section(THEME, "child_seasonality", "Seasonality of child-level referrals", data)
    series = _usable_child_series(data)
    if series is None:
        return section
    months, _ = series
    periods = months.index.to_series()
    frame = pd.DataFrame({"year": period_year(periods).to_numpy(),
                          "month": periods.str.slice(5, 7).astype(int).to_numpy(),
                          "value": months["referrals"].to_numpy()})
    season, test = co.month_effects(frame)
    years = int(test["years"])
    if years < 2:
        section.leave_out(f"seasonality of child-level referrals ({years} complete year(s); "
                          "2 needed)")
        return section
    by_month = season.set_index("month_name")["index"]
    section.say(f"Seasonality of child-level referrals over {years} years: month effects "
                f"F = {text(test['f'], 'test_statistic')}, {p_text(test['p_value'])}; quietest "
                f"{by_month.idxmin()}, busiest {by_month.idxmax()} "
                f"({SOURCE_NAMES[str(data.child_source)]}).")
    return section


SECTIONS = (conversion, across_councils, seasonality, monthly, correlations, lead_and_lag,
            lag_regression, child_seasonality)


def compute(data: ThemeData, **options: object) -> ThemeResult:
    """Every section of the theme, in page order.

    Parameters
    ----------
    data
        The run's data.
    **options
        Passed to the sections that accept them (none do yet).

    Returns
    -------
    ThemeResult
    """
    return run_sections(THEME, data, SECTIONS, **options)


# -- formatting ------------------------------------------------------------------------------
def _season_title(low: pd.Series, high: pd.Series, low_text: str, high_text: str,
                  p_value: float) -> str:
    """The month chart's title: a dip and a peak only when the F-test finds month effects."""
    if p_value < ALPHA:
        return (f"Referrals dip in {low['month_name']} ({low_text} of an average month) and "
                f"peak in {high['month_name']} ({high_text})")
    return (f"Referrals by month: no month effect beyond chance ({p_text(p_value)}); lowest "
            f"{low['month_name']} ({low_text}), highest {high['month_name']} ({high_text})")


def p_text(p: float) -> str:
    """A p-value as prose states it: ``p < 0.001`` below that, else ``p = 0.060`` (at the
    registry's precision of ``p_value``; never ``p = 0``)."""
    return "p < 0.001" if p < 0.001 else f"p = {text(p, 'p_value')}"


def _p_value(p: float) -> str:
    """A p-value as a table shows it: ``< 0.001`` or ``0.060``."""
    return "< 0.001" if p < 0.001 else text(p, "p_value")


def _fixed(values: pd.Series, measure: str) -> pd.Series:
    """Values as text at ``measure``'s published precision, blank where missing (for tables:
    fitted numbers are shown as rounded, whatever the CPU's last digits)."""
    places = registry.decimals(measure)
    rounded = values.astype(float).round(places) + 0.0  # + 0.0 turns -0.0 into 0.0
    return rounded.map(f"{{:,.{places}f}}".format).where(values.notna(), "")


def _interval(lower: float | pd.Series, upper: float | pd.Series, measure: str) -> str | pd.Series:
    """``"0.59 to 0.87"`` at ``measure``'s precision (a Series of them for Series; blank where
    a limit is missing)."""
    if isinstance(lower, pd.Series):
        both = _fixed(lower, measure) + " to " + _fixed(upper, measure)  # type: ignore[arg-type]
        return both.where(lower.notna() & upper.notna(), "")  # type: ignore[union-attr]
    return f"{text(lower, measure)} to {text(upper, measure)}"


def _p_values(values: pd.Series) -> pd.Series:
    """p-values for a table: ``< 0.001`` below that, else at ``p_value``'s precision."""
    return _fixed(values, "p_value").mask(values < 0.001, "< 0.001")


# -- data --------------------------------------------------------------------------------------
def _published(data: ThemeData, measure: str, code: str | None = None) -> pd.DataFrame:
    """The LA's (or ``code``'s) fact row of ``measure`` this year: DfE's own figure, else one
    derived from DfE's (possibly empty)."""
    rows = data.fact(measure, "dfe", code)
    return rows if len(rows) == 1 else data.fact(measure, "derived", code)


def _ratio_note(data: ThemeData, code: str, name: str) -> str:
    """Where a conversion ratio comes from: the DfE columns of its two counts (their notes)."""
    notes = [_published(data, measure, code)["note"].fillna(measure).str.cat(sep="; ")
             for measure in co.RATIOS[name]]
    return f"DfE {notes[0]} / {notes[1]}, {data.period}"


def _record_correlation(section: Section, scatter: pd.DataFrame, method: str, comparison: str,
                        note: str) -> tuple[str, str]:
    """Record the cross-council correlation by ``method``; return its text and its 95%
    interval's (``("0.73", "0.65 to 0.80")``)."""
    result = co.correlation(scatter[X_RATE], scatter[Y_RATE], method=method)
    said = section.derive(CROSS_LA, result["r"], inputs=["dfe"],
                          breakdown=f"comparison={comparison};method={method}",
                          interval_95=(result["lower"], result["upper"]),
                          note=note + ("; Fisher z" if method == "pearson" else ""))
    return said, str(_interval(result["lower"], result["upper"], CROSS_LA))


def release_level(data: ThemeData) -> None:
    """Compute what this theme shares between every LA of a release and year (the
    cross-council correlations by year) into :mod:`cpstats.release_cache`."""
    _correlation_by_year(data)


def _correlation_by_year(data: ThemeData) -> pd.DataFrame:
    """The cross-council Pearson correlation of the two rates in every year published (the same
    for every LA: computed once per release)."""
    return release_cache.for_run(data, "cross_la_correlation_by_year",
                                 lambda: _correlations_by_year(data))


def _correlations_by_year(data: ThemeData) -> pd.DataFrame:
    rates = data.facts[(data.facts["measure"] == Y_RATE) & is_year(data.facts["period"])]
    parts = {period: co.cross_section(data.facts, period, X_RATE, Y_RATE, PUBLISHED)
             for period in sorted(set(rates["period"]))}
    rows = pd.DataFrame([{"Year": period, "Councils": len(part),
                          **co.correlation(part[X_RATE], part[Y_RATE])}
                         for period, part in parts.items() if len(part) >= MIN_COUNCILS])
    if rows.empty:
        return pd.DataFrame(columns=["Year", "Councils", "Pearson r", "95% interval"])
    return pd.DataFrame({"Year": rows["Year"], "Councils": rows["Councils"],
                         "Pearson r": _fixed(rows["r"], CROSS_LA),
                         "95% interval": _interval(rows["lower"], rows["upper"], CROSS_LA)})


def _referrals_by_month(data: ThemeData, code: str) -> pd.DataFrame:
    """DfE's monthly referrals of ``code`` to the run's year (``period, year, month, value``)."""
    months = co.monthly_frame(data.facts, code, "referrals_by_month", sources=("dfe",))
    return months[months["year"] <= data.year].reset_index(drop=True)


def _child_series(data: ThemeData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly and quarterly counts of each stage from the child-level records (one column per
    stage, periods in order; a stage with no event in a period counts 0)."""
    rows = select(data.child_facts, measure=list(STAGES), breakdown=TOTAL)
    wide = (rows.pivot_table(index="period", columns="measure", values="value", aggfunc="first")
            .reindex(columns=list(STAGES)).fillna(0).rename_axis(index=None, columns=None))
    periods = wide.index.to_series()
    return (wide[is_month(periods).to_numpy()].sort_index(),
            wide[is_quarter(periods).to_numpy()].sort_index())


def _usable_child_series(data: ThemeData) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """:func:`_child_series`, or ``None`` without records or with too few active months (the
    reason is stated once, by :func:`monthly`)."""
    if data.child_source is None:
        return None
    months, quarters = _child_series(data)
    if int((months > 0).sum().min()) < MIN_ACTIVE_MONTHS:
        return None
    return months, quarters


# -- tables ------------------------------------------------------------------------------------
def _ratio_table(table: pd.DataFrame) -> pd.DataFrame:
    """Counts as published and conversion ratios (%) by area and year."""
    ratios = {name: f"{RATIO_NAMES[name]} (%)" for name in co.RATIOS}
    shown = table.rename(columns={"geography_name": "Area", "period": "Year", **STAGES})
    shown = shown[["Area", "Year", *[STAGES[s] for s in co.PIPELINE if s in table.columns]]]
    return shown.assign(**{label: _fixed(100 * table[name], f"{name}_pct")
                           for name, label in ratios.items() if name in table.columns})


def _month_table(season: pd.DataFrame, england: pd.DataFrame, area: str) -> pd.DataFrame:
    """Month indices (1 = an average month) with their 95% intervals, beside England's."""
    measure = "referrals_month_index"
    return pd.DataFrame({"Month": season["month_name"],
                         f"{area} (1 = average month)": _fixed(season["index"], measure),
                         "95% interval": _interval(season["lower"], season["upper"], measure),
                         "Years": season["years"].astype(int),
                         "England": _fixed(england["index"], measure)})


def _grid_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The correlation grid as published: pairs named, figures at their precision."""
    r = "correlation_pearson"
    return pd.DataFrame({
        "Pair": grid["a"].map(STAGES) + " / " + grid["b"].map(STAGES),
        "Series": grid["series"], "Of": grid["of"], "Pairs (n)": grid["n"],
        "Pearson r": _fixed(grid["r"], r), "95% interval": _r_interval(grid, "r", "lower", "upper"),
        "p": _p_values(grid["p_value"]), "Spearman rho": _fixed(grid["rho"], r),
        "Rho 95% interval": _r_interval(grid, "rho", "rho_lower", "rho_upper")})


def _r_interval(grid: pd.DataFrame, r: str, lower: str, upper: str) -> pd.Series:
    """A correlation's interval as text; a perfect one (|r| = 1, no Fisher-z interval) shows r
    itself, so an r one rounding step short of 1 on another CPU looks the same."""
    perfect = grid[r].abs().round(12).eq(1)
    return _interval(grid[lower].mask(perfect, grid[r]), grid[upper].mask(perfect, grid[r]),
                     "correlation_pearson")  # type: ignore[return-value]


def _term_labels(terms: pd.Series) -> pd.Series:
    """``s47_enquiries_lag1`` -> ``s47 enquiries, 1 month before``; ``const`` -> ``Constant``."""
    lag = terms.str.extract(r"_lag(\d+)$", expand=False)
    words = ("s47 enquiries, " + lag + " months before").str.replace(
        "1 months", "1 month").str.replace("0 months before", "same month")
    return words.where(lag.notna(), terms.replace({"const": "Constant"}))


def _coefficient_table(models: dict[str, co.LagModel]) -> pd.DataFrame:
    """Both models' coefficients, rounded to the precision shown: each term's own 95%
    interval, and for the lags the simultaneous one the strongest lag is stated with."""
    coefs = pd.concat({STAGES[k]: m.coefficients.assign(
        lower_all=lambda f, m=m: _bonferroni(m, f, "lower"),
        upper_all=lambda f, m=m: _bonferroni(m, f, "upper")) for k, m in models.items()},
        names=["Outcome", None]).reset_index(level=0)
    c = "lag_regression_coefficient"
    return pd.DataFrame({"Outcome": coefs["Outcome"], "Term": _term_labels(coefs["term"]),
                         "Coefficient": _fixed(coefs["coef"], c),
                         "Standard error": _fixed(coefs["se"], c),
                         "p": _p_values(coefs["p_value"]),
                         "95% interval (this term alone)": _interval(coefs["lower"],
                                                                     coefs["upper"], c),
                         f"Bonferroni ({len(LAGS)} lags): {SIMULTANEOUS}": _interval(
                             coefs["lower_all"], coefs["upper_all"], c)}
                        ).reset_index(drop=True)


def _bonferroni(model: co.LagModel, coefs: pd.DataFrame, side: str) -> pd.Series:
    """Each lag term's Bonferroni limit over :data:`LAGS` (:func:`co.selected_interval`);
    missing for the constant."""
    side_at = 0 if side == "lower" else 1
    return coefs["lag"].map(lambda lag: np.nan if pd.isna(lag) else co.selected_interval(
        model, int(lag), len(LAGS))[side_at]).astype(float)


def _diagnostics_table(models: dict[str, co.LagModel]) -> pd.DataFrame:
    """Fit and residual checks of each model, one column per outcome."""
    def shown(m: co.LagModel) -> dict[str, str]:
        return {"Months": str(m.n), "R²": text(m.r2, "lag_regression_r2"),
                "Adjusted R²": text(m.adj_r2, "lag_regression_r2"),
                "Durbin-Watson": text(m.durbin_watson, "test_statistic"),
                f"Ljung-Box p (lag {m.ljung_box_lags})": _p_value(m.ljung_box_p),
                "HAC lags": str(m.hac_maxlags), "Strongest lag": str(m.strongest_lag())}
    return pd.DataFrame({STAGES[k]: shown(m) for k, m in models.items()}).rename_axis("Diagnostic")


def _ratio_frame(table: pd.DataFrame, data: ThemeData) -> pd.DataFrame:
    """Conversion ratios (%) by year, columns (ratio, area) with the LA before England."""
    wide = (table.assign(**{name: 100 * table[name] for name in co.RATIOS})
            .pivot(index="period", columns="geography_name", values=list(co.RATIOS)))
    wide = wide.reindex(columns=pd.MultiIndex.from_product(
        [list(co.RATIOS), [data.la_name, ENGLAND_NAME]]))
    return wide.rename(columns=RATIO_NAMES, level=0).rename_axis(index="year", columns=[None, None])


# -- charts ------------------------------------------------------------------------------------
def _draw_ratios(frame: pd.DataFrame, chart: Chart) -> Figure:
    """One colour per ratio: the LA solid with markers, England dashed."""
    fig, ax = plots.new_figure()
    ratios = list(dict.fromkeys(frame.columns.get_level_values(0)))
    styles = ({"marker": "o", "lw": 2}, {"ls": "--", "lw": 1.2})
    for colour, ratio in zip(plots.colours(len(ratios)), ratios, strict=True):
        for area, style in zip(frame[ratio].columns, styles, strict=True):
            ax.plot(frame.index.astype(str), frame[(ratio, area)], color=colour,
                    label=f"{ratio}, {area}", **style)  # type: ignore[arg-type]
    ax.tick_params(axis="x", rotation=30)
    ax.set_ylim(0, 130)
    plots.finish(fig, ax, legend=False, title=chart.title, source=chart.source,  # type: ignore[arg-type]
                 xlabel=str(chart.options["xlabel"]), ylabel=str(chart.options["ylabel"]))
    ax.legend(loc="upper center", ncol=3, fontsize=7.5, frameon=False)  # type: ignore[union-attr]
    return fig


def _draw_scatter(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Every council's two rates, the LA highlighted, with the least-squares line."""
    fig, ax = plots.new_figure()
    others, own = frame[~frame["highlight"]], frame[frame["highlight"]]
    ax.scatter(others[X_RATE], others[Y_RATE], s=18, color=plots.AF_DARK_BLUE, alpha=0.6,  # type: ignore[union-attr]
               label=str(chart.options["others"]))
    ax.scatter(own[X_RATE], own[Y_RATE], s=70, color=plots.AF_ORANGE, zorder=3,  # type: ignore[union-attr]
               label=str(chart.options["area"]))
    slope, intercept = np.polyfit(frame[X_RATE], frame[Y_RATE], 1)
    xs = np.linspace(frame[X_RATE].min(), frame[X_RATE].max(), 2)
    ax.plot(xs, intercept + slope * xs, color=plots.AF_DARK_GREY, lw=1, ls="--",  # type: ignore[union-attr]
            label="least-squares line")
    return plots.finish(fig, ax, title=chart.title, source=chart.source,  # type: ignore[arg-type]
                        xlabel="Section 47 enquiries per 10,000 children aged 0-17",
                        ylabel="Children on a plan at 31 March per 10,000")


def _draw_month_index(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Month indices as bars from zero (the LA with its intervals, England beside it)."""
    fig, ax = plots.new_figure()
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["index"], width=0.4, color=plots.AF_DARK_BLUE,  # type: ignore[union-attr]
           label=str(chart.options["area"]),
           yerr=[frame["index"] - frame["lower"], frame["upper"] - frame["index"]],
           error_kw={"elinewidth": 1, "ecolor": plots.AF_DARK_GREY})
    ax.bar(x + 0.2, frame["England"], width=0.4, color=plots.AF_TURQUOISE, label="England")  # type: ignore[union-attr]
    ax.axhline(1, color=plots.AF_DARK_GREY, lw=1)  # type: ignore[union-attr]
    ax.set_xticks(x, [str(m)[:3] for m in frame.index])  # type: ignore[union-attr]
    ax.set_ylim(0, max(1.3, float(frame["upper"].max()) + 0.05))  # type: ignore[union-attr]
    return plots.finish(fig, ax, title=chart.title, source=chart.source,  # type: ignore[arg-type]
                        xlabel="Month (financial year order)",
                        ylabel="Referrals / year's monthly mean")


def _draw_monthly(frame: pd.DataFrame, chart: Chart) -> Figure:
    """One line per column over months (index ``2016-04``...); an optional reference line."""
    fig, ax = plots.new_figure()
    dates = pd.to_datetime(frame.index.astype(str) + "-01")
    single = len(frame.columns) == 1
    for colour, column in zip(plots.colours(len(frame.columns)), frame.columns, strict=True):
        ax.plot(dates, frame[column].to_numpy(), color=colour, lw=1.5,  # type: ignore[union-attr]
                marker="." if single else None, label=None if single else column)
    if "reference" in chart.options:
        ax.axhline(float(chart.options["reference"]), color=plots.AF_DARK_GREY, lw=0.8)  # type: ignore[union-attr,arg-type]
    return plots.finish(fig, ax, title=chart.title, source=chart.source, xlabel="Month",  # type: ignore[arg-type]
                        ylabel=str(chart.options["ylabel"]))


def _draw_ccf(frame: pd.DataFrame, chart: Chart) -> Figure:
    """Cross-correlations as spikes from zero at each lag, with the white-noise bounds."""
    fig, ax = plots.new_figure()
    lags = frame.index.to_numpy()
    ax.vlines(lags - 0.1, 0, frame["levels"], color=plots.AF_DARK_BLUE, lw=3, label="levels")  # type: ignore[union-attr]
    ax.vlines(lags + 0.1, 0, frame["month-to-month changes"], color=plots.AF_TURQUOISE, lw=3,  # type: ignore[union-attr]
              label="month-to-month changes")
    bound = float(frame["bound"].iloc[0])
    ax.axhline(bound, color=plots.AF_DARK_GREY, ls="--", lw=1,  # type: ignore[union-attr]
               label="approximate 95% bound (white noise)")
    ax.axhline(-bound, color=plots.AF_DARK_GREY, ls="--", lw=1)  # type: ignore[union-attr]
    ax.axhline(0, color=plots.AF_DARK_GREY, lw=0.8)  # type: ignore[union-attr]
    return plots.finish(fig, ax, title=chart.title, source=chart.source,  # type: ignore[arg-type]
                        xlabel="Lag in months (positive: enquiries first)",
                        ylabel="Cross-correlation")
