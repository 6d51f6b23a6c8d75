"""Ethnicity of children on plans against the child population (notebook 03).

Sections, in page order:

* :func:`groups`: how CIN Census codes and Census 2011 groups are summed into 17 comparison
  groups;
* :func:`population`: the denominator, children aged 0-17 by group;
* :func:`report_figures` and :func:`report_limits`: the report's printed figures, which do not add
  up to its total, against the population (exact rates, lower bounds and an upper bound);
* :func:`england`: England from DfE's five broad groups (published from 2017-18);
* :func:`decision_point_counts`, :func:`relative_rates` and :func:`progression`: every decision
  point from referral to plan, from child-level records (counts of 1 to 5 suppressed, and every
  rate or ratio that would give one back).

Every section takes ``population_basis``: ``"census2011"`` (default) or ``"school_census"``
(see :data:`cpstats.stats.disproportionality.POPULATION_BASES`). Methods and caveats:
``docs/ethnicity_and_correlation.md``.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cpstats import disclosure, plots, registry
from cpstats.defaults import ENGLAND_CODE
from cpstats.errors import InputError, ParameterError
from cpstats.ethnicity_map import (
    BROAD_GROUPS,
    BROAD_SCHEMES,
    CIN_TO_GROUP,
    COMPARISON_GROUPS,
    UNKNOWN_GROUPS,
    mapping_table,
)
from cpstats.facts import TOTAL, select
from cpstats.results import format_value
from cpstats.stats import disproportionality as dp
from cpstats.themes.base import SOURCE_NAMES, Section, ThemeData, ThemeResult, run_sections, text

THEME = "03_ethnicity_vs_population"
REFERENCE = "white_british"
#: Every group a child-level count table shows, known ethnicities first.
ALL_GROUPS = {**COMPARISON_GROUPS, **UNKNOWN_GROUPS}
POINTS = list(dp.DECISION_POINTS)
RATE, RATIO = "ethnicity_rate_per_10k", "ethnicity_relative_rate"
#: The relative rate's interval, by ``rr_method`` (a group of fewer than 10 children is exact).
_INTERVAL_NAMES = {"score": "Poisson score interval",
                   "exact-cond": "exact conditional interval (fewer than 10 children)"}


# -- denominators ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Denominator:
    """Children aged 0-17 by comparison group for one area, and how it was made."""

    children: pd.Series
    label: str  # the full description, printed with every output
    short: str  # for chart sources, table columns and result notes


def denominator(data: ThemeData, code: str | None = None,
                population_basis: str | None = None) -> Denominator:
    """The child population by comparison group of an area (default: the run's LA).

    The ethnic shares of the basis applied to the ONS mid-year estimate of all children aged
    0-17 that DfE pairs with the run's year, so each rate describes that year's population
    (never Census 2021, which is here for all ages only, not for children).

    Parameters
    ----------
    data
        The run's data: its ONS 0-17 totals and Census 2011 (or school census) ethnic counts.
    code
        The area's geography code; ``None`` for the run's LA.
    population_basis
        ``"census2011"`` (default: Census 2011 shares of children 0-17) or ``"school_census"``
        (January school census pupil shares; shares only).

    Returns
    -------
    Denominator

    Raises
    ------
    InputError, ParameterError
        When no population by ethnic group exists for the area and year (say so and leave out),
        or for an unknown basis.
    """
    basis = _basis(population_basis)
    code = code or data.la_code
    total = _ons_total(data, code)
    shares, source = (_census_shares if basis == "census2011" else _school_shares)(data, code)
    return Denominator(
        (shares * total).rename("children"),
        label=(f"{source}, applied to the ONS mid-year estimate of {total:,.0f} children aged "
               f"0-17 for {data.period}"),
        short=f"{dp.POPULATION_BASES[basis]} x ONS 0-17 estimate for {data.period}")


def _basis(population_basis: str | None) -> str:
    basis = population_basis or "census2011"
    if basis not in dp.POPULATION_BASES:
        raise ParameterError("population_basis", basis, f"one of {sorted(dp.POPULATION_BASES)}")
    return basis


def _ons_total(data: ThemeData, code: str) -> float:
    """The ONS estimate of children 0-17 paired with the run's year: from the published facts,
    else the ONS file (a DfE release carries no populations)."""
    rows = select(data.population, geography_code=code, period=data.period, breakdown=TOTAL)
    if len(rows) != 1:
        rows = select(data.ons_children, measure="population_0_17", geography_code=code,
                      period=data.period, breakdown=TOTAL)
    if len(rows) != 1 or rows["value"].isna().any():
        raise ParameterError("--year", data.period,
                             f"a year with an ONS estimate of children aged 0-17 for {code}")
    return float(rows["value"].iloc[0])


def _census_shares(data: ThemeData, code: str) -> tuple[pd.Series, str]:
    """Each comparison group's share of children aged 0-17 in Census 2011."""
    counts = select(data.census_children, geography_code=code).set_index("breakdown")["value"]
    if TOTAL not in counts.index:
        raise ParameterError("--la", code, "an area of England covered by the Census 2011 "
                             "DC2101EW files")
    children = _by_group(counts.drop(index=TOTAL), lambda key: key)
    return (children / counts[TOTAL], f"Census 2011 DC2101EW ethnic shares of children aged "
            f"0-17 (27 March 2011, {counts[TOTAL]:,.0f} children)")


def _school_shares(data: ThemeData, code: str) -> tuple[pd.Series, str]:
    """Each comparison group's share of pupils with a classified ethnicity in the January
    school census of the run's year."""
    rows = select(data.school_census, geography_code=code, period=f"{data.year}-01")
    if rows.empty:
        covered = (data.school_census["period"] == f"{data.year}-01").any()
        raise (ParameterError("--la", code, f"a council the January {data.year} school census "
                                            f"has a row for") if covered else
               ParameterError("--year", data.period, "a reporting year with a school census"))
    codes = rows.set_index("breakdown")["value"].drop(index=[TOTAL, "ethnicity=unclassified"],
                                                      errors="ignore")
    pupils = _by_group(codes, CIN_TO_GROUP.get)
    series = rows["note"].str.extract(r"(series (?:to|from) \d{4}/\d{2})")[0].iloc[0]
    return (pupils / pupils.sum(), f"school census January {data.year} pupil ethnic shares "
            f"(state-funded schools, counted where the school is; {series})")


def _by_group(values: pd.Series, group_of) -> pd.Series:  # noqa: ANN001 -- key -> group id
    """Values keyed ``ethnicity=<key>`` summed into comparison groups, in display order."""
    groups = values.index.str.removeprefix("ethnicity=").map(group_of)
    summed = values.groupby(groups).sum()
    return summed.reindex([g for g in COMPARISON_GROUPS if g in summed.index]).astype(float)


def _denominator_or_reason(data: ThemeData, code: str | None,
                           population_basis: str | None) -> tuple[Denominator | None, str]:
    basis = _basis(population_basis)  # an unknown basis is the caller's mistake: raised
    try:
        return _cached_denominator(data, code or data.la_code, basis), ""
    except (InputError, ParameterError) as error:
        return None, str(error)


@functools.lru_cache(maxsize=8)
def _cached_denominator(data: ThemeData, code: str, basis: str) -> Denominator:
    return denominator(data, code, basis)


# -- groups and denominators -----------------------------------------------------------------
def groups(data: ThemeData) -> Section:
    """How each source's codes and labels are summed into the 17 comparison groups.

    Parameters
    ----------
    data
        The run's data (the mapping itself is the same for every run).

    Returns
    -------
    Section
        The table ``ethnicity_mapping``.
    """
    section = Section(THEME, "groups", "Groups", data)
    section.table("ethnicity_mapping", mapping_frame())
    return section


def mapping_frame() -> pd.DataFrame:
    """CIN Census codes and Census 2011 groups beside each comparison group, one row a group."""
    table = mapping_table()
    by_group = table.groupby("group_label", sort=False)
    codes = (table[table["source"] == "cin_census"].groupby("group_label", sort=False)
             ["code_or_label"].agg(", ".join))
    census = (table[table["source"] == "census_2011"].groupby("group_label", sort=False)
              ["code_or_label"].agg("; ".join))
    return pd.DataFrame({
        "CIN Census codes": codes,
        "Census 2011 groups": census,
        "DfE broad group": by_group["broad_dfe"].first(),
        "Caveat": by_group["caveat"].first(),
    }).reindex(list(ALL_GROUPS.values())).fillna("").rename_axis("Comparison group")


def population(data: ThemeData, population_basis: str | None = None) -> Section:
    """The denominator: children aged 0-17 by group, and the White British share.

    Parameters
    ----------
    data
        The run's data.
    population_basis
        ``"census2011"`` (default) or ``"school_census"``.

    Returns
    -------
    Section
        Finding ``population_share_pct`` (White British), the table
        ``child_population_by_ethnicity``; left out without a population by ethnic group.
    """
    section = Section(THEME, "population", "Denominators", data)
    pop, reason = _denominator_or_reason(data, None, population_basis)
    if pop is None:
        section.leave_out(f"every rate by ethnicity: no child population by ethnic group "
                          f"({reason})")
        return section
    children = pop.children.reindex(list(COMPARISON_GROUPS)).dropna()
    share = 100 * children / children.sum()
    wb = section.derive("population_share_pct", _white_british_share(pop), inputs=["ons"],
                        breakdown=f"ethnicity={REFERENCE}",
                        note=f"{pop.label}. No interval: a census counts every resident (no "
                             f"sampling error); its error is its age, which an interval does "
                             f"not measure")
    section.say(f"Denominator: {pop.label}. White British children were **{wb}** of "
                f"{data.la_name}'s children on this basis.")
    words, others = _other_bases(section, data, _basis(population_basis), wb)
    section.say(words)
    places = registry.decimals("population_share_pct")
    table = pd.DataFrame({
        "Children aged 0-17": children.round(0),
        "Share (%)": share.round(places),
        **{name: (100 * shares).reindex(children.index).map(
            lambda v: "" if pd.isna(v) else f"{v:.{places}f}") for name, shares in others.items()},
        "Denominator": pop.short,
    }).rename(index=COMPARISON_GROUPS).rename_axis("Comparison group")
    section.table("child_population_by_ethnicity", table)
    return section


#: Why each basis is the one rates use, when it is.
_WHY_BASIS = {
    "census2011": "the only ethnic mix of children of every age 0-17 by council here (the "
                  "school census counts pupils in state-funded schools where the school is, so "
                  "it leaves out children under school age and those taught elsewhere)",
    "school_census": "the report year's own mix (of pupils in state-funded schools, counted "
                     "where the school is), where Census 2011's is years old",
}


def _other_bases(section: Section, data: ThemeData, basis: str,
                 used: str) -> tuple[str, dict[str, pd.Series]]:
    """The ethnic mixes beside the basis the rates use: the other 0-17 basis (school census
    pupils of the report year, or Census 2011 children), and Census 2021 all ages as a labelled
    sensitivity check only. Returns the sentences and the share columns (0-1 by group)."""
    other = "school_census" if basis == "census2011" else "census2011"
    columns: dict[str, pd.Series] = {}
    said = (f"Rates by ethnicity here use {dp.POPULATION_BASES[basis]} because it is "
            f"{_WHY_BASIS[basis]}.")
    try:
        shares, label = (_school_shares if other == "school_census" else _census_shares)(
            data, data.la_code)
    except InputError as error:  # ParameterError included: say what actually went wrong
        said += (f" The {dp.POPULATION_BASES[other]} are not shown beside it: "
                 f"{str(error).rstrip('.')}.")
    else:
        name = ("School census pupils, January " + str(data.year) if other == "school_census"
                else "Census 2011, children 0-17") + " (%)"
        columns[name] = shares
        theirs = section.derive(
            "population_share_pct", 100 * shares.get(REFERENCE, np.nan),
            inputs=["dfe" if other == "school_census" else "ons"],
            breakdown=f"ethnicity={REFERENCE};basis={other}",
            note=f"{label}. No interval: a census counts every pupil or resident (no sampling "
                 f"error)")
        said += (f" White British were {used} on the {dp.POPULATION_BASES[basis]} and "
                 f"{theirs} on the {dp.POPULATION_BASES[other]}: {label}. A group's rate is "
                 f"its count over its share of children, so a group whose share is larger on "
                 f"the {dp.POPULATION_BASES[other]} has a higher rate on the "
                 f"{dp.POPULATION_BASES[basis]} than it would have on them, and the reverse.")
    return said + _census2021_words(section, data, columns, used, basis), columns


def _census2021_words(section: Section, data: ThemeData, columns: dict[str, pd.Series],
                      used: str, basis: str) -> str:
    """Census 2021's all-ages White British share, as a sensitivity check only (adds its
    column to ``columns``), beside the children's share ``used`` on ``basis``; a sentence
    saying why it is absent otherwise."""
    from cpstats.geography import gss_code

    try:
        counts = data.census2021_all_ages.loc[gss_code(data.la_code)]
    except KeyError:
        return (f" Census 2021 (all ages) has no row for {data.la_name} on its 2023 "
                f"boundaries here, so no sensitivity check against it is shown.")
    except InputError as error:
        return (f" No sensitivity check against Census 2021 (all ages) is shown: "
                f"{str(error).rstrip('.')}.")
    shares = counts / counts.sum()
    columns["Census 2021, all ages (%): sensitivity check only"] = shares
    wb = section.derive("population_share_all_ages_pct", 100 * shares.get(REFERENCE, np.nan),
                        inputs=["ons"], breakdown=f"ethnicity={REFERENCE};basis=census2021",
                        note="Census 2021 ethnic group, all ages, 2023 boundaries. No interval: "
                             "a census counts every resident (no sampling error)")
    return (f" As a sensitivity check only, Census 2021 counted {wb} of residents of all ages "
            f"as White British, against {used} of children on the "
            f"{dp.POPULATION_BASES[basis]}: all ages, so never a denominator for children.")


# -- the report's printed figures ------------------------------------------------------------
@dataclass(frozen=True)
class Printed:
    """The report's printed ethnicity list against the population (see
    :func:`cpstats.stats.disproportionality.partial_comparison`)."""

    printed: pd.Series  # counts by CIN code as printed
    table: pd.DataFrame  # one row per comparison group: status, count, rate, relative rate
    gap: dict[str, float]  # printed, missing, known bounds, not-printed rate and ratio bounds
    pop: Denominator

    @property
    def exact(self) -> pd.DataFrame:
        """Groups printed in full, by group id."""
        return self.table[self.table["status"] == "exact"].set_index("group")

    @property
    def hidden(self) -> pd.DataFrame:
        """Groups with no code printed."""
        return self.table[self.table["status"] == "not printed"]

    @property
    def hidden_broad(self) -> str:
        """The broad groups of the groups not printed: ``Asian or Asian British``."""
        return " and ".join(dict.fromkeys(self.hidden["group"].map(BROAD_SCHEMES["census"])))

    @property
    def others(self) -> pd.DataFrame:
        """Printed-in-full groups other than White British, in display order."""
        return self.exact.drop(index=REFERENCE)

    @property
    def top(self) -> pd.Series:
        """The printed-in-full group with the highest relative rate."""
        return self.others.sort_values("rr_vs_reference", ascending=False).iloc[0]


def printed_comparison(data: ThemeData, population_basis: str | None = None
                       ) -> tuple[Printed | None, str]:
    """The report's printed ethnicity counts against the population, or ``None`` and why.

    Parameters
    ----------
    data
        The run's data (the report is transcribed for the default LA's 2016-17 only).
    population_basis
        As for :func:`population`.
    """
    return _printed_comparison(data, _basis(population_basis))


@functools.lru_cache(maxsize=4)
def _printed_comparison(data: ThemeData, basis: str) -> tuple[Printed | None, str]:
    printed = data.breakdown("cp_by_ethnicity", "ethnicity", "report")
    total = data.value("cp_plans_at_31_march", "report")
    pop, _ = _denominator_or_reason(data, None, basis)
    if pop is None or printed.empty or np.isnan(total):
        return None, ("the report's own ethnicity figures against the population (only the "
                      "2016-17 report of the default LA is transcribed)")
    table, gap = dp.partial_comparison(printed, total, pop.children, population_basis=pop.short)
    return Printed(printed, table, gap, pop), ""


def report_figures(data: ThemeData, population_basis: str | None = None) -> Section:
    """What the report's printed figures can say: exact rates for the groups printed in full,
    an upper bound for the groups left out, bounds on the White British share.

    Parameters
    ----------
    data
        The run's data.
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        The headline paragraph, the table ``report_ethnicity_vs_population`` and the chart
        ``report_rates_by_ethnicity``; left out where the report is not transcribed.
    """
    section = Section(THEME, "report_figures", "What the report's printed figures can say", data)
    found, reason = printed_comparison(data, population_basis)
    if found is None:
        section.leave_out(reason)
        return section
    said = _record_printed(section, data, found)
    top = found.top
    others = found.others
    section.say(
        f"The report printed the ethnicity of **{said['printed']}** of its **{said['total']}** "
        f"children on plans at 31 March {data.year}; **{said['missing']}** are not printed. The "
        f"groups missing from the print ({_names(found.hidden)}) are {said['hidden_share']} of "
        f"{data.la_name}'s children. For the groups printed in full, White British children "
        f"were on plans at {said['wb_rate']} per 10,000; {top['label']} children had the "
        f"highest rate, **{said['top_rr']} times** the White British rate. Groups whose 95% "
        f"interval lies wholly above the White British rate: "
        f"{_names(others[others['rr_lower'] > 1])}; wholly below: "
        f"{_names(others[others['rr_upper'] < 1])}. The groups left out of the print can have "
        f"had at most {said['missing']} children on plans between them, a rate of at most "
        f"{said['rate_max']} per 10,000, **at most {said['rr_max']} times** the White British "
        f"rate; the report's figures cannot say how far below it they were. White British "
        f"children were between {said['lower']} and {said['upper']} of the children of known "
        f"ethnicity on plans (depending on how many of those not printed had refused), against "
        f"{said['wb_share']} of the child population, whatever the split of the missing "
        f"children.")
    section.table("report_ethnicity_vs_population", _printed_table(found))
    section.chart("report_rates_by_ethnicity", _printed_chart_frame(found), draw_printed_rates,
                  title=(f"{top['label']} children were on plans at {said['top_rr']} times the "
                         f"White British rate; the {said['missing']} children not printed leave "
                         f"the {found.hidden_broad} groups unknown"),
                  source=(f"{data.la_name} CP annual report {data.period} (printed counts); "
                          f"denominator: {found.pop.label}"),
                  reference_rate=float(found.exact.loc[REFERENCE, "rate_per_10k"]),
                  not_printed_max=float(found.gap["not_printed_rate_max"]))
    return section


def _record_printed(section: Section, data: ThemeData, found: Printed) -> dict[str, str]:
    """Record what the report's printed list says; the texts its sentences state, by name."""
    gap, short, wb, top = found.gap, found.pop.short, found.exact.loc[REFERENCE], found.top
    said = {
        "printed": section.record("cp_by_ethnicity_printed", gap["printed"], source="report",
                                  note="sum of the ethnic codes printed in the report's chart"),
        "total": section.record_fact(data.fact("cp_plans_at_31_march", "report")),
        "missing": _not_printed(section, data, gap),
        "wb_rate": section.derive(RATE, wb["rate_per_10k"], inputs=["report", "ons"],
                                  breakdown=f"ethnicity={REFERENCE}",
                                  interval_95=(wb["rate_lower"], wb["rate_upper"]),
                                  note=f"report count / {short}"),
        "top_rr": section.derive(RATIO, top["rr_vs_reference"], inputs=["report", "ons"],
                                 breakdown=f"ethnicity={top.name}",
                                 interval_95=(top["rr_lower"], top["rr_upper"]),
                                 note=f"against White British; report counts; {short}; "
                                      "score interval"),
        "rate_max": section.derive("ethnicity_rate_per_10k_max", gap["not_printed_rate_max"],
                                   inputs=["report", "ons"], breakdown="ethnicity=not_printed",
                                   interval_95=None,
                                   note=f"{BOUND_NOTE} (if every child not printed were in the "
                                        f"groups left out entirely)"),
        "rr_max": section.derive("ethnicity_relative_rate_max", gap["not_printed_rr_max"],
                                 inputs=["report", "ons"], breakdown="ethnicity=not_printed",
                                 note="upper bound against White British"),
    }
    # The White British share of children of known ethnicity on plans: bounded, because the
    # children not printed may or may not include those who refused to give an ethnicity.
    for bound, known, note in (
            ("lower", gap["known_max"], "if no child left out had refused to give an ethnicity"),
            ("upper", gap["known_printed"], "if every child left out had refused")):
        said[bound] = section.derive("cp_by_ethnicity_share_of_known_pct",
                                     100 * wb["count"] / known, inputs=["report"],
                                     breakdown=f"ethnicity={REFERENCE};bound={bound}",
                                     interval_95=None, note=f"{BOUND_NOTE} ({note})")
    # Recorded by population(), the section before: stated here, not recorded twice.
    said["wb_share"] = text(_white_british_share(found.pop), "population_share_pct")
    said["hidden_share"] = text(100 * gap["not_printed_population"] / found.pop.children.sum(),
                                "population_share_pct")
    return said


#: Why a bound carries no interval: it is a limit under an assumption about the children not
#: printed, not an estimate, so sampling error is not what bounds it.
BOUND_NOTE = "No interval: a bound under an assumption, not an estimate"


def _not_printed(section: Section, data: ThemeData, gap: dict[str, float]) -> str:
    """The children missing from the printed list: the fact transcribed beside the report's
    figures, else the gap computed here."""
    fact = data.fact("cp_by_ethnicity", "derived", breakdown="ethnicity=not_printed")
    stated = section.stated(fact)
    if stated is not None:
        return stated
    return section.derive("cp_by_ethnicity", gap["missing"], inputs=["report"],
                          breakdown="ethnicity=not_printed",
                          note="the report's total minus the children in its printed list")


def _white_british_share(pop: Denominator) -> float:
    """White British children's share of the child population (percent)."""
    children = pop.children.reindex(list(COMPARISON_GROUPS)).dropna()
    return float(100 * children[REFERENCE] / children.sum())


def _names(rows: pd.DataFrame) -> str:
    return ", ".join(rows["label"]) if len(rows) else "none"


def _interval(lower: pd.Series, upper: pd.Series, measure: str) -> pd.Series:
    """``"1.20 to 2.74"`` at the measure's published precision; blank where there is none."""
    places = registry.decimals(measure)
    shown = (lower.map(lambda v: f"{v:.{places}f}") + " to "
             + upper.map(lambda v: f"{v:.{places}f}"))
    return shown.where(lower.notna() & upper.notna(), "")


def _flag(small: pd.Series) -> pd.Series:
    return small.map({True: "yes", False: ""})


def _printed_table(found: Printed) -> pd.DataFrame:
    t = found.table
    return pd.DataFrame({
        "Group": t["label"],
        "Status": t["status"],
        "Children on plans (report)": t["count"],
        "Children 0-17": t["population"].round(0),
        "Per 10,000": t["rate_per_10k"].round(registry.decimals(RATE)),
        "95% interval": _interval(t["rate_lower"], t["rate_upper"], RATE),
        "Relative rate (v White British)": t["rr_vs_reference"].round(registry.decimals(RATIO)),
        "95% interval (score)": _interval(t["rr_lower"], t["rr_upper"], RATIO),
        "Under 10": _flag(t["small_count"]),
        "Denominator": found.pop.short,
    })


#: Chart frame columns (readers meet them in the charts' alt text).
RATE_COLUMNS = {"rate_per_10k": "Per 10,000", "rate_lower": "95% lower", "rate_upper": "95% upper"}
RATIO_COLUMNS = {"rr_vs_reference": "Relative rate", "rr_lower": "95% lower",
                 "rr_upper": "95% upper"}


def _printed_chart_frame(found: Printed) -> pd.DataFrame:
    """Each group's rate and interval from the printed counts, by group, at published
    precision."""
    table = found.table.set_index(pd.Index(found.table["label"], name="Group"))
    rates = table[list(RATE_COLUMNS)].round(registry.decimals(RATE)).rename(columns=RATE_COLUMNS)
    return pd.concat([table[["status"]].rename(columns={"status": "Status"}), rates], axis=1)


def draw_printed_rates(frame: pd.DataFrame, chart) -> object:  # noqa: ANN001 -- a Chart
    """Horizontal bars of each group's rate per 10,000 from the report's printed counts: exact
    groups with their interval, partly printed ones as lower bounds, the groups not printed
    as one dashed upper bound; the White British rate as a line.

    Parameters
    ----------
    frame
        By group in display order: ``Status`` and the :data:`RATE_COLUMNS`.
    chart
        The :class:`~cpstats.themes.Chart` (title, source, options ``reference_rate`` and
        ``not_printed_max``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plots.new_figure(8, 6.5)
    rows = frame.iloc[::-1].rename(columns={v: k for k, v in RATE_COLUMNS.items()})
    status = rows["Status"].to_numpy()
    y = np.arange(len(rows))
    styles = {"exact": (plots.AF_DARK_BLUE, "printed in full"),
              "lower bound": (plots.AF_TURQUOISE, "partly printed (lower bound)")}
    for kind, (colour, label) in styles.items():
        ax.barh(y[status == kind], rows.loc[status == kind, "rate_per_10k"], color=colour,
                label=label)
    exact = rows[status == "exact"]
    ax.errorbar(exact["rate_per_10k"], y[status == "exact"],
                xerr=[exact["rate_per_10k"] - exact["rate_lower"],
                      exact["rate_upper"] - exact["rate_per_10k"]],
                fmt="none", ecolor=plots.AF_DARK_GREY, lw=1)
    hidden = status == "not printed"
    ax.barh(y[hidden], np.full(hidden.sum(), chart.options["not_printed_max"]), fill=False,
            edgecolor=plots.AF_DARK_GREY, ls="--", label="not printed: together at most this rate")
    ax.axvline(chart.options["reference_rate"], color=plots.AF_ORANGE, lw=1.5,
               label="White British rate")
    names = rows.index.to_series()
    ax.set_yticks(y, names.where(status == "exact", names + " (" + rows["Status"] + ")"),
                  fontsize=8)
    ax.set_xlim(left=0)
    return _titled(plots.finish(fig, ax, title=chart.title, ylabel="", legend=True, source=chart.source,
                        xlabel="Children on a plan per 10,000 aged 0-17 (95% interval)"))


def _titled(fig):  # noqa: ANN001, ANN202 -- a matplotlib Figure
    """Move the title above the whole figure, broken into lines beforehand: these charts' long
    group names leave the axes narrow, and a title matplotlib wraps itself over narrow axes is
    cut off at the top."""
    from matplotlib import rcParams

    ax = fig.axes[0]
    title = " ".join(ax.get_title(loc) for loc in ("left", "center", "right")).strip()
    fig.suptitle(textwrap.fill(title, width=80), x=0.01, ha="left",
                 fontsize=rcParams["axes.titlesize"], fontweight=rcParams["axes.titleweight"])
    for loc in ("left", "center", "right"):
        ax.set_title("", loc=loc)
    fig.tight_layout(rect=(0, 0.07, 1, 1))  # as plots.add_source does, now with the title
    return fig


def report_limits(data: ThemeData, population_basis: str | None = None) -> Section:
    """What the report's printed figures can and cannot say (after its table and chart).

    Parameters
    ----------
    data
        The run's data.
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        Two paragraphs; empty where :func:`report_figures` is left out (it says why).
    """
    section = Section(THEME, "report_limits", "What the printed figures can and cannot say", data)
    found, _ = printed_comparison(data, population_basis)
    if found is None:
        return section
    rr_max = text(found.gap["not_printed_rr_max"], "ethnicity_relative_rate_max")
    not_recorded = text(found.printed.reindex(["NOBT", "REFU"]).fillna(0).sum(),
                        "cp_by_ethnicity")
    section.say(
        "**What can be said.** For each printed group the count is exact, so its rate and its "
        "ratio to the White British rate stand (within the uncertainty of one year's small "
        "numbers, shown by the intervals). The White British share of children on plans is "
        "below its share of the population however the missing children split. For the groups "
        f"left out, only an upper bound exists: together they were at most {rr_max} times as "
        "likely as White British children to be on a plan.\n\n"
        f"Every rate counts only children whose ethnicity was recorded ({not_recorded} printed "
        "as not obtained or refused), so all are slightly understated.\n\n"
        f"**What cannot be said.** Whether {found.hidden_broad} children "
        f"({_names(found.hidden)}) were under-represented, and by how much; any chi-square test "
        "across all groups (the missing children belong to unknown groups); and anything about "
        "why. None of these rates allows for deprivation, which differs sharply between ethnic "
        "groups and is the strongest known driver of child protection rates; a raw ratio "
        "describes who was on a plan, not bias or need. The 2011 ethnic mix is applied to a "
        "later population total; if the child population's mix has changed since, so have the "
        "true rates (the school census basis shows a more recent mix of pupils).")
    return section


# -- England ---------------------------------------------------------------------------------
def england(data: ThemeData, population_basis: str | None = None) -> Section:
    """England's children on plans in DfE's five broad groups against England's children.

    Parameters
    ----------
    data
        The run's data (DfE publishes the broad groups from 2017-18).
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        The highest and lowest relative rates against White children and the table
        ``england_relative_rates``; left out for a year DfE has none.
    """
    section = Section(THEME, "england", "England, from DfE's published tables", data)
    counts = data.breakdown("cp_by_ethnic_group", "ethnic_group", "dfe",
                            geography_code=ENGLAND_CODE).drop(labels=["known"], errors="ignore")
    if counts.empty:
        section.leave_out(f"England's children on plans by ethnic group (DfE publishes them from "
                          f"2017-18, table a5; none for {data.period})")
        return section
    pop, reason = _denominator_or_reason(data, ENGLAND_CODE, population_basis)
    if pop is None:
        section.leave_out(f"England by ethnic group: no child population by ethnic group "
                          f"({reason})")
        return section
    broad = dp.aggregate(pop.children, BROAD_SCHEMES["dfe"]).reindex(list(BROAD_GROUPS))
    table = dp.disproportionality(counts, broad, reference="White", population_basis=pop.short)
    table = table[table["population"].notna()].set_index("group")
    others = table.drop(index="White").sort_values("rr_vs_reference", ascending=False,
                                                  kind="stable")
    stated = {which: section.derive(
        RATIO, row["rr_vs_reference"], inputs=["dfe", "ons"], geography_code=ENGLAND_CODE,
        breakdown=f"ethnic_group={row.name}", interval_95=(row["rr_lower"], row["rr_upper"]),
        note=f"DfE a5 counts / {pop.short}; against White")
        for which, row in (("high", others.iloc[0]), ("low", others.iloc[-1]))}
    section.say(f"In England at 31 March {data.year}, {others.index[0]} children were on plans at "
                f"{stated['high']} times the rate of White children and {others.index[-1]} "
                f"children at {stated['low']} times ({pop.label}).")
    section.table("england_relative_rates", pd.DataFrame({
        "Children on plans (DfE)": table["count"],
        "Children 0-17": table["population"].round(0),
        "Per 10,000": table["rate_per_10k"].round(registry.decimals(RATE)),
        "Relative rate (v White)": table["rr_vs_reference"].round(registry.decimals(RATIO)),
        "95% interval (score)": _interval(table["rr_lower"], table["rr_upper"], RATIO),
        "Share ratio": table["share_ratio"].round(registry.decimals(RATIO)),
        "Denominator": pop.short,
    }).rename_axis("Ethnic group"))
    return section


# -- every decision point, from child-level records ------------------------------------------
#: Rows whose column sums are public beside the table's total: children of known ethnicity
#: (the base of every share and test) and so, by difference, those of unknown ethnicity.
GROUP_LINES = dp.KNOWN_AND_UNKNOWN
TOTAL_ROW = "All children"


@dataclass(frozen=True)
class Stages:
    """Children at each decision point by group against the population, with what may be
    published of them."""

    counts: pd.DataFrame  # exact counts, group label x decision point label, total row last
    hidden: pd.DataFrame  # group id x decision point id: True where the count is not published
    table: pd.DataFrame  # by_decision_point() of the known groups, with hidden, hidden_before
    fit: pd.DataFrame  # goodness_of_fit() by decision point
    pop: Denominator
    source: str  # cin_census or synthetic
    design: dict[str, float]  # sibling_design_effect() of ethnicity among plans started

    def at(self, point: str) -> pd.DataFrame:
        """The known groups at one decision point, by group id."""
        return self.table[self.table["decision_point"] == point].set_index("group")


def decision_points(data: ThemeData, population_basis: str | None = None
                    ) -> tuple[Stages | None, str]:
    """Children at each decision point by ethnic group from the child-level records, or
    ``None`` and why.

    Counts from 1 to 5 are hidden, with a second cell wherever a row, a column, the children
    of known ethnicity or those of unknown ethnicity would give one away (:data:`GROUP_LINES`);
    every rate and ratio of a hidden count is hidden with it.

    Parameters
    ----------
    data
        The run's data (its CIN Census return, or the synthetic county by default).
    population_basis
        As for :func:`population`.
    """
    return _decision_points(data, population_basis or "census2011")


@functools.lru_cache(maxsize=4)
def _decision_points(data: ThemeData, basis: str) -> tuple[Stages | None, str]:
    pop, _ = _denominator_or_reason(data, None, basis)
    if data.child_level is None or pop is None:
        return None, ("ethnicity at each decision point (no CIN Census return given: pass "
                      "--cin-census)")
    counts = dp.decision_point_counts(data.child_level, data.year)
    if not counts["count"].any():
        return None, (f"ethnicity at each decision point (the CIN Census return has no child "
                      f"at any decision point in {data.period})")
    grid = (counts.pivot(index="group", columns="decision_point", values="count")
            .reindex(index=list(ALL_GROUPS), columns=POINTS))
    grid = pd.concat([grid, grid.sum().to_frame(TOTAL_ROW).T]).astype(int)
    hidden = disclosure.suppression_mask(grid, TOTAL_ROW, row_groups=GROUP_LINES,
                                         hidden=_hidden_grid(data))
    hidden = hidden.drop(index=TOTAL_ROW).rename_axis(index="group", columns="decision_point")
    stages = dp.by_decision_point(counts, pop.children, population_basis=pop.short)
    known = stages[stages["group"].isin(list(COMPARISON_GROUPS))]
    flags = pd.concat({"hidden": hidden.stack(),
                       "hidden_before": hidden.shift(1, axis=1, fill_value=False).stack()},
                      axis=1)
    known = known.join(flags, on=["group", "decision_point"]).reset_index(drop=True)
    siblings = data.sibling_plans
    design = dp.sibling_design_effect(siblings["group"], siblings["ethnicity"])
    # Siblings share an ethnicity: every interval and test allows for it.
    known = dp.widen(known, design["deff"], WIDENED)
    fit = _fit(counts, pop, design["deff"])
    shown_grid = grid.rename(index=ALL_GROUPS, columns=dp.DECISION_POINTS).rename_axis(
        index="Group", columns=None)
    return Stages(shown_grid, hidden, known, fit, pop, str(data.child_source), design), ""


def _hidden_grid(data: ThemeData) -> pd.DataFrame:
    """Where the report-wide pass hides the grid's counts (:attr:`ThemeData.report_hidden`, over
    :func:`~cpstats.stats.disproportionality.decision_point_facts`): group id and
    :data:`TOTAL_ROW` x decision point id, so the grid, its rates and anything else printed
    from the same counts hide the same cells."""
    def hides(point: str, group: str | None = None) -> bool:
        breakdown = f"decision_point={point}" + ("" if group is None else f";ethnicity={group}")
        return data.hides(dp.DECISION_POINT_MEASURE, data.period, breakdown)

    return pd.DataFrame({point: [*(hides(point, g) for g in ALL_GROUPS), hides(point)]
                         for point in POINTS}, index=[*ALL_GROUPS, TOTAL_ROW], dtype=bool)


#: (estimate, lower, upper) columns widened by the sibling design effect.
WIDENED = (("rate_per_10k", "rate_lower", "rate_upper"),
           ("rr_vs_reference", "rr_lower", "rr_upper"),
           ("rr_vs_reference", "rr_wald_lower", "rr_wald_upper"),
           ("progression_rr", "progression_lower", "progression_upper"))


def _widened(stages: Stages) -> str:
    """What a note adds when its interval was widened by the sibling design effect (nothing
    when the effect is 1 and the interval is as computed)."""
    deff = stages.design["deff"]
    return f"; x design effect {deff:.2f} (log scale)" if deff > 1 else ""


def _fit(counts: pd.DataFrame, pop: Denominator, deff: float) -> pd.DataFrame:
    """Goodness of fit of each decision point's ethnic mix against the population's, allowing
    for siblings by the design effect ``deff``; a point with no child of known ethnicity has no
    test (its row is empty)."""
    by_point = {point: rows.set_index("group")["count"]
                for point, rows in counts.groupby("decision_point", sort=False)}
    tested = {point: dp.goodness_of_fit(children, pop.children, design_effect=deff)
              for point, children in by_point.items()
              if children.reindex(list(COMPARISON_GROUPS)).sum() > 0}
    return pd.DataFrame(tested, columns=POINTS).T.reindex(POINTS)


def decision_point_counts(data: ThemeData, population_basis: str | None = None) -> Section:
    """Children at each decision point by ethnic group (counts of 1 to 5 shown as ``c``).

    Parameters
    ----------
    data
        The run's data.
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        The table ``children_by_ethnicity_and_decision_point``; left out without child-level
        records.
    """
    section = Section(THEME, "decision_point_counts", "Every decision point", data)
    stages, reason = decision_points(data, population_basis)
    if stages is None:
        section.leave_out(reason)
        return section
    section.table("children_by_ethnicity_and_decision_point", stages.counts, child_level=True,
                  total_row=TOTAL_ROW, hidden=_hidden_grid(data).rename(
                      index=ALL_GROUPS, columns=dp.DECISION_POINTS),
                  row_groups=[[ALL_GROUPS[g] for g in line] for line in GROUP_LINES],
                  caption=(f"Children at each decision point in {data.period}, "
                           f"{SOURCE_NAMES[stages.source]}:"))
    return section


def relative_rates(data: ThemeData, population_basis: str | None = None) -> Section:
    """Relative rates against White British children on a plan at 31 March, and how far each
    decision point's ethnic mix differs from the population's.

    Parameters
    ----------
    data
        The run's data.
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        The highest and lowest relative rates, the White British rate and Cohen's w (on plans,
        at referral); the tables ``relative_rates_at_31_march`` and
        ``chi_square_by_decision_point``; the chart ``forest_relative_rates``. Left out without
        child-level records or with too few children of known ethnicity on plans.
    """
    section = Section(THEME, "relative_rates", "Relative rates", data)
    stages, reason = decision_points(data, population_basis)
    if stages is None:
        section.leave_out(reason)
        return section
    snapshot = stages.at("plan_at_31_march")
    visible = snapshot[~snapshot["hidden"] & (snapshot.index != REFERENCE)
                       & snapshot["rr_vs_reference"].notna()]
    if not snapshot.loc[REFERENCE, "count"] > 0 or visible.empty:
        section.leave_out(f"relative rates from child-level records: too few children of known "
                          f"ethnicity on plans at 31 March {data.year} for a comparison")
        return section
    ranked = visible.sort_values("rr_vs_reference", ascending=False)
    high, low = ranked.iloc[0], ranked.iloc[-1]
    src, short = stages.source, stages.pop.short
    high_rr, low_rr = (section.record(
        RATIO, row["rr_vs_reference"], source=src,
        breakdown=f"decision_point=plan_at_31_march;ethnicity={row.name}",
        interval_95=(row["rr_lower"], row["rr_upper"]),
        note=(f"against White British; {short}; {_INTERVAL_NAMES[row['rr_method']]}"
              f"{_widened(stages)}"))
        for row in (high, low))
    wb = snapshot.loc[REFERENCE]
    wb_rate = section.record(RATE, wb["rate_per_10k"], source=src,
                             breakdown=f"decision_point=plan_at_31_march;ethnicity={REFERENCE}",
                             interval_95=(wb["rate_lower"], wb["rate_upper"]),
                             note=f"{short}{_widened(stages)}")
    w_plan, w_referral = (section.record(
        "ethnicity_cohens_w", stages.fit.loc[point, "cohens_w"], source=src,
        breakdown=f"decision_point={point}",
        note="chi-square goodness of fit against population shares; Cohen's w")
        for point in ("plan_at_31_march", "referral"))
    deff = section.record(
        "sibling_design_effect", stages.design["deff"], source=src,
        breakdown="grouping=plan_start_day;attribute=ethnicity",
        note=f"measured on children whose plans started in {data.period}: "
             f"{disclosure.display_value(stages.design['groups'], source=src)} groups of "
             f"children whose plans started on the same "
             f"day (a stand-in: the CIN Census has no family link; it errs towards too small a "
             f"design effect); mean size a child is in "
             f"{stages.design['mean_size']:.2f}, agreement in ethnicity beyond chance rho = "
             f"{stages.design['rho']:.2f}")
    caveat = (" These are generated records: the generator gave each group a built-in relative "
              "likelihood, and the figures show the method recovering it, nothing about real "
              "children." if data.synthetic else "")
    section.say(
        f"In {SOURCE_NAMES[src]}, White British children were on plans at {wb_rate} per 10,000 "
        f"on 31 March {data.year}. {high['label']} children had the highest relative rate, "
        f"**{high_rr}** times the White British rate, and {low['label']} children the lowest, "
        f"**{low_rr}**. Across all groups the mix differs from the population's with an effect "
        f"size (Cohen's w) of {w_plan} for children on plans and {w_referral} at referral (0.1 "
        f"small, 0.3 medium, 0.5 large). {_siblings_sentence(section, stages, high, deff)}"
        f"{caveat}")
    section.table("relative_rates_at_31_march", _rates_table(snapshot, stages, data.synthetic),
                  caption=(f"Children on a plan at 31 March {data.year} against the population "
                           f"({stages.pop.label}):"))
    section.table("chi_square_by_decision_point", _fit_table(stages),
                  caption=("Chi-square goodness of fit of each decision point's ethnic mix "
                           "against the population's (a Monte Carlo p-value where expected "
                           "counts are small):"))
    section.chart("forest_relative_rates", _forest_frame(stages), draw_forest,
                  title=(f"{high['label']} children were the most over-represented on plans at "
                         f"31 March ({high_rr} times the White British rate); {low['label']} "
                         f"the most under-represented ({low_rr})"),
                  source=(f"{SOURCE_NAMES[src]}, {data.period}; denominator: {short}; "
                          f"suppressed cells (1 to 5 children) not plotted"),
                  child_level=True)
    return section


#: The design effect assumed for the sensitivity result when the stand-in finds less.
ASSUMED_DEFF = 2.0


def _siblings_sentence(section: Section, stages: Stages, high: pd.Series, deff: str) -> str:
    """What the sibling stand-in found and how it was used; when it found less clustering than
    :data:`ASSUMED_DEFF`, the highest relative rate's interval at that assumed design effect
    (the stand-in errs towards too small a design effect)."""
    found = stages.design["deff"]
    measured = (f"Siblings are not independent children: the CIN Census has no family link, so "
                f"children whose plans started on the same day in {section.data.period} stand "
                f"in for sibling groups (a stand-in that misses siblings whose plans started on "
                f"different days, so it errs towards too little clustering). ")
    if found < 1.05:
        used = (f"It found no clustering in ethnicity (design effect {deff}), so the intervals "
                f"and chi-squares here are as for independent children.")
    else:
        used = (f"Their agreement in ethnicity gives a design effect of {deff}: every interval "
                f"here is widened by it on the log scale, and the chi-square at every decision "
                f"point is divided by it (Rao and Scott).")
    if found >= ASSUMED_DEFF:
        return measured + used
    assumed = dp.widen(high.to_frame().T, ASSUMED_DEFF / found, WIDENED).iloc[0]
    section.record(
        RATIO, high["rr_vs_reference"], source=stages.source,
        breakdown=(f"decision_point=plan_at_31_march;ethnicity={high.name};"
                   f"design_effect=assumed_{ASSUMED_DEFF:g}"),
        interval_95=(assumed["rr_lower"], assumed["rr_upper"]),
        note=(f"sensitivity: interval at an assumed sibling design effect of "
              f"{ASSUMED_DEFF:g}; against White British; {stages.pop.short}"))
    places = registry.decimals(RATIO)
    span = {name: " to ".join(format_value(v, "ratio", places) for v in (row["rr_lower"],
                                                                       row["rr_upper"]))
            for name, row in (("measured", high), ("assumed", assumed))}
    return (measured + used + f" Were the design effect {ASSUMED_DEFF:g}, the 95% interval of "
            f"{high['label']} children's relative rate would be {span['assumed']} (as "
            f"measured: {span['measured']}).")


def _fixed(values: pd.Series, places: int) -> pd.Series:
    """Numbers as text with a fixed number of decimals (``1.00``); blank where missing."""
    return values.map(lambda v: f"{v:.{places}f}").where(values.notna(), "")


def _rates_table(snapshot: pd.DataFrame, stages: Stages, synthetic: bool) -> pd.DataFrame:
    """Rates and ratios at 31 March, hidden wherever the count they come from is."""
    rate, ratio = registry.decimals(RATE), registry.decimals(RATIO)
    figures = pd.DataFrame({
        "Per 10,000": snapshot["rate_per_10k"].round(rate),
        "Relative rate": snapshot["rr_vs_reference"].round(ratio),
        "95% interval (score)": _interval(snapshot["rr_lower"], snapshot["rr_upper"], RATIO),
        "95% interval (log Wald)": _interval(snapshot["rr_wald_lower"],
                                             snapshot["rr_wald_upper"], RATIO),
        "V all other children": snapshot["rr_vs_rest"].round(ratio),
        "Share ratio": snapshot["share_ratio"].round(ratio),
    })
    shown = disclosure.suppress_derived(figures, snapshot["hidden"])
    shown["Under 10"] = _flag(snapshot["small_count"])
    if synthetic:
        from cpstats import synth

        built_in = pd.Series(synth.ETHNIC_RELATIVE_RATE).groupby(CIN_TO_GROUP).mean()
        shown["Built into the generator"] = built_in.reindex(shown.index).round(ratio)
    shown["Denominator"] = stages.pop.short
    return shown.rename(index=COMPARISON_GROUPS).rename_axis("Group")


def _p_value(values: pd.Series) -> pd.Series:
    """p-values to two significant figures, the smallest as ``< 0.0001``; blank where none."""
    shown = values.map(lambda p: f"{p:.2g}" if p >= 1e-4 else "< 0.0001")
    return shown.where(values.notna(), "")


def _fit_table(stages: Stages) -> pd.DataFrame:
    fit = stages.fit.astype(float)
    return pd.DataFrame({
        "Children of known ethnicity": fit["n"].round(0),
        "Chi-square": fit["chi2"].round(1),
        "Degrees of freedom": fit["df"].round(0),
        "p-value": _p_value(fit["p_value"]),
        "p-value (Monte Carlo)": _p_value(fit["p_monte_carlo"]),
        "Cohen's w": fit["cohens_w"].round(registry.decimals("ethnicity_cohens_w")),
        "Smallest expected count": fit["min_expected"].round(1),
        "Denominator": stages.pop.short,
    }).rename(index=dp.DECISION_POINTS).rename_axis("Decision point")


def _forest_frame(stages: Stages) -> pd.DataFrame:
    """Relative rates the forest plot may draw (no group of a hidden count, not the reference),
    by group and decision point, at published precision."""
    rows = stages.table
    rows = rows[~rows["hidden"] & rows["rr_lower"].notna() & (rows["group"] != REFERENCE)]
    name = rows["label"] + ", " + rows["decision_point"].map(dp.DECISION_POINTS)
    ratios = (rows[list(RATIO_COLUMNS)].round(registry.decimals(RATIO))
              .rename(columns=RATIO_COLUMNS))
    return (pd.concat([rows[["decision_point", "group"]], ratios], axis=1)
            .set_axis(pd.Index(name, name="Group and decision point")))


def draw_forest(frame: pd.DataFrame, chart) -> object:  # noqa: ANN001 -- a Chart
    """A forest plot of relative rates against White British (log scale), one row per group,
    one point and 95% interval per decision point.

    Parameters
    ----------
    frame
        ``decision_point``, ``group`` (ids) and the :data:`RATIO_COLUMNS` of the published
        (unsuppressed) cells.
    chart
        The :class:`~cpstats.themes.Chart` (title, source).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    groups = [g for g in COMPARISON_GROUPS if g != REFERENCE]
    row_of = pd.Series(np.arange(len(groups))[::-1], index=groups)
    fig, ax = plots.new_figure(8, 9)
    offsets = np.linspace(-0.32, 0.32, len(POINTS))
    for colour, offset, point in zip(plots.colours(len(POINTS)), offsets, POINTS, strict=True):
        rows = frame[frame["decision_point"] == point]
        rr = rows["Relative rate"].clip(lower=0.01)  # a zero ratio has no place on a log axis
        ax.errorbar(rr, row_of[rows["group"]].to_numpy() + offset,
                    xerr=[rr - rows["95% lower"].clip(lower=0.01), rows["95% upper"] - rr],
                    fmt="o", ms=4, color=colour, elinewidth=1, capsize=0,
                    label=dp.DECISION_POINTS[point])
    ax.axvline(1, color=plots.AF_DARK_GREY, lw=1)
    ax.set_xscale("log")
    low_x, high_x = ax.get_xlim()
    ax.set_xlim(low_x, high_x * 6)  # room on the right for the legend
    ax.xaxis.set_major_locator(FixedLocator([0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(row_of.to_numpy(), [COMPARISON_GROUPS[g] for g in groups], fontsize=8)
    return _titled(plots.finish(fig, ax, title=chart.title, ylabel="", legend=True, source=chart.source,
                        xlabel="Relative rate v White British (log scale, 95% score "
                               "interval)"))


def progression(data: ThemeData, population_basis: str | None = None) -> Section:
    """Where a difference opens: children at each decision point per child at the one before,
    relative to White British children.

    Parameters
    ----------
    data
        The run's data.
    population_basis
        As for :func:`population`.

    Returns
    -------
    Section
        The largest relative conversion of referrals into section 47 enquiries and the table
        ``progression_by_decision_point`` (a ratio is hidden where either count it comes from
        is); left out without child-level records.
    """
    section = Section(THEME, "progression", "Progression", data)
    stages, reason = decision_points(data, population_basis)
    if stages is None:
        section.leave_out(reason)
        return section
    steps = POINTS[1:4]
    rows = stages.table[stages.table["decision_point"].isin(steps)]
    masked = rows["hidden"] | rows["hidden_before"]
    s47 = rows[(rows["decision_point"] == "s47") & ~masked & (rows["group"] != REFERENCE)
               & rows["progression_rr"].notna()].set_index("group")
    if s47.empty:
        section.leave_out("progression from referral to section 47 enquiry by ethnicity (no "
                          "group's conversion can be shown beside White British children's: "
                          "too few children, or counts of 1 to 5)")
        return section
    step = s47.sort_values("progression_rr", ascending=False).iloc[0]
    step_rr = section.record("ethnicity_progression_relative_rate", step["progression_rr"],
                             source=stages.source,
                             breakdown=f"decision_point=s47;ethnicity={step.name}",
                             interval_95=(step["progression_lower"], step["progression_upper"]),
                             note=f"s47 enquiries per referred child, against White "
                                  f"British{_widened(stages)}")
    section.say(
        f"Progression from one decision point to the next, relative to White British children "
        f"(1 = the same conversion). The largest difference at the section 47 step: "
        f"{step['label']} children, {step_rr} times the White British conversion of referrals "
        f"into enquiries. A ratio above 1 at a step means the difference grows there; near 1, "
        f"it was already present at the step before.")
    section.table("progression_by_decision_point", _progression_table(rows, masked))
    return section


def _progression_table(rows: pd.DataFrame, masked: pd.Series) -> pd.DataFrame:
    """Progression ratios with their intervals, hidden where either count is."""
    measure = "ethnicity_progression_relative_rate"
    interval = _interval(rows["progression_lower"], rows["progression_upper"], measure)
    shown = _fixed(rows["progression_rr"], registry.decimals(measure)) + (
        " (" + interval + ")").where(interval != "", "")
    wide = rows.assign(shown=shown, masked=masked).pivot(
        index="group", columns="decision_point", values=["shown", "masked"])
    figures = wide["shown"].reindex(index=list(COMPARISON_GROUPS), columns=POINTS[1:4])
    hidden = wide["masked"].reindex(index=list(COMPARISON_GROUPS), columns=POINTS[1:4])
    published = disclosure.suppress_derived(figures, hidden.astype(bool))
    return (published.rename(index=COMPARISON_GROUPS, columns=dp.DECISION_POINTS)
            .rename_axis(index="Group", columns=None))


SECTIONS = (groups, population, report_figures, report_limits, england, decision_point_counts,
            relative_rates, progression)


def compute(data: ThemeData, **options: object) -> ThemeResult:
    """Every section of the ethnicity theme for a run.

    Parameters
    ----------
    data
        The run's data.
    **options
        ``population_basis`` (``"census2011"`` or ``"school_census"``).

    Returns
    -------
    ThemeResult
    """
    return run_sections(THEME, data, SECTIONS, **options)
