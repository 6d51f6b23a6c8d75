"""The shipped reference extract (``data/reference/``): published figures the default report needs.

A compact, rebuildable subset of the DfE *Characteristics of children in need* release
(and ONS child populations when :mod:`cpstats.io.population` is available) for England,
the LA's region, the LA and its ten statistical neighbours, years ending 31 March 2013
onwards. ``cpstats reference build`` rebuilds it from newer files; rebuilding from the
same files gives byte-identical output (sorted rows, fixed float format).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from cpstats import geography
from cpstats.errors import InputError, Problem, display_path
from cpstats.facts import NOTE_COLUMN, conform, select, sort, validate
from cpstats.io import dfe
from cpstats.paths import REFERENCE_DIR, shared_data_dir

REFERENCE_FILE = "facts.csv"
DEFAULT_LA = "825"
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
)
#: The smaller set kept for each statistical neighbour (benchmarking, not deep dives).
NEIGHBOUR_MEASURES: tuple[str, ...] = (
    "cp_plans_at_31_march", "cp_rate_per_10k", "cp_plans_started", "cp_plans_started_rate_per_10k",
    "cp_plans_ended", "cp_by_category", "cp_by_duration", "cp_reviews_in_timescale_pct",
    "cp_second_or_subsequent_pct", "referrals", "referrals_rate_per_10k", "re_referrals_pct",
    "s47_enquiries", "s47_enquiries_rate_per_10k", "icpcs", "icpcs_rate_per_10k",
    "icpc_within_15_working_days_pct", "children_in_need_at_31_march", "cin_rate_per_10k",
    "population_0_17",
)


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
    shared = shared_data_dir()
    release = dfe.read_release(Path(dfe_dir) if dfe_dir else shared / "dfe" / "cin_2022")
    parts = [release]
    population = _population(Path(population_dir) if population_dir else shared / "ons")
    if population is not None:
        parts.append(population)
    facts = pd.concat(parts, ignore_index=True)
    areas = reference_areas(la)
    keep = pd.concat([select(facts, geography_code=areas[:3], measure=list(MEASURES)),
                      select(facts, geography_code=areas[3:], measure=list(NEIGHBOUR_MEASURES))])
    keep = keep[_year_ending(keep["period"]) >= FIRST_YEAR]
    keep = keep[~keep["breakdown"].str.contains(";")]  # England's category x gender etc.: not needed
    out = _tidy(keep)
    out.attrs["populations"] = population is not None
    return out


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


def load_reference(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped reference extract as facts (published DfE figures, derived shares, populations).

    Parameters
    ----------
    path
        The extract's CSV or its folder; default ``data/reference/facts.csv``.

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
    return validate(conform(frame), display_path(file))


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
