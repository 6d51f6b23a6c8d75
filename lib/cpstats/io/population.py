"""Child population denominators: ONS mid-year estimates, Census 2011, school census.

Three published sources, each turned into facts or tidy frames:

- **ONS mid-year estimates of children aged 0-17** (DfE's reshaped file,
  ``ons_mid-year_population_estimates_2012_to_2024.csv``): facts ``population_0_17``.
  Its ``time_period`` T holds the mid-(T-1) estimate (the report names the T=2016 row,
  120,643, "the 2015 mid-year estimate"), the one DfE pairs with reporting year T, so the
  row becomes period ``year_label(T)``: time_period 2017 -> ``2016-17``. ``x`` (Dorset,
  Bournemouth, Poole 2012-2018) stays a marker. LAs are keyed on ``old_la_code``, so
  Buckinghamshire's E10000002 (to 2019) and E06000060 (from 2020) are one series.
- **Census 2011 DC2101EW** (nomis bulk layout, one column per sex x age x ethnic group):
  children 0-17 (the first six age bands) in the census's 18 ethnic groups, 27 March 2011.
  Shire counties are the sum of their districts (ONS LAD18 -> county lookup); LAs created
  since 2019 are the sum of the 2011 districts they cover.
- **School census pupils by ethnicity** (January each year): pupils in state-funded schools
  counted where the school is, not where the child lives; a series break between 2016/17
  and 2017/18 (earlier years appear to omit pupils below compulsory school age). Use as
  shares, not as a population.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from cpstats import facts as F
from cpstats import geography
from cpstats.checks import problems_when_reading, register_checker
from cpstats.codes import POPULATION_MEASURE
from cpstats.defaults import DEFAULT_LA, DEFAULT_YEAR
from cpstats.errors import InputError, ParameterError, Problem, display_path
from cpstats.ethnicity_map import CENSUS2011_TO_GROUP, SCHOOL_CENSUS_TO_GROUP
from cpstats.io.textcsv import read_text_csv
from cpstats.paths import shared_data_dir
from cpstats.periods import parse_year, year_label

# ---------------------------------------------------------------------------------------------
# Shared pieces

MEASURE = POPULATION_MEASURE
_LEVELS = {"National": "national", "Regional": "regional", "Local authority": "local_authority"}
_INTEGER = re.compile(r"^\s*\d+\s*$")


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(file=name, row=1, column=c, expected=f"this column in {what}")
                          for c in missing])


def _problems_where(frame: pd.DataFrame, bad: pd.Series, column: str, name: str,
                    expected: str) -> list[Problem]:
    return [
        Problem(file=name, row=int(i) + 2, column=column,
                value=None if pd.isna(frame[column].iloc[i]) else str(frame[column].iloc[i]),
                expected=expected)
        for i in bad.to_numpy(dtype=bool).nonzero()[0]
    ]


def _number_or_marker(frame: pd.DataFrame, column: str, name: str) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """(value, marker, problems): published markers kept beside a missing value, never 0."""
    text = frame[column].str.strip()
    value = pd.to_numeric(text, errors="coerce")
    marker = text.where(value.isna() & text.isin(F.MARKERS))
    bad = value.isna() & marker.isna()
    found = _problems_where(frame, bad, column, name,
                            f"a number or a published marker {'/'.join(F.MARKERS)}")
    return value, marker, found


def _known_las() -> set[str]:
    return set(geography.all_las()["old_la_code"])


def _file_key(path: Path) -> tuple[str, float]:
    return str(path.resolve()), path.stat().st_mtime if path.exists() else 0.0


def resolve_area(code: str | int) -> tuple[str, str, str]:
    """(geography_level, geography_code, geography_name) for England, a region or an LA.

    Parameters
    ----------
    code
        ``"E92000001"``/``"England"``, a region's GSS code or name (``"E12000008"``,
        ``"South East"``), or anything :func:`cpstats.geography.la_code` accepts.
    """
    text = str(code).strip()
    if text.upper() == geography.ENGLAND_CODE or text.lower() == "england":
        return "national", geography.ENGLAND_CODE, geography.ENGLAND_NAME
    regions = geography.all_las()[["region_code", "region_name"]].drop_duplicates()
    hit = regions[(regions["region_code"] == text.upper())
                  | (regions["region_name"].str.lower() == text.lower())]
    if len(hit):
        return "regional", str(hit["region_code"].iloc[0]), str(hit["region_name"].iloc[0])
    number = geography.la_code(text)
    return "local_authority", number, geography.la_name(number)


# ---------------------------------------------------------------------------------------------
# ONS mid-year estimates of children aged 0-17

ONS_FILE_NAME = "ons_mid-year_population_estimates_2012_to_2024.csv"
ONS_COLUMNS = ("time_period", "geographic_level", "country_code", "country_name", "region_code",
               "region_name", "old_la_code", "la_name", "age_group", "population_estimate")
ONS_AGE_GROUP = "Children aged 0 to 17 years"
#: Said of every ONS population fact, so a rate names its denominator's vintage.
ONS_VINTAGE = "labelled 2021-Census-based, but vintages are mixed (see docs/populations.md)"


def default_ons_path() -> Path:
    """``../shared/data/ons/ons_mid-year_population_estimates_2012_to_2024.csv``."""
    return shared_data_dir() / "ons" / ONS_FILE_NAME


def is_ons_population_file(path: str | Path) -> bool:
    """True when ``path`` is a CSV with the ONS mid-year estimate columns."""
    return _has_columns(Path(path), ONS_COLUMNS)


def read_ons_population(path: str | Path | None = None) -> pd.DataFrame:
    """ONS mid-year estimates of children aged 0-17 for England, regions and LAs, as facts.

    Parameters
    ----------
    path
        The ONS CSV, or a folder holding it (found by its columns); ``None`` means the
        copy in ``../shared/data/ons/``.

    Returns
    -------
    pandas.DataFrame
        Facts, measure ``population_0_17``, source ``ons``, unit ``count``; period
        ``year_label(time_period)`` (the reporting year DfE pairs it with: time_period
        2017, the mid-2016 estimate, is ``2016-17``); ``note`` names the row.
        LAs are keyed on the DfE number (``old_la_code``); ``x`` stays a marker.

    Raises
    ------
    InputError
        Missing columns, an unknown level or LA, a value that is neither a number nor a
        marker, a repeated row: every problem with its row and column.
    """
    file = _find_file(path, default_ons_path(), is_ons_population_file, "an ONS mid-year population CSV")
    return _read_ons_cached(*_file_key(file)).copy()


@functools.lru_cache(maxsize=4)
def _read_ons_cached(resolved: str, _mtime: float) -> pd.DataFrame:
    path = Path(resolved)
    name = display_path(path)
    raw = read_text_csv(path, name)
    _require_columns(raw, ONS_COLUMNS, name, "an ONS mid-year population file")
    raw = raw[raw["age_group"] == ONS_AGE_GROUP].reset_index(drop=True)
    if raw.empty:
        raise InputError(Problem(file=name, column="age_group", expected=f"rows for '{ONS_AGE_GROUP}'"))
    value, marker, found = _number_or_marker(raw, "population_estimate", name)
    level = raw["geographic_level"].map(_LEVELS)
    found += _problems_where(raw, level.isna(), "geographic_level", name, f"one of {list(_LEVELS)}")
    found += _problems_where(raw, ~raw["time_period"].str.fullmatch(r"\d{4}").fillna(False),
                             "time_period", name, "a four-digit year such as 2017")
    is_la = level == "local_authority"
    found += _problems_where(raw, is_la & ~raw["old_la_code"].isin(_known_las()), "old_la_code", name,
                             "a known DfE LA number (e.g. 825)")
    found += _problems_where(raw, (level == "regional") & ~raw["region_code"].str.match(r"^E1[23]\d{6}$").fillna(False),
                             "region_code", name, "a region's GSS code (E12..., or E13... for Inner/Outer London)")
    if found:
        raise InputError(found)
    code = raw["old_la_code"].where(is_la, raw["region_code"].where(level == "regional", raw["country_code"]))
    geo_name = raw["la_name"].where(is_la, raw["region_name"].where(level == "regional", raw["country_name"]))
    year = raw["time_period"].astype(int)
    facts = pd.DataFrame({
        "geography_level": level, "geography_code": code, "geography_name": geo_name,
        "period": year.map(year_label), "measure": MEASURE, "breakdown": F.TOTAL,
        "value": value, "marker": marker, "unit": "count", "source": "ons",
        "note": ("ONS mid-year estimate of children aged 0-17, time_period " + raw["time_period"]
                 + " row (mid-" + (year - 1).astype(str) + "), " + path.name + "; " + ONS_VINTAGE),
    })
    dup = facts.duplicated(["geography_code", "period"], keep="first")
    found = _problems_where(raw, dup, "time_period", name, "one row per area and time_period")
    if found:
        raise InputError(found)
    return F.sort(F.validate(F.conform(facts), name))


def child_population(code: str | int = DEFAULT_LA, year: int | str | None = DEFAULT_YEAR, *,
                     path: str | Path | None = None) -> pd.DataFrame:
    """The ONS estimate of children aged 0-17 that DfE pairs with a reporting year.

    Parameters
    ----------
    code
        England, a region or an LA, in any form :func:`resolve_area` accepts.
    year
        The reporting year (``2017`` or ``"2016-17"``: the time_period 2017 row, the mid-2016
        estimate). ``None`` gives every year.
    path
        As in :func:`read_ons_population`.

    Returns
    -------
    pandas.DataFrame
        Facts: one row (or one per year), ``note`` naming the row used.

    Raises
    ------
    ParameterError
        An unknown area, or a year the file does not cover.

    Examples
    --------
    >>> child_population("825", "2016-17")["value"].item()  # doctest: +SKIP
    121026.0
    """
    _, area, _ = resolve_area(code)
    rows = F.select(read_ons_population(path), geography_code=area)
    if year is None:
        return rows.reset_index(drop=True)
    wanted = year_label(parse_year(year))
    hit = rows[rows["period"] == wanted]
    if hit.empty:
        have = sorted(rows["period"])
        span = f"{have[0]} to {have[-1]}" if have else "none for this area"
        raise ParameterError("--year", year, f"a year with an ONS estimate ({span})")
    return hit.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Census 2011 DC2101EW: children 0-17 by ethnic group

DC2101EW_FILES = {
    "local_authority": "census2011_dc2101ew_localAuthorities.csv",
    "regional": "census2011_dc2101ew_regions.csv",
    "national": "census2011_dc2101ew_countries.csv",
}
LAD_COUNTY_LOOKUP = "lad18_to_county18_england.csv"
CENSUS_DAY = "2011-03-27"
#: DC2101EW's age bands that make up ages 0-17, in order.
CHILD_AGE_BANDS = ("Age 0 to 4", "Age 5 to 7", "Age 8 to 9", "Age 10 to 14", "Age 15", "Age 16 to 17")
#: The census's 18 ethnic groups, in its order, with a short id for facts breakdowns.
CENSUS2011_GROUPS: dict[str, str] = {
    label: slug for label, slug in zip(CENSUS2011_TO_GROUP, (
        "white_british", "white_irish", "white_gypsy_or_irish_traveller", "white_other",
        "mixed_white_black_caribbean", "mixed_white_black_african", "mixed_white_asian", "mixed_other",
        "asian_indian", "asian_pakistani", "asian_bangladeshi", "asian_chinese", "asian_other",
        "black_african", "black_caribbean", "black_other", "other_arab", "other_any_other"), strict=True)
}
_ALL_GROUPS = "All categories: Ethnic group"
_HEADER = re.compile(r"^Sex: (?P<sex>[^;]+); Age: (?P<age>[^;]+); Ethnic Group: (?P<group>.+); measures: Value$")
# 2011 districts of the unitary LAs created since 2019 that are not a whole 2011 county
# (Buckinghamshire, North Yorkshire and Somerset are, and are found through the lookup).
# Source: the structural change orders (Dorset 2019, Northamptonshire 2021, Cumbria 2023).
_SUCCESSOR_DISTRICTS: dict[str, tuple[str, ...]] = {
    "838": ("E07000049", "E07000050", "E07000051", "E07000052", "E07000053"),  # Dorset
    "839": ("E06000028", "E06000029", "E07000048"),  # Bournemouth, Christchurch and Poole
    "940": ("E07000150", "E07000152", "E07000153", "E07000156"),  # North Northamptonshire
    "941": ("E07000151", "E07000154", "E07000155"),  # West Northamptonshire
    "942": ("E07000026", "E07000028", "E07000029"),  # Cumberland
    "943": ("E07000027", "E07000030", "E07000031"),  # Westmorland and Furness
}


def default_census_dir() -> Path:
    """``../shared/data/census``."""
    return shared_data_dir() / "census"


def is_dc2101ew_file(path: str | Path) -> bool:
    """True when ``path`` is a Census 2011 DC2101EW nomis bulk CSV (recognised by its header)."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    header = _header(path)
    return {"date", "geography", "geography code"} <= set(header) and any(_HEADER.match(c) for c in header)


def read_dc2101ew_children(path: str | Path) -> pd.DataFrame:
    """Children aged 0-17 by ethnic group from one DC2101EW file (all persons).

    Parameters
    ----------
    path
        A nomis bulk CSV of DC2101EW (districts, regions or countries).

    Returns
    -------
    pandas.DataFrame
        Wide: index ``geography code``, columns ``geography`` (name), ``all`` (all children
        0-17) and the 18 census group labels (keys of :data:`CENSUS2011_GROUPS`).

    Raises
    ------
    InputError
        An unreadable header, a missing child age band or group, a non-integer count.
    """
    path = Path(path)
    return _read_dc2101ew_cached(*_file_key(path)).copy()


@functools.lru_cache(maxsize=4)
def _read_dc2101ew_cached(resolved: str, _mtime: float) -> pd.DataFrame:
    path = Path(resolved)
    name = display_path(path)
    raw = read_text_csv(path, name)
    _require_columns(raw, ("geography", "geography code"), name, "a nomis DC2101EW file")
    wanted = {(a, g): None for a in CHILD_AGE_BANDS for g in (_ALL_GROUPS, *CENSUS2011_GROUPS)}
    for column in raw.columns:
        m = _HEADER.match(column)
        if m and m["sex"] == "All persons" and (m["age"], m["group"]) in wanted:
            wanted[(m["age"], m["group"])] = column
    missing = [f"Sex: All persons; Age: {a}; Ethnic Group: {g}" for (a, g), c in wanted.items() if c is None]
    if missing:
        raise InputError([Problem(file=name, row=1, column=c, expected="this DC2101EW column")
                          for c in missing[:10]])
    columns = list(wanted.values())
    found = [p for c in columns for p in _problems_where(
        raw, ~raw[c].str.match(_INTEGER).fillna(False), c, name, "a whole-number count")]
    if found:
        raise InputError(found)
    counts = raw[columns].astype("int64")
    counts.columns = pd.MultiIndex.from_tuples(list(wanted))
    by_group = counts.T.groupby(level=1, sort=False).sum().T  # sum the six age bands
    by_group = by_group.rename(columns={_ALL_GROUPS: "all"})[["all", *CENSUS2011_GROUPS]]
    by_group.index = raw["geography code"].str.strip()
    by_group.insert(0, "geography", raw["geography"].str.strip().to_numpy())
    return by_group


def census2011_children_by_ethnicity(code: str | int = DEFAULT_LA, census_dir: str | Path | None = None
                                     ) -> pd.DataFrame:
    """Children aged 0-17 on 27 March 2011 in the census's 18 ethnic groups, for one area.

    Parameters
    ----------
    code
        England, a region or an English LA in any form :func:`resolve_area` accepts.
        A shire county is the sum of its districts; an LA created since 2019, the sum of the
        2011 districts it covers.
    census_dir
        Folder with the DC2101EW files and the LAD18 -> county lookup; ``None``:
        ``../shared/data/census``.

    Returns
    -------
    pandas.DataFrame
        18 rows in census order: ``geography_code, geography_name, census_group`` (nomis
        label), ``census_group_id``, ``group`` (the comparison group of
        :mod:`cpstats.ethnicity_map`; Arab and Any other share ``other``), ``children``,
        ``share_pct`` (of all children 0-17). ``attrs["total"]`` is the census total of
        children 0-17 and ``attrs["districts"]`` the GSS codes summed.

    Examples
    --------
    >>> census2011_children_by_ethnicity("825").attrs["total"]  # doctest: +SKIP
    115545
    """
    level, area, area_name = resolve_area(code)
    folder = Path(census_dir) if census_dir is not None else default_census_dir()
    table = read_dc2101ew_children(folder / DC2101EW_FILES[level])
    gss = _census_codes(level, area, folder, table)
    counts = table.loc[gss, ["all", *CENSUS2011_GROUPS]].sum()
    out = pd.DataFrame({
        "geography_code": area, "geography_name": area_name,
        "census_group": list(CENSUS2011_GROUPS),
        "census_group_id": list(CENSUS2011_GROUPS.values()),
        "group": [CENSUS2011_TO_GROUP[g] for g in CENSUS2011_GROUPS],
        "children": counts[list(CENSUS2011_GROUPS)].astype("int64").to_numpy(),
    })
    out["share_pct"] = 100 * out["children"] / counts["all"]
    out.attrs.update(total=int(counts["all"]), districts=list(gss),
                     source="Census 2011 DC2101EW, usual residents aged 0-17 on 27 March 2011")
    return out


def census2011_children_by_group(code: str | int = DEFAULT_LA, census_dir: str | Path | None = None
                                 ) -> pd.Series:
    """Children 0-17 in 2011 per comparison group (17 groups; Arab joins Any other), for
    :func:`cpstats.stats.disproportionality.disproportionality`."""
    table = census2011_children_by_ethnicity(code, census_dir)
    series = table.groupby("group", sort=False)["children"].sum()
    series.attrs = dict(table.attrs)
    return series.rename("children")


def read_census2011_children(codes: Iterable[str | int] | None = None,
                             census_dir: str | Path | None = None) -> pd.DataFrame:
    """Census 2011 children 0-17 by the 18 census ethnic groups, as facts.

    Parameters
    ----------
    codes
        Areas to include (any form :func:`resolve_area` takes); ``None``: England, the nine
        regions and every LA in the code table that the census covers.
    census_dir
        As in :func:`census2011_children_by_ethnicity`.

    Returns
    -------
    pandas.DataFrame
        Facts: measure ``population_0_17``, period ``2011-03-27``, breakdown
        ``census_group=<id>`` plus a ``total`` row, source ``ons``.
    """
    every = codes is None
    if every:
        las = geography.all_las()
        codes = [geography.ENGLAND_CODE, *sorted(las["region_code"].unique()), *sorted(las["old_la_code"].unique())]
    frames = []
    for code in codes:
        try:
            table = census2011_children_by_ethnicity(code, census_dir)
        except ParameterError:
            if every:  # an LA the 2011 geography cannot rebuild is left out, not an error
                continue
            raise
        level = resolve_area(code)[0]
        total = pd.DataFrame({"census_group_id": ["total"], "children": [table.attrs["total"]]})
        part = pd.concat([total, table[["census_group_id", "children"]]], ignore_index=True)
        part["geography_level"] = level
        part["geography_code"] = table["geography_code"].iloc[0]
        part["geography_name"] = table["geography_name"].iloc[0]
        part["note"] = ("Census 2011 DC2101EW, usual residents aged 0-17 (bands 0-4 to 16-17) on 27 March 2011; "
                        "sum of " + " ".join(table.attrs["districts"]))
        frames.append(part)
    long = pd.concat(frames, ignore_index=True)
    breakdown = ("census_group=" + long["census_group_id"]).where(long["census_group_id"] != "total", F.TOTAL)
    return F.sort(F.make_facts(long.assign(breakdown=breakdown, value=long["children"]),
                               period=CENSUS_DAY, measure=MEASURE, unit="count", source="ons"))


def _census_codes(level: str, area: str, folder: Path, table: pd.DataFrame) -> list[str]:
    """GSS codes in the census file whose rows make up ``area``."""
    if level != "local_authority":
        return [area] if area in table.index else _no_census(area)
    if area in _SUCCESSOR_DISTRICTS:
        return list(_SUCCESSOR_DISTRICTS[area])
    lookup = _county_lookup(folder)
    for gss in geography.gss_codes(area):
        if gss in table.index:
            return [gss]
        districts = lookup.loc[lookup["CTY18CD"] == gss, "LAD18CD"]
        if len(districts) and districts.isin(table.index).all():
            return sorted(districts)
    return _no_census(area)


def _no_census(area: str) -> list[str]:
    raise ParameterError("--la", area, "an area of England covered by the Census 2011 DC2101EW files")


def _county_lookup(folder: Path) -> pd.DataFrame:
    path = folder / LAD_COUNTY_LOOKUP
    if not path.is_file():
        raise InputError(Problem(file=display_path(path), expected="the LAD18 -> county lookup file"))
    return _county_lookup_cached(*_file_key(path))


@functools.lru_cache(maxsize=2)
def _county_lookup_cached(resolved: str, _mtime: float) -> pd.DataFrame:
    path = Path(resolved)
    frame = read_text_csv(path, display_path(path))
    _require_columns(frame, ("LAD18CD", "CTY18CD"), display_path(path), "the LAD18 -> county lookup")
    return frame


# ---------------------------------------------------------------------------------------------
# School census: pupils by ethnicity (shares only)

SCHOOL_CENSUS_FILE = "spc_pupils_ethnicity_and_language_201516_to_202122.csv.gz"
SCHOOL_CENSUS_COLUMNS = ("time_period", "geographic_level", "country_code", "country_name", "region_code",
                         "region_name", "old_la_code", "la_name", "phase_type_grouping", "ethnicity",
                         "language", "headcount")
#: School census label -> CIN Census ethnicity code (one to one); Unclassified kept apart.
SCHOOL_CENSUS_TO_CIN: dict[str, str] = {
    "White - White British": "WBRI", "White - Irish": "WIRI",
    "White - Traveller of Irish heritage": "WIRT", "White - Gypsy/Roma": "WROM",
    "White - Any other White background": "WOTH",
    "Mixed - White and Black Caribbean": "MWBC", "Mixed - White and Black African": "MWBA",
    "Mixed - White and Asian": "MWAS", "Mixed - Any other Mixed background": "MOTH",
    "Asian - Indian": "AIND", "Asian - Pakistani": "APKN", "Asian - Bangladeshi": "ABAN",
    "Asian - Any other Asian background": "AOTH", "Asian - Chinese": "CHNE",
    "Black - Black Caribbean": "BCRB", "Black - Black African": "BAFR",
    "Black - Any other Black background": "BOTH", "Any other ethnic group": "OOTH",
    "Unclassified": "unclassified",
}
#: First January (year ending 31 March) after the series break: 2017/18.
SCHOOL_CENSUS_BREAK = 2018
SCHOOL_CENSUS_CAVEAT = ("pupils in state-funded schools, counted where the school is (not where they live); "
                        "series break between 2016/17 and 2017/18")


def default_school_census_path() -> Path:
    """``../shared/data/dfe/school_census/spc_pupils_ethnicity_and_language_201516_to_202122.csv.gz``."""
    return shared_data_dir() / "dfe" / "school_census" / SCHOOL_CENSUS_FILE


def is_school_census_ethnicity_file(path: str | Path) -> bool:
    """True when ``path`` (CSV, optionally gzipped) has the school census ethnicity columns."""
    return _has_columns(Path(path), SCHOOL_CENSUS_COLUMNS)


def read_school_census_ethnicity(path: str | Path | None = None) -> pd.DataFrame:
    """Pupils by ethnicity (all school types, all languages) for England, regions and LAs, as facts.

    Parameters
    ----------
    path
        The school census CSV (``.csv`` or ``.csv.gz``) or its folder; ``None``: the copy in
        ``../shared/data/dfe/school_census/``.

    Returns
    -------
    pandas.DataFrame
        Facts: measure ``pupils``, source ``dfe``, period the census month (``2017-01`` for
        2016/17), breakdown ``ethnicity=<CIN code>`` (or ``unclassified``) plus ``total``.
        LAs keyed on ``old_la_code`` (the file keeps Buckinghamshire as E10000002).
    """
    file = _find_file(path, default_school_census_path(), is_school_census_ethnicity_file,
                      "a school census pupils-by-ethnicity CSV")
    return _read_school_cached(*_file_key(file)).copy()


@functools.lru_cache(maxsize=2)
def _read_school_cached(resolved: str, _mtime: float) -> pd.DataFrame:
    path = Path(resolved)
    name = display_path(path)
    raw = read_text_csv(path, name)
    _require_columns(raw, SCHOOL_CENSUS_COLUMNS, name, "the school census pupils-by-ethnicity file")
    raw = raw[(raw["phase_type_grouping"] == "Total") & (raw["language"] == "Total")].reset_index(drop=True)
    if raw.empty:
        raise InputError(Problem(file=name, column="phase_type_grouping",
                                 expected="rows with phase_type_grouping 'Total' and language 'Total'"))
    value, marker, found = _number_or_marker(raw, "headcount", name)
    level = raw["geographic_level"].map(_LEVELS)
    code = raw["ethnicity"].map({**SCHOOL_CENSUS_TO_CIN, "Total": F.TOTAL})
    is_la = level == "local_authority"
    found += _problems_where(raw, level.isna(), "geographic_level", name, f"one of {list(_LEVELS)}")
    found += _problems_where(raw, code.isna(), "ethnicity", name, "a school census ethnicity label")
    found += _problems_where(raw, ~raw["time_period"].str.fullmatch(r"\d{6}").fillna(False),
                             "time_period", name, "an academic year such as 201617")
    found += _problems_where(raw, is_la & ~raw["old_la_code"].isin(_known_las()), "old_la_code", name,
                             "a known DfE LA number (e.g. 825)")
    if found:
        raise InputError(found)
    january = raw["time_period"].str[:2] + raw["time_period"].str[4:]  # 201617 -> 2017
    series = (january.astype(int) < SCHOOL_CENSUS_BREAK).map(
        {True: "series to 2016/17", False: "series from 2017/18"})
    facts = pd.DataFrame({
        "geography_level": level,
        "geography_code": raw["old_la_code"].where(is_la, raw["region_code"].where(
            level == "regional", raw["country_code"])),
        "geography_name": raw["la_name"].where(is_la, raw["region_name"].where(
            level == "regional", raw["country_name"])),
        "period": january + "-01", "measure": "pupils",
        "breakdown": ("ethnicity=" + code).where(code != F.TOTAL, F.TOTAL),
        "value": value, "marker": marker, "unit": "count", "source": "dfe",
        "note": ("School census January " + january + " (" + raw["time_period"].str[:4] + "/"
                 + raw["time_period"].str[4:] + "), " + series + "; " + SCHOOL_CENSUS_CAVEAT),
    })
    return F.sort(F.validate(F.conform(facts), name))


def school_census_ethnicity_shares(code: str | int = DEFAULT_LA, year: int | str = DEFAULT_YEAR, *,
                                   path: str | Path | None = None) -> pd.DataFrame:
    """Pupils' shares by ethnicity in the school census held in a reporting year.

    Parameters
    ----------
    code
        England, a region or an LA (any form :func:`resolve_area` takes).
    year
        Reporting year ending 31 March; its January census is used (2017 or ``"2016-17"``:
        January 2017, academic year 2016/17).
    path
        As in :func:`read_school_census_ethnicity`.

    Returns
    -------
    pandas.DataFrame
        One row per ethnicity (18 CIN codes and ``unclassified``): ``ethnicity, label, group``
        (comparison group), ``pupils``, ``share_pct`` (of all pupils), ``share_known_pct``
        (of pupils with a classified ethnicity; blank for unclassified), ``period``,
        ``series``. Pupils are counted where their school is, so an LA's shares describe its
        schools, not its resident children.

    Raises
    ------
    ParameterError
        An unknown area or a year outside the file.
    """
    _, area, _ = resolve_area(code)
    january = parse_year(year)
    period = f"{january}-01"
    pupils = read_school_census_ethnicity(path)
    rows = F.select(pupils, geography_code=area, period=period)
    if rows.empty:
        years = sorted(pupils["period"].str[:4].unique())
        raise ParameterError("--year", year, f"a reporting year with a school census ({years[0]} to {years[-1]})")
    by_code = rows.set_index("breakdown")["value"]
    total = by_code[F.TOTAL]
    labels = {cin: label for label, cin in SCHOOL_CENSUS_TO_CIN.items()}
    out = pd.DataFrame({"ethnicity": list(labels)})
    out["label"] = out["ethnicity"].map(labels)
    out["group"] = out["label"].map(SCHOOL_CENSUS_TO_GROUP)
    out["pupils"] = by_code.reindex("ethnicity=" + out["ethnicity"]).to_numpy()
    known = out.loc[out["ethnicity"] != "unclassified", "pupils"].sum()
    out["share_pct"] = 100 * out["pupils"] / total
    out["share_known_pct"] = (100 * out["pupils"] / known).where(out["ethnicity"] != "unclassified")
    out["period"] = period
    out["series"] = "series to 2016/17" if january < SCHOOL_CENSUS_BREAK else "series from 2017/18"
    out.attrs.update(total=float(total), caveat=SCHOOL_CENSUS_CAVEAT)
    return out


# ---------------------------------------------------------------------------------------------
# Finding files and checking them (for ``cpstats check``)


def _header(path: Path) -> list[str]:
    try:
        return list(pd.read_csv(path, dtype=str, encoding="utf-8-sig", nrows=0).columns)
    except (ValueError, UnicodeDecodeError, OSError, EOFError, pd.errors.ParserError):
        return []


def _has_columns(path: Path, columns: Iterable[str]) -> bool:
    if not path.is_file() or not path.name.lower().endswith((".csv", ".csv.gz")):
        return False
    return set(columns) <= set(_header(path))


def _find_file(path: str | Path | None, default: Path, recognise: Callable[[Path], bool],
               what: str) -> Path:
    """``path`` itself, the one file in a folder that ``recognise`` accepts, or ``default``."""
    chosen = default if path is None else Path(path)
    if chosen.is_dir():
        hits = sorted(p for p in chosen.iterdir() if recognise(p))
        if len(hits) != 1:
            found = ", ".join(p.name for p in hits) or "none"
            raise InputError(Problem(file=display_path(chosen), value=found,
                                     expected=f"exactly one {what} in this folder"))
        return hits[0]
    if not chosen.is_file():
        raise InputError(Problem(file=display_path(chosen), expected=f"{what} (file not found)"))
    return chosen


def check_population_file(path: str | Path) -> list[Problem]:
    """Every problem in an ONS, DC2101EW or school census file (empty when clean)."""
    path = Path(path)
    for _, recognise, read, _ in _FORMATS:
        if recognise(path):
            return problems_when_reading(read)(path)
    return [Problem(file=display_path(path), expected="an ONS population, Census 2011 DC2101EW or "
                    "school census ethnicity file")]


def is_county_lookup_file(path: str | Path) -> bool:
    """True when ``path`` is the ONS LAD18 -> county lookup CSV."""
    return _has_columns(Path(path), ("LAD18CD", "CTY18CD"))


def _read_county_lookup_file(path: Path) -> pd.DataFrame:
    name = display_path(path)
    frame = read_text_csv(path, name)
    _require_columns(frame, ("LAD18CD", "CTY18CD"), name, "the LAD18 -> county lookup")
    found = _problems_where(frame, ~frame["LAD18CD"].str.fullmatch(r"E0[6-9]\d{6}").fillna(False),
                            "LAD18CD", name, "an English district GSS code (E06-E09...)")
    found += _problems_where(frame, ~frame["CTY18CD"].str.fullmatch(r"E1[013]\d{6}").fillna(False),
                             "CTY18CD", name, "a county GSS code (E10/E11/E13...)")
    if found:
        raise InputError(found)
    return frame


def is_school_census_meta_file(path: str | Path) -> bool:
    """True when ``path`` is a DfE metadata CSV (``col_name, col_type, label ...``)."""
    return _has_columns(Path(path), ("col_name", "col_type", "label"))


def _read_school_census_meta(path: Path) -> pd.DataFrame:
    name = display_path(path)
    frame = read_text_csv(path, name)
    _require_columns(frame, ("col_name", "col_type", "label"), name, "a DfE metadata file")
    found = _problems_where(frame, ~frame["col_type"].isin(["Filter", "Indicator"]), "col_type", name,
                            "Filter or Indicator")
    if found:
        raise InputError(found)
    return frame


def is_census_extract_file(path: str | Path) -> bool:
    """True when ``path`` is the shipped extract of Census 2011 children 0-17 by census group
    (``cpstats reference build`` writes it)."""
    return _has_columns(Path(path), ("geography_code", "total", *CENSUS2011_GROUPS.values()))


def _read_census_extract(path: Path) -> pd.DataFrame:
    name = display_path(path)
    frame = read_text_csv(path, name)
    groups = list(CENSUS2011_GROUPS.values())
    counts = frame[["total", *groups]]
    found: list[Problem] = []
    for column in counts.columns:
        found += _problems_where(frame, ~counts[column].str.fullmatch(r"\d+").fillna(False), column,
                                 name, "a whole number of children")
    if found:
        raise InputError(found)
    numbers = counts.astype("int64")
    found = _problems_where(frame, numbers[groups].sum(axis=1) != numbers["total"], "total", name,
                            "the sum of the census groups")
    if found:
        raise InputError(found)
    return frame


_FORMATS = (
    ("ons_population", is_ons_population_file, read_ons_population,
     "ONS mid-year population estimates of children aged 0-17 (DfE's CSV)"),
    ("school_census_ethnicity", is_school_census_ethnicity_file, read_school_census_ethnicity,
     "DfE school census pupils by ethnicity and language (CSV or CSV.GZ)"),
    ("census2011_dc2101ew", is_dc2101ew_file, read_dc2101ew_children,
     "Census 2011 DC2101EW ethnic group by sex by age, nomis bulk CSV"),
    ("dfe_metadata", is_school_census_meta_file, _read_school_census_meta,
     "DfE data-file metadata (col_name, col_type, label), e.g. the school census _meta.csv"),
    ("lad18_county_lookup", is_county_lookup_file, _read_county_lookup_file,
     "ONS local authority district to county lookup (LAD18CD, CTY18CD)"),
    ("census2011_children_extract", is_census_extract_file, _read_census_extract,
     "the shipped extract of Census 2011 children aged 0-17 by ethnic group (data/reference)"),
)
for _name, _recognise, _read, _description in _FORMATS:
    register_checker(_name, _recognise, problems_when_reading(_read), _description)


# ---------------------------------------------------------------------------------------------
# Census 2021: ethnic group, ALL AGES (a sensitivity check only, never a child denominator)

CENSUS2021_FILE = "ons-ethnic-population-la.csv"
#: Census 2021 ethnic group code (20 categories) -> comparison group; -8 (does not apply) left out.
CENSUS2021_TO_GROUP: dict[int, str] = {
    1: "asian_bangladeshi", 2: "chinese", 3: "asian_indian", 4: "asian_pakistani",
    5: "asian_other", 6: "black_african", 7: "black_caribbean", 8: "black_other",
    9: "mixed_white_asian", 10: "mixed_white_black_african", 11: "mixed_white_black_caribbean",
    12: "mixed_other", 13: "white_british", 14: "white_irish", 15: "gypsy_roma_irish_traveller",
    16: "gypsy_roma_irish_traveller", 17: "white_other", 18: "other", 19: "other",
}


@functools.lru_cache(maxsize=2)
def read_census2021_ethnicity(path: str | Path | None = None) -> pd.DataFrame:
    """Residents of ALL AGES by comparison group and upper-tier LA (2023 boundaries), Census
    2021: one row per GSS code, one column per group. All ages: adults are less diverse than
    children, so this is never a denominator for children, only a sensitivity check.

    Parameters
    ----------
    path
        ``ons-ethnic-population-la.csv``; ``None``: the copy in ``../shared/data/census/``.

    Raises
    ------
    InputError
        When the file is absent or lacks its columns.
    """
    path = Path(path) if path else shared_data_dir() / "census" / CENSUS2021_FILE
    if not path.is_file():
        raise InputError(Problem(file=str(path), expected="the Census 2021 ethnic group file "
                                 "(ons-ethnic-population-la.csv)"))
    raw = pd.read_csv(path, encoding="utf-8-sig")
    columns = list(raw.columns)
    if len(columns) != 5:
        raise InputError(Problem(file=str(path), value=", ".join(columns),
                                 expected="area code, area name, group code, group, Observation"))
    code, group, count = raw.iloc[:, 0].astype(str), raw.iloc[:, 2], raw.iloc[:, 4]
    kept = group.isin(list(CENSUS2021_TO_GROUP))
    frame = pd.DataFrame({"geography_code": code[kept], "group": group[kept].map(CENSUS2021_TO_GROUP),
                          "value": pd.to_numeric(count[kept], errors="raise")})
    return frame.pivot_table(index="geography_code", columns="group", values="value",
                             aggfunc="sum")
