"""The shipped reference extract (``data/reference/``): published figures the default report needs.

A compact, rebuildable subset of the DfE *Characteristics of children in need* release
(and ONS child populations when :mod:`cpstats.io.population` is available), years ending
31 March 2013 onwards, in two files:

- ``facts.csv``: long facts for England, the LA's region, the LA and its ten statistical
  neighbours (the full set of measures for the first three, a benchmarking subset for
  the neighbours);
- ``all_las.csv``: every LA in the release, a handful of measures (:data:`ALL_LA_MEASURES`),
  one row per LA and year, one column per measure (a cell is a value, a marker such as
  ``c``, or empty where nothing was published), for cross-LA comparisons and models.

:func:`load_reference` returns both as one facts table. ``cpstats reference build``
rebuilds them from newer files; rebuilding from the same files gives byte-identical
output (sorted rows, fixed float format).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from cpstats import geography
from cpstats.checks import problems_when_reading, register_checker
from cpstats.defaults import DEFAULT_LA
from cpstats.errors import InputError, Problem, display_path
from cpstats.facts import NOTE_COLUMN, TOTAL, conform, select, sort, validate
from cpstats.io import dfe
from cpstats.paths import REFERENCE_DIR, shared_data_dir

REFERENCE_FILE = "facts.csv"
ALL_LA_FILE = "all_las.csv"
#: First year (ending 31 March) kept.
FIRST_YEAR = 2013
#: Significant digits written for values (published figures have at most one decimal;
#: derived shares are written to 10 significant digits so rebuilds are byte-identical).
FLOAT_FORMAT = "%.10g"

#: Measures kept for England, the region and the LA (see :mod:`cpstats.io.dfe` for meanings).
MEASURES: tuple[str, ...] = (
    # children on plans, starts, ends, rates
    "cp_plans_at_31_march", "cp_rate_per_10k", "cp_plans_started", "cp_plans_started_rate_per_10k",
    "cp_plans_ended", "cp_plans_ended_rate_per_10k", "cp_plans_any_point",
    # plans ending April-September (d8) and those of 3 months or less (:data:`ONLY_BREAKDOWNS`)
    "cp_plans_ended_first_6_months_of_year", "cp_plans_ended_first_6_months_of_year_by_duration",
    # categories, durations, reviews, repeat plans
    "cp_by_category", "cp_by_latest_category", "cp_plans_started_by_category",
    "cp_by_duration", "cp_plans_ended_by_duration", "cp_plans_3_months_or_more",
    "cp_reviews_in_timescale", "cp_reviews_in_timescale_pct", "cp_plans_second_or_subsequent",
    "cp_second_or_subsequent_pct", "cp_by_gender", "cp_by_age_band", "cp_by_ethnic_group",
    # referrals, s47 enquiries, ICPCs and their timeliness
    "referrals", "referrals_rate_per_10k", "re_referrals", "re_referrals_pct",
    "referrals_by_month", "s47_enquiries", "s47_enquiries_rate_per_10k", "icpcs",
    "icpcs_rate_per_10k", "icpc_duration_days", "icpc_duration_days_median",
    "icpc_within_15_working_days_pct",
    # context and denominators (population_0_17 from cpstats.io.population)
    "children_in_need_at_31_march", "cin_rate_per_10k", "population_0_17",
    # all children in need with a disability recorded (table b2): the proxy comparator for plans
    "cin_with_disability", "cin_with_disability_pct",
)
#: The smaller set kept for each statistical neighbour (benchmarking, not deep dives).
NEIGHBOUR_MEASURES: tuple[str, ...] = (
    "cp_plans_at_31_march", "cp_rate_per_10k", "cp_plans_started", "cp_plans_started_rate_per_10k",
    "cp_plans_ended", "cp_plans_ended_rate_per_10k", "cp_by_category", "cp_by_duration", "cp_reviews_in_timescale_pct",
    "cp_second_or_subsequent_pct", "referrals", "referrals_rate_per_10k", "re_referrals_pct",
    "s47_enquiries", "s47_enquiries_rate_per_10k", "icpcs", "icpcs_rate_per_10k",
    "icpc_within_15_working_days_pct", "children_in_need_at_31_march", "cin_rate_per_10k",
    "population_0_17", "cin_with_disability", "cin_with_disability_pct",
)
#: Measures kept for every LA in ``all_las.csv`` (totals only): the annual forecasting panel
#: (:data:`cpstats.stats.forecast.ANNUAL_MEASURES`), the two published rates of the cross-LA
#: scatter, the ONS population, and the counts behind the funnel plots and rankings (repeat
#: plans over starts, reviews on time over plans of 3 months or more, the derived ICPC
#: timeliness share over ICPCs, re-referrals over referrals). Each is also in :data:`MEASURES`,
#: whose rows in ``facts.csv`` lend the all-LA rows their unit, source and note.
ALL_LA_MEASURES: tuple[str, ...] = (
    "cp_plans_at_31_march", "cp_rate_per_10k", "cp_plans_started", "cp_plans_ended",
    "referrals", "s47_enquiries", "s47_enquiries_rate_per_10k", "icpcs", "population_0_17",
    "cp_plans_second_or_subsequent", "cp_plans_3_months_or_more", "cp_reviews_in_timescale",
    "icpc_within_15_working_days_pct", "re_referrals",
)
#: Breakdowns kept of a measure when not all of them are needed (keeps the extract small).
ONLY_BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "cp_plans_ended_first_6_months_of_year_by_duration": ("duration=3_months_or_less",),
}
_ALL_LA_KEYS = ["geography_code", "geography_name", "period"]
_FACT_KEYS = ["geography_code", "period", "measure", "breakdown", "source"]


def reference_areas(la: str = DEFAULT_LA) -> list[str]:
    """Geography codes in the extract: England, the LA's region, the LA, its ten neighbours."""
    number = geography.la_code(la)
    return [geography.ENGLAND_CODE, geography.region_of(number)[0], number,
            *geography.statistical_neighbours(number)]


def build_reference(dfe_dir: str | Path | None = None, population_dir: str | Path | None = None,
                    la: str = DEFAULT_LA) -> pd.DataFrame:
    """Build the reference extract from published files.

    Parameters
    ----------
    dfe_dir
        A DfE CIN release folder; default ``../shared/data/dfe/cin_2022``.
    population_dir
        Folder (or file) of ONS mid-year estimates of children 0-17; default
        ``../shared/data/ons``. Skipped (with a note in the result's ``attrs``) when
        :mod:`cpstats.io.population` is not installed.
    la
        The LA whose region and statistical neighbours are kept (default Buckinghamshire).

    Returns
    -------
    pandas.DataFrame
        Facts with ``note``, sorted.
    """
    facts, populations = _published(dfe_dir, population_dir)
    areas = reference_areas(la)
    keep = pd.concat([select(facts, geography_code=areas[:3], measure=list(MEASURES)),
                      select(facts, geography_code=areas[3:], measure=list(NEIGHBOUR_MEASURES))])
    keep = keep[_year_ending(keep["period"]) >= FIRST_YEAR]
    keep = keep[~keep["breakdown"].str.contains(";")]  # England's category x gender etc.: not needed
    for measure, breakdowns in ONLY_BREAKDOWNS.items():
        keep = keep[(keep["measure"] != measure) | keep["breakdown"].isin(breakdowns)]
    out = _tidy(keep)
    out.attrs["populations"] = populations
    return out


def build_all_las(dfe_dir: str | Path | None = None,
                  population_dir: str | Path | None = None) -> pd.DataFrame:
    """Build the all-LA table: every LA in the release, every year, :data:`ALL_LA_MEASURES`.

    Parameters
    ----------
    dfe_dir, population_dir
        As for :func:`build_reference`.

    Returns
    -------
    pandas.DataFrame
        ``geography_code, geography_name, period`` (DfE's LA number, name and year) and one
        text column per measure: the value written with :data:`FLOAT_FORMAT`, the marker
        where DfE suppressed it, empty where nothing was published. Rows are the LA-years
        DfE published from :data:`FIRST_YEAR`, sorted by code and year.
    """
    facts, _ = _published(dfe_dir, population_dir)
    rows = facts[(facts["geography_level"] == "local_authority") & (facts["breakdown"] == "total")
                 & facts["measure"].isin(ALL_LA_MEASURES)]
    rows = rows[_year_ending(rows["period"]) >= FIRST_YEAR]
    dfe_rows = rows[rows["source"] == "dfe"]
    # LA-years DfE published, under DfE's name (ONS spells some names differently)
    index = dfe_rows.drop_duplicates(["geography_code", "period"])[_ALL_LA_KEYS]
    values = rows["value"].map(lambda v: FLOAT_FORMAT % v, na_action="ignore")
    rows = rows.assign(cell=values.fillna(rows["marker"]).fillna(""))
    wide = rows.pivot_table(index=["geography_code", "period"], columns="measure", values="cell",
                            aggfunc="first").reindex(columns=list(ALL_LA_MEASURES))
    table = index.merge(wide.reset_index(), on=["geography_code", "period"], how="left")
    table = table.fillna("").sort_values(["geography_code", "period"], kind="stable")
    return table.rename_axis(columns=None).reset_index(drop=True)


def write_reference(facts: pd.DataFrame, out_dir: str | Path | None = None) -> Path:
    """Write ``facts`` as ``REFERENCE_FILE`` in ``out_dir`` (default ``data/reference``).

    Written to a temporary file and renamed, so a failed build leaves the old file intact.
    """
    folder = Path(out_dir) if out_dir else REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / REFERENCE_FILE
    tmp = target.with_name(f".{target.name}.tmp")
    _tidy(facts).to_csv(tmp, index=False, lineterminator="\n", float_format=FLOAT_FORMAT)
    tmp.replace(target)
    return target


def write_all_las(table: pd.DataFrame, out_dir: str | Path | None = None) -> Path:
    """Write :func:`build_all_las`' table as ``ALL_LA_FILE`` in ``out_dir`` (temporary file, rename)."""
    folder = Path(out_dir) if out_dir else REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ALL_LA_FILE
    tmp = target.with_name(f".{target.name}.tmp")
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(target)
    return target


#: Census 2011 children aged 0-17 by ethnic group for England, regions and every LA (wide:
#: one column per census group plus ``total``), the denominator of the ethnicity theme.
CENSUS_EXTRACT = REFERENCE_DIR / "census2011_children_0_17_by_ethnicity.csv"
_CENSUS_KEYS = ["geography_level", "geography_code", "geography_name"]


def build_census_extract(census_dir: str | Path | None = None) -> pd.DataFrame:
    """Census 2011 DC2101EW children 0-17 per area and census group (districts summed into
    counties by :func:`cpstats.io.population.read_census2011_children`)."""
    from cpstats.io import population

    facts = population.read_census2011_children(None, census_dir)
    column = facts["breakdown"].str.removeprefix("census_group=")
    wide = facts.assign(column=column).pivot_table(
        index=_CENSUS_KEYS, columns="column", values="value", aggfunc="first", observed=True)
    wide = wide.reindex(columns=["total", *population.CENSUS2011_GROUPS.values()])
    return wide.astype("int64").reset_index().sort_values("geography_code", kind="stable")


def write_census_extract(table: pd.DataFrame, out_dir: str | Path | None = None) -> Path:
    """Write :func:`build_census_extract`'s table into ``out_dir`` (temporary file, rename)."""
    folder = Path(out_dir) if out_dir else REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CENSUS_EXTRACT.name
    tmp = target.with_name(f".{target.name}.tmp")
    table.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(target)
    return target


def load_census_extract(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped census extract, codes as text."""
    file = Path(path) if path else CENSUS_EXTRACT
    if not file.is_file():
        raise InputError(Problem(file=display_path(file),
                                 expected="the census extract: run 'cpstats reference build'"))
    return pd.read_csv(file, dtype={k: str for k in _CENSUS_KEYS}, encoding="utf-8-sig")


def load_reference(path: str | Path | None = None, all_las: bool = True) -> pd.DataFrame:
    """The shipped reference extract as facts (published DfE figures, derived shares, populations).

    Parameters
    ----------
    path
        The extract's folder or its ``facts.csv``; default ``data/reference``.
    all_las
        Add every other LA's rows from ``all_las.csv`` (next to ``facts.csv``; an extract
        without it is read as ``facts.csv`` alone). Rows already in ``facts.csv`` are kept
        from there.

    Returns
    -------
    pandas.DataFrame
        Facts with ``note`` (which table and column, or which population row).

    Examples
    --------
    >>> from cpstats.facts import value_of
    >>> ref = load_reference()
    >>> value_of(ref, geography_code="825", measure="cp_plans_at_31_march", period="2016-17")
    553.0
    """
    file = Path(path) if path else REFERENCE_DIR / REFERENCE_FILE
    if file.is_dir():
        file = file / REFERENCE_FILE
    if not file.is_file():
        raise InputError(Problem(file=display_path(file), expected=(
            "the reference extract; rebuild it with 'cpstats reference build'")))
    frame = pd.read_csv(file, dtype=str, encoding="utf-8-sig", keep_default_na=False,
                        na_values=[""])
    frame["value"] = pd.to_numeric(frame["value"])
    facts = validate(conform(frame), display_path(file))
    other = file.with_name(ALL_LA_FILE)
    if not all_las or not other.is_file():
        return facts
    extra = load_all_las(other, facts)
    extra = extra.merge(facts[_FACT_KEYS], on=_FACT_KEYS, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
    return sort(pd.concat([facts, extra], ignore_index=True))


def load_all_las(path: str | Path | None = None, like: pd.DataFrame | None = None) -> pd.DataFrame:
    """``all_las.csv`` as facts: one row per LA, year and measure that DfE published.

    Parameters
    ----------
    path
        The file; default ``data/reference/all_las.csv``.
    like
        The extract's ``facts.csv`` facts (default: read them), whose rows for the same measure
        and year give each row its unit, source and note.

    Returns
    -------
    pandas.DataFrame
        Facts with ``note``; suppressed cells are rows with the marker and no value.
    """
    file = Path(path) if path else REFERENCE_DIR / ALL_LA_FILE
    if like is None:
        like = load_reference(file.with_name(REFERENCE_FILE), all_las=False)
    wide = pd.read_csv(file, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    long = wide.melt(id_vars=_ALL_LA_KEYS, var_name="measure", value_name="cell")
    long = long[long["cell"] != ""]
    value = pd.to_numeric(long["cell"], errors="coerce")
    long = long.assign(value=value, marker=long["cell"].where(value.isna()),
                       geography_level="local_authority", breakdown=TOTAL).drop(columns="cell")
    labels = (like[(like["geography_level"] == "local_authority") & (like["breakdown"] == TOTAL)]
              .drop_duplicates(["measure", "period"])[["measure", "period", "unit", "source", NOTE_COLUMN]])
    long = long.merge(labels, on=["measure", "period"], how="left")
    return validate(conform(long), display_path(file))


def _published(dfe_dir: str | Path | None,
               population_dir: str | Path | None) -> tuple[pd.DataFrame, bool]:
    """The release's facts with the ONS populations, and whether populations were read."""
    shared = shared_data_dir()
    release = dfe.read_release(Path(dfe_dir) if dfe_dir else shared / "dfe" / "cin_2022")
    population = _population(Path(population_dir) if population_dir else shared / "ons")
    if population is None:
        return release, False
    return pd.concat([release, population], ignore_index=True), True


def _population(path: Path) -> pd.DataFrame | None:
    try:
        population = importlib.import_module("cpstats.io.population")
    except ImportError:
        return None
    return population.read_ons_population(path)


def _year_ending(period: pd.Series) -> pd.Series:
    """Year ending 31 March of ``2016-17``, ``2016-17 Q4`` or a month ``2017-03``.

    ``YYYY-NN`` is a financial year when NN follows YYYY (16 -> 17), else a month; the two
    readings collide only for months before 2012 (``2011-12``), which the extract never keeps.
    """
    first = pd.to_numeric(period.str.slice(0, 4))
    second = pd.to_numeric(period.str.slice(5, 7))
    financial = second == (first + 1) % 100
    return (first + 1).where(financial, first + (second >= 4).astype(int))


def _tidy(facts: pd.DataFrame) -> pd.DataFrame:
    out = conform(facts if NOTE_COLUMN in facts else facts.assign(note=pd.NA))
    return sort(out)


def _looks_like_all_las(path: Path) -> bool:
    return path.name == ALL_LA_FILE and (path.parent / "facts.csv").is_file()


register_checker(
    "reference_all_las", _looks_like_all_las, problems_when_reading(load_all_las),
    "the reference extract's all_las.csv (a few measures for every LA, beside its facts.csv)",
)
