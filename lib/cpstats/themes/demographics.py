"""Demographics: who is on a child protection plan (notebook ``02_demographics``).

Category of abuse, gender, age band and disability of the children on a plan at 31 March, each
against England where DfE published a comparator, with a chi-square goodness-of-fit test (is the
local mix different from England's?) and its effect size (Cohen's w).

The LA's counts come from the first source that has them: the council's report, its CIN Census
return, DfE, then the synthetic county. Counts from child-level records are published with
counts of 1 to 5 suppressed (``c``), and so are the shares that would give them away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from cpstats import disclosure, plots, registry
from cpstats.codes import HARMONISED_AGE_LABELS, harmonise_age_bands
from cpstats.defaults import ENGLAND_CODE
from cpstats.facts import select
from cpstats.periods import is_year
from cpstats.results import format_value
from cpstats.stats.disproportionality import goodness_of_fit
from cpstats.themes.base import (
    CHILD_SOURCES,
    SOURCE_NAMES,
    Chart,
    Section,
    ThemeData,
    ThemeResult,
    run_sections,
    text,
)

THEME = "02_demographics"
#: Where the LA's counts are looked for, in order of preference.
LOCAL_SOURCES = ("report", "cin_census", "dfe", "synthetic")
#: Multinomial draws for the Monte Carlo p-value (used when expected counts are small).
SIMULATIONS = 20_000
CATEGORY_LABELS = {"neglect": "Neglect", "emotional_abuse": "Emotional abuse",
                   "physical_abuse": "Physical abuse", "sexual_abuse": "Sexual abuse",
                   "multiple": "Multiple"}
GENDER_LABELS = {"male": "Male", "female": "Female", "unborn": "Unborn", "unknown": "Unknown"}
SHARE_AXIS = "Share of children on a plan (%)"


@dataclass(frozen=True)
class Mix:
    """A breakdown compared with England's: its measure, key, group labels, axis title and the
    name of its table and chart."""

    measure: str
    key: str
    labels: dict[str, str]
    axis: str
    name: str

    @property
    def pct(self) -> str:
        """The measure of each group's share (``cp_by_category_pct``)."""
        return f"{self.measure}_pct"


CATEGORY = Mix("cp_by_category", "category", CATEGORY_LABELS, "Category of abuse (initial)",
               "cp_by_category")
GENDER = Mix("cp_by_gender", "gender", GENDER_LABELS, "Gender", "cp_by_gender")
AGE = Mix("cp_by_age_band_harmonised", "age_band", HARMONISED_AGE_LABELS,
          "Age at 31 March (harmonised bands)", "cp_by_age_band")


@dataclass
class Comparison:
    """What :func:`compare` found: the sentence on the test and each group's share as stated."""

    sentence: str
    shares: dict[str, str]
    deff: float = 1.0  # the sibling design effect its child-level intervals are widened by


# -- rules shared by the sections -------------------------------------------------------------
def local_counts(data: ThemeData, measure: str, key: str) -> tuple[pd.Series, str | None]:
    """The LA's counts for a breakdown from the first source in :data:`LOCAL_SOURCES` that has
    any, with that source (``None`` and an empty Series when none has)."""
    for source in LOCAL_SOURCES:
        counts = data.breakdown(measure, key, source)
        if counts.notna().any() and counts.sum() > 0:
            return counts, source
    return pd.Series(dtype=float), None


#: Categories stated beside the test but not in it (a recording convention, not a mix).
APART = ("multiple",)


def effect_size(w: float) -> str:
    """Cohen's words for an effect size w: negligible, small, medium, large."""
    return "negligible" if w < 0.1 else "small" if w < 0.3 else "medium" if w < 0.5 else "large"


def record_counts(section: Section, measure: str, key: str, counts: pd.Series,
                  source: str) -> pd.Series:
    """Record each group's count as a finding and return the counts as a reader may see them.

    Published counts are recorded from their fact rows (note and marker carried); a group with
    no fact row of its own (e.g. a harmonised age band) is recorded as ``derived``, the sum of
    the source's figures. Child-level counts of 1 to 5 are recorded and shown as ``c``.
    """
    if source in CHILD_SOURCES:
        hidden = section.data.hidden_groups(measure, key, counts.index)
        shown = disclosure.suppress_table(counts.to_frame("n"), hidden=hidden.to_frame("n"))["n"]
        for group, value in disclosure.visible(shown).items():
            section.record(measure, value, source=source, breakdown=f"{key}={group}",
                           marker="c" if shown[group] == disclosure.SUPPRESSED else None,
                           note=f"children on a plan at 31 March {section.data.year}, "
                                f"{SOURCE_NAMES[source]}")
        return shown
    rows = select(section.data.facts, measure=measure, geography_code=section.data.la_code,
                  period=section.data.period, source=source)
    rows = rows.set_index("breakdown")
    for group, value in counts.items():
        breakdown = f"{key}={group}"
        if breakdown in rows.index:
            section.record_fact(rows.loc[[breakdown]].reset_index())
        else:
            section.derive(measure, value, inputs=[source], breakdown=breakdown,
                           note=f"sum of {SOURCE_NAMES[source]}'s figures")
    markers = rows["marker"].reindex([f"{key}={g}" for g in counts.index]).to_numpy()
    return counts.astype(object).where(counts.notna(), pd.Series(markers, counts.index).fillna(""))


def total_of(data: ThemeData, counts: pd.Series, source: str) -> float:
    """The total the shares are of: the source's own count of children on plans where it gives
    one (so a group suppressed at source does not inflate the others), else the groups' sum."""
    published = data.value("cp_plans_at_31_march", source)
    return float(counts.sum()) if pd.isna(published) else published


def record_shares(section: Section, mix: Mix, shares: pd.Series, source: str,
                  period: str | None = None, total: float | None = None,
                  deff: float = 1.0) -> dict[str, str]:
    """Record each group's share (percent; NaN where a child-level count is suppressed) and
    return the texts the prose states, by group; with the ``total`` the shares are of, each
    carries its Wilson 95% interval (the group's count out of the total), on the effective
    counts (count and total divided by the sibling design effect ``deff``) for child-level
    records."""
    child = source in CHILD_SOURCES
    deff = deff if child else 1.0
    counts = (shares / 100 * total).round() if total else shares * math.nan
    note = f"share of {SOURCE_NAMES[source]}'s children on a plan at 31 March" + (
        f"; Wilson on count and total / design effect {deff:.2f}" if deff > 1 else "")
    return {str(group): section.derive(
        mix.pct, share, inputs=[source], breakdown=f"{mix.key}={group}", period=period,
        marker="c" if child and pd.isna(share) else None,
        interval_95=section.counts_interval(mix.pct, "percent", counts[group] / deff,
                                            (total or 0) / deff),
        note=note)
        for group, share in shares.items()}


def _p_text(test: dict[str, float]) -> str:
    # Small expected counts make the chi-square approximation doubtful: use the simulated p.
    p_value = test["p_monte_carlo"] if test["min_expected"] < 5 else test["p_value"]
    return "below 0.001" if p_value < 0.001 else text(p_value, "p_value")


def compare(section: Section, mix: Mix, local: pd.Series, source: str, england: pd.Series,
            england_period: str, apart: tuple[str, ...] = ()) -> Comparison:
    """The LA's mix against England's: records counts, shares and Cohen's w, publishes the
    table and the chart, and returns the sentence on the chi-square test.

    Parameters
    ----------
    section
        The section being built.
    mix
        Which breakdown (:data:`CATEGORY`, :data:`GENDER`, :data:`AGE`).
    local
        The LA's counts by group, in display order (NaN where suppressed at source).
    source
        Where ``local`` comes from.
    england, england_period
        England's counts by group (DfE) and the year they are for.
    apart
        Groups shown but left out of the test (the caller says why): the others are compared
        as shares of the children in them.

    Returns
    -------
    Comparison
    """
    data = section.data
    local = local.astype(float)
    child = source in CHILD_SOURCES
    england = england.reindex(local.index).astype(float)
    # Groups suppressed at source (or without a comparator) cannot be tested.
    tested = local[local.notna() & england.notna() & ~local.index.isin(list(apart))]
    deff = design_effect(section, mix, source)
    test = goodness_of_fit(tested, england[tested.index], simulations=SIMULATIONS,
                           design_effect=deff)
    shown = record_counts(section, mix.measure, mix.key, local, source)
    total = total_of(data, local, source)
    shares = disclosure.visible(shown) / total * 100
    stated = record_shares(section, mix, shares, source, total=total, deff=deff)
    _table(section, mix, local, shown, shares, england, england_period, child)
    _chart(section, mix, shares, stated, england, england_period, source)
    untested = [mix.labels.get(g, g) for g in local.index
                if g not in tested.index and g not in apart]
    return Comparison(_test_sentence(section, mix, test, source, england_period, untested),
                      stated, deff)


def design_effect(section: Section, mix: Mix, source: str) -> float:
    """Kish's design effect of sibling groups for the mix's attribute among the child-level
    records' plans started in the year (:func:`cpstats.stats.disproportionality.sibling_groups`),
    recorded; 1 for published counts, which carry no family link to measure."""
    data = section.data
    if source not in CHILD_SOURCES or data.child_level is None:
        return 1.0
    from cpstats.stats.disproportionality import sibling_design_effect

    plans = data.sibling_plans
    found = sibling_design_effect(plans["group"], plans[mix.key])
    section.record("sibling_design_effect", found["deff"], source=source,
                   breakdown=f"grouping=plan_start_day;attribute={mix.key}",
                   note=f"{disclosure.display_value(found['groups'], source=source)} groups of "
                        f"children whose plans started on the "
                        f"same day (a stand-in: the CIN Census has no family link); rho = "
                        f"{found['rho']:.2f}")
    return found["deff"]


def _test_sentence(section: Section, mix: Mix, test: dict[str, float], source: str,
                   england_period: str, untested: list[str]) -> str:
    """Record Cohen's w and say what the chi-square test found, with its cautions."""
    # The words follow the w a reader sees (0.30 is medium even when 0.2996 was computed).
    places = registry.decimals(f"{mix.measure}_cohens_w")
    w = section.derive(f"{mix.measure}_cohens_w", test["cohens_w"], inputs=[source, "dfe"],
                       note=f"chi-square goodness of fit against England {england_period} (DfE), "
                            f"{int(test['df'])} df")
    caution = (f" Some expected counts are below 5 (smallest "
               f"{format_value(test['min_expected'], 'ratio', 1)}), so the p-value is from "
               f"{SIMULATIONS:,} simulated samples, not the chi-square approximation."
               if test["min_expected"] < 5 else "")
    if untested:
        caution += f" Left out of the test, suppressed or not published: {', '.join(untested)}."
    if source in CHILD_SOURCES:
        caution += (f" Siblings are not independent children: the chi-square is divided by the "
                    f"design effect of sibling groups, "
                    f"{text(test['design_effect'], 'sibling_design_effect')} (children whose "
                    f"plans started on the same day standing in for them; Rao and Scott).")
    return (f"The difference from England's mix has chi-square "
            f"{format_value(test['chi2'], 'ratio', 1)} on {int(test['df'])} degrees of "
            f"freedom (p {_p_text(test)}); Cohen's w is {w}, a "
            f"{effect_size(round(test['cohens_w'], places))} effect. With "
            f"{text(test['n'], mix.measure)} children, a difference of a few children in a small "
            f"group moves its share by a point or more.{caution}")


def _chart(section: Section, mix: Mix, shares: pd.Series, stated: dict[str, str],
           england: pd.Series, england_period: str, source: str) -> None:
    """Bars of the LA's shares beside England's, titled with the LA's largest group."""
    data = section.data
    if shares.isna().all():
        section.leave_out(f"the chart of {mix.axis[0].lower()}{mix.axis[1:]} (every group's "
                          f"count is shown as c: 1 to 5 children, or one that would reveal one)")
        return
    england_shares = england / england.sum() * 100
    top = shares.idxmax()
    frame = pd.DataFrame({data.la_name: shares, f"England {england_period}": england_shares})
    section.chart(
        mix.name, frame.rename(index=mix.labels).rename_axis(mix.axis), plots.draw_bars,
        child_level=source in CHILD_SOURCES, xlabel=mix.axis, ylabel=SHARE_AXIS,
        title=(f"{mix.labels.get(top, top)} was the largest group in {data.la_name} "
               f"({stated[str(top)]}; England {text(england_shares[top], mix.pct)})"),
        source=(f"{SOURCE_NAMES[source]} ({data.period}); England: DfE Characteristics of "
                f"children in need ({england_period})"))


def _table(section: Section, mix: Mix, counts: pd.Series, shown: pd.Series,
           shares: pd.Series, england: pd.Series, england_period: str, child: bool) -> None:
    """The comparison table: the LA's children and shares beside England's. Child-level counts
    are suppressed by :meth:`Section.table`; a share missing because its count is hidden or
    suppressed at source shows the count's marker (``c``)."""
    la = section.data.la_name
    local_pct = percent_text(shares, mix.pct)
    frame = pd.DataFrame({
        f"{la} (children)": counts if child else shown,
        f"{la} (%)": local_pct.where(shares.notna(), shown.where(shown == disclosure.SUPPRESSED, "")),
        f"England {england_period} (children)": england,
        f"England {england_period} (%)": percent_text(england / england.sum() * 100, mix.pct),
    }).rename(index=mix.labels).rename_axis(mix.axis)
    # the counts hidden as their shares are (record_counts), not re-decided table by table
    hidden = (shown == disclosure.SUPPRESSED).rename(index=mix.labels).to_frame(
        f"{la} (children)")
    section.table(mix.name, frame, child_level=child, count_columns=[f"{la} (children)"],
                  hidden=hidden)


def percent_text(shares: pd.Series, measure: str, missing: str = "") -> pd.Series:
    """Shares as a table shows them: at the registry's precision for ``measure`` (``2.0``, not
    ``2``), without the % sign its column label carries; ``missing`` where there is none."""
    places = registry.decimals(measure)
    return shares.map(lambda v: missing if pd.isna(v) else format_value(v, "ratio", places))


def left_out(section: Section, what: str, why: str) -> Section:
    """A section this run cannot show: say so on the page and in the list at its end."""
    section.leave_out(f"{what}: {why}")
    section.say(f"Not shown for {section.data.la_name} in {section.data.period}: {what} ({why}).")
    return section


def england_comparator(data: ThemeData, measure: str, key: str) -> tuple[pd.Series, str | None]:
    """England's counts for a breakdown DfE published only from 2017-18 (the nearest year to
    the run's), with that year; empty and ``None`` when DfE never published it."""
    period = data.nearest_period(measure, "dfe", ENGLAND_CODE)
    if period is None:
        return pd.Series(dtype=float), None
    return data.breakdown(measure, key, "dfe", ENGLAND_CODE, period, later=True), period


def nearest_year_note(data: ThemeData, what: str, period: str) -> str:
    """The sentence saying England's split is from another year, when it is."""
    return ("" if period == data.period else
            f" The DfE files read here have no England {what} split for {data.period} (DfE "
            f"published one in that year's own release tables, which this run does not read); "
            f"the nearest year they have, {period}, is used.")


# -- sections --------------------------------------------------------------------------------
def category(data: ThemeData) -> Section:
    """Category of abuse of the children on a plan against England's, with the largest change
    in DfE's figures on the year before.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "category", "Category of abuse", data)
    counts, source = local_counts(data, CATEGORY.measure, CATEGORY.key)
    if source is None:
        return left_out(section, "category of abuse", "no published or child-level counts; "
                        "DfE suppresses small counts")
    counts = counts.reindex([c for c in CATEGORY_LABELS if c in counts.index])
    measure, why = matching_category(data, counts, source)
    england = data.breakdown(measure, CATEGORY.key, "dfe", ENGLAND_CODE)
    mix = CATEGORY if measure == CATEGORY.measure else replace(
        CATEGORY, axis="Category of abuse (latest)")
    found = compare(section, mix, counts, source, england, data.period, apart=APART)
    total = section.stated(data.fact("cp_plans_at_31_march", source)) or section.derive(
        "cp_plans_at_31_march", counts.sum(), inputs=[source], note="sum of the categories")
    initial = data.breakdown(CATEGORY.measure, CATEGORY.key, "dfe", ENGLAND_CODE)
    england_neglect = section.derive(
        "cp_by_category_pct", initial.get("neglect") / initial.sum() * 100, inputs=["dfe"],
        geography_code=ENGLAND_CODE, breakdown="category=neglect",
        note="DfE table a6 (initial category)")
    if measure != CATEGORY.measure:
        latest = section.derive(
            "cp_by_category_pct", england.get("neglect") / england.sum() * 100, inputs=["dfe"],
            geography_code=ENGLAND_CODE, breakdown="category=neglect;definition=latest",
            interval_95=section.counts_interval("cp_by_category_pct", "percent",
                                                england.get("neglect"), england.sum()),
            note="DfE table d4 (latest category)")
        england_neglect = f"{latest} (latest category; {england_neglect} initial)"
    if source != "dfe":
        record_counts(section, CATEGORY.measure, CATEGORY.key,
                      data.breakdown(CATEGORY.measure, CATEGORY.key, "dfe"), "dfe")
    section.say(f"Neglect was the category for {found.shares.get('neglect')} of the {total} "
                f"children on a plan in {data.la_name} at 31 March {data.year} "
                f"({SOURCE_NAMES[source]}), against {england_neglect} in England. {why}"
                f"{_multiple_words(section, counts, england)}"
                f"{found.sentence}{category_change(section)}")
    return section


def matching_category(data: ThemeData, counts: pd.Series, source: str) -> tuple[str, str]:
    """England's category measure on the LA figures' definition, and the sentence saying so.

    DfE's and child-level counts are of the initial category. The council's report does not say
    which it printed: its counts are compared with DfE's initial and latest counts for the LA,
    and England's counts on the nearer definition are used."""
    if source != "report":
        return CATEGORY.measure, ""
    gaps = {m: float((counts - data.breakdown(m, CATEGORY.key, "dfe")).abs().sum())
            for m in (CATEGORY.measure, "cp_by_latest_category")}
    gaps = {m: g for m, g in gaps.items() if not math.isnan(g)}
    if not gaps:
        return CATEGORY.measure, ""
    chosen = min(gaps, key=gaps.get)
    said = "latest" if chosen == "cp_by_latest_category" else "initial"
    return chosen, (f"The report's counts differ by {text(gaps[chosen], 'cp_by_category')} "
                    f"children in all from DfE's {said}-category counts for {data.la_name} "
                    f"(less than from the other definition), so England's {said} category is "
                    f"the comparator. ")


def _multiple_words(section: Section, counts: pd.Series, england: pd.Series) -> str:
    """'Multiple' stated apart from the test: whether a plan is recorded under several
    categories is a local recording convention."""
    if "multiple" not in counts.index or "multiple" not in england.index:
        return ""
    la = ("suppressed by DfE" if pd.isna(counts["multiple"])
          else text(counts["multiple"] / counts.sum() * 100, "cp_by_category_pct"))
    share = text(england["multiple"] / england.sum() * 100, "cp_by_category_pct")
    return (f"Multiple categories: {la} here against {share} in England; recording a plan "
            f"under several categories is a local convention, so the test below compares the "
            f"single categories only, as shares of the children with one. ")

def category_change(section: Section) -> str:
    """The sentence on the category whose share of DfE's total changed most on the year
    before (shares of DfE's published totals: a category suppressed in either year is left
    out); empty when DfE gives no two years."""
    data = section.data
    now = data.breakdown(CATEGORY.measure, CATEGORY.key, "dfe")
    before = data.breakdown(CATEGORY.measure, CATEGORY.key, "dfe", period=data.previous)
    change = (now / data.value("cp_plans_at_31_march", "dfe")
              - before.reindex(now.index) / data.value("cp_plans_at_31_march", "dfe",
                                                       period=data.previous)).dropna() * 100
    if change.empty:
        return ""
    biggest = str(change.abs().idxmax())
    breakdown = f"{CATEGORY.key}={biggest}"
    points = section.derive("cp_by_category_share_change", change[biggest], inputs=["dfe"],
                            breakdown=breakdown, signed=True,
                            note=f"share of DfE's children on a plan, {data.previous} to "
                                 f"{data.period}, percentage points")
    was = section.record_fact(data.fact(CATEGORY.measure, "dfe", period=data.previous,
                                        breakdown=breakdown))
    is_now = section.record_fact(data.fact(CATEGORY.measure, "dfe", breakdown=breakdown))
    return (f" On DfE's figures the largest change on {data.previous} was in "
            f"{CATEGORY_LABELS[biggest].lower()}: {points} percentage points of the total "
            f"({was} to {is_now} children).")


def gender(data: ThemeData) -> Section:
    """Gender of the children on a plan against England's nearest published year (unborn
    children from England's age table, where DfE counts them).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "gender", "Gender", data)
    counts, source = local_counts(data, GENDER.measure, GENDER.key)
    england, period = england_comparator(data, GENDER.measure, GENDER.key)
    if source in (None, "dfe") or period is None:
        return left_out(section, "gender", "not published for LAs by DfE; needs the council's "
                        "report or a CIN Census return")
    unborn = data.breakdown("cp_by_age_band", "age_band", "dfe", ENGLAND_CODE, period,
                            later=True)
    if "unborn" not in england.index:
        england = pd.concat([england, unborn.reindex(["unborn"]).dropna()])
    counts = counts.reindex([g for g in GENDER_LABELS if counts.get(g, 0) > 0])
    found = compare(section, GENDER, counts, source, england, period)
    before = data.breakdown(GENDER.measure, GENDER.key, source, period=data.previous)
    earlier = ""
    if before.sum() > 0:
        shares = disclosure.shares(before, child_level=source in CHILD_SOURCES,
                                   hidden=data.hidden_groups(GENDER.measure, GENDER.key,
                                                             before.index, data.previous))
        boys = record_shares(section, GENDER, shares.reindex(["male"]), source, data.previous,
                             total=before.sum(), deff=found.deff)
        earlier = f" A year earlier boys were {boys['male']} (same source)."
    section.say(f"In {data.la_name}, {found.shares.get('male')} of the children on a plan were "
                f"boys and {found.shares.get('female')} girls ({SOURCE_NAMES[source]})."
                f"{earlier}{nearest_year_note(data, 'gender', period)} {found.sentence}")
    return section


def age(data: ThemeData) -> Section:
    """Age of the children on a plan in harmonised bands against England's nearest published
    year, and (with child-level records) the age mix over the last years.

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "age", "Age", data)
    counts, source = local_counts(data, "cp_by_age_band", AGE.key)
    england, period = england_comparator(data, "cp_by_age_band", AGE.key)
    if source in (None, "dfe") or period is None:
        return left_out(section, "age", "not published for LAs by DfE; needs the council's "
                        "report or a CIN Census return")
    record_counts(section, "cp_by_age_band", AGE.key, counts, source)
    found = compare(section, AGE, harmonise_age_bands(counts), source,
                    harmonise_age_bands(england), period)
    before = data.breakdown("cp_by_age_band", AGE.key, source, period=data.previous)
    earlier = ""
    if before.sum() > 0:
        bands = harmonise_age_bands(before)
        shares = disclosure.shares(bands, child_level=source in CHILD_SOURCES,
                                   hidden=data.hidden_groups(AGE.measure, AGE.key, bands.index,
                                                             data.previous))
        under5 = record_shares(section, AGE, shares.reindex(["0_4"]), source, data.previous,
                               total=before.sum(), deff=found.deff)
        earlier = f" A year earlier it was {under5['0_4']} (same source)."
    section.say(f"{found.shares['0_4']} of the children on a plan in {data.la_name} were under 5 "
                f"({SOURCE_NAMES[source]}).{earlier}{nearest_year_note(data, 'age', period)} "
                f"{found.sentence}")
    age_mix_chart(section)
    return section


def age_mix(data: ThemeData) -> pd.DataFrame:
    """Shares (%) of the children on a plan in each harmonised age band, one row per year of
    the child-level records (NaN where the report hides the band's count: a count of 1 to 5, or
    one that would give it away, :meth:`ThemeData.hidden_groups`)."""
    rows = select(data.child_facts, measure="cp_by_age_band", source=data.child_source or "")
    rows = rows[is_year(rows["period"]) & rows["breakdown"].str.fullmatch(r"age_band=[^;]+")]
    counts = (rows.assign(band=rows["breakdown"].str.removeprefix("age_band="))
              .pivot_table(index="band", columns="period", values="value", aggfunc="sum"))
    if counts.empty:
        return pd.DataFrame(columns=list(HARMONISED_AGE_LABELS.values()))
    bands = harmonise_age_bands(counts)
    # Each year's band hidden as the report hides it wherever that year is printed.
    shares = bands.apply(lambda year: disclosure.shares(year, child_level=True, hidden=(
        data.hidden_groups(AGE.measure, AGE.key, year.index, str(year.name)))))
    return shares.T.rename(columns=HARMONISED_AGE_LABELS).rename_axis(index="year", columns=None)


def age_mix_chart(section: Section) -> Chart | None:
    """The chart of :func:`age_mix` when there are two years or more to draw."""
    data = section.data
    frame = age_mix(data) if data.child_source else pd.DataFrame()
    if len(frame) < 2:
        return None
    years = list(frame.index)
    change = years.index(data.period) - 0.5 if data.is_default_la and data.period in years else None
    hidden = [str(y) for y in frame.index[frame.isna().any(axis=1)]]
    # A year with a band hidden (1 to 5 children, or the band that would give it away) shows
    # shares summing to less than 100%: the note under the chart says why.
    why = (f"; in {', '.join(hidden)} a band of 1 to 5 children (and one that would reveal it) "
           f"is hidden, so the shares shown sum to less than 100%" if hidden else "")
    return section.chart("age_mix_by_year", frame, draw_age_mix, child_level=True,
                         title=f"Age mix of children on a plan, {years[0]} to {years[-1]}",
                         source=f"{SOURCE_NAMES[data.child_source]}, harmonised age bands{why}",
                         xlabel="Year ending 31 March", ylabel=SHARE_AXIS, change_at=change)


def draw_age_mix(frame: pd.DataFrame, chart: Chart) -> object:
    """Lines of the age mix by year, marking where the report's age bands changed."""
    figure = plots.draw_lines(frame, chart)
    if chart.options.get("change_at") is not None:
        plots.mark_change(figure.axes[0], chart.options["change_at"],
                          "report's age bands changed")
    return figure


def disability(data: ThemeData) -> Section:
    """Share of the children on a plan with a disability recorded, beside DfE's proxy: the
    share of all children in need with one (table b2).

    Parameters
    ----------
    data
        The run's data.

    Returns
    -------
    Section
    """
    section = Section(THEME, "disability", "Disability", data)
    local, source = local_disabled(section)
    if source is None:
        return left_out(section, "disability of children on plans", "not published by DfE; "
                        "needs the council's report or a CIN Census return")
    text_ = (f"{local} of children on a plan in {data.la_name} at 31 March {data.year} had a "
             f"disability recorded ({SOURCE_NAMES[source]}). DfE publishes no such figure for "
             f"plans")
    la_proxy = section.stated(data.fact("cin_with_disability_pct", "dfe"))
    england_proxy = section.stated(data.fact("cin_with_disability_pct", "dfe", ENGLAND_CODE))
    if la_proxy is None and england_proxy is None:
        section.leave_out("the disability proxy (DfE table b2, children in need with a "
                          "disability): not in the published data given; run with --dfe-dir on "
                          "a full DfE release")
        text_ += (", and its children-in-need disability share (table b2), the proxy "
                  "comparator, is not in the published data given.")
    else:
        text_ += (f"; as a proxy, {la_proxy or 'not available'} of all children in need in "
                  f"{data.la_name} and {england_proxy or 'not available'} in England had one.")
    section.say(text_ + " Disabled children are known to be at greater risk of significant "
                "harm, so a share on plans below the children-in-need share may mean "
                "under-recording or under-identification rather than lower need.")
    return section


def local_disabled(section: Section) -> tuple[str | None, str | None]:
    """The LA's share of children on a plan with a disability, recorded (the report's figure,
    else from child-level records; suppressed when the count is 1 to 5), with its source."""
    data = section.data
    report = data.fact("cp_disabled_pct", "report")
    if len(report):  # the report prints a whole percentage: state it as printed
        return section.record_fact(report, decimals=0), "report"
    counts = (data.breakdown("cp_by_disability", "disability", data.child_source)
              if data.child_source else pd.Series(dtype=float))
    if not counts.sum() > 0:
        return None, None
    both = counts.reindex(["disabled", "not_disabled"], fill_value=0)
    share = disclosure.shares(both, child_level=True, hidden=data.hidden_groups(
        "cp_by_disability", "disability", both.index))["disabled"]
    return section.record(
        "cp_disabled_pct", share, source=data.child_source or "",
        marker="c" if pd.isna(share) else None,
        note="children on a plan at 31 March with any disability recorded"), data.child_source


#: The page's sections, in order.
SECTIONS = (category, gender, age, disability)


def compute(data: ThemeData, **options: object) -> ThemeResult:
    """Every section of the demographics theme for a run.

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
