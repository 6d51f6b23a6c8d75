"""English local authorities: codes, names, regions, reorganisations, statistical neighbours.

Facts key an LA by its DfE three-digit number (``old_la_code``, "825" for
Buckinghamshire), which survives GSS recodings such as E10000002 -> E06000060.
The code table ships as package data (``resources/la_codes.csv``), one row per
(LA, GSS code) with the reporting years (years ending 31 March) the GSS code
was in force. It is built from the DfE *Characteristics of children in need*
release by :func:`build_la_table` plus the changes the release does not show
(:data:`_GSS_HISTORY`, :data:`_REPLACED_BY`, :data:`_LATER_LAS`).

Reorganisations handled (first reporting year of the new code):

- Dorset 835, Poole 836, Bournemouth 837 -> Dorset 838, BCP 839 (2019-20);
- Buckinghamshire 825: E10000002 -> E06000060 (2020-21), same DfE number;
- Northamptonshire 928 -> North 940, West 941 Northamptonshire (2021-22);
- Cumbria 909 -> Cumberland 942, Westmorland and Furness 943 (2023-24);
- North Yorkshire 815: E10000023 -> E06000065, Somerset 933: E10000027 -> E06000066 (2023-24);
- Gateshead 390: E08000020 -> E08000037, Northumberland 929: E06000048 -> E06000057 (2013-14).
"""

from __future__ import annotations

import difflib
import functools
import io
import re
from importlib import resources
from pathlib import Path

import pandas as pd

from cpstats.defaults import ENGLAND_CODE as ENGLAND_CODE  # defined once, in defaults
from cpstats.defaults import ENGLAND_NAME as ENGLAND_NAME
from cpstats.errors import InputError, ParameterError, Problem, display_path

LONDON = ("E12000007", "London")

#: Columns of the shipped LA code table, in order.
LA_COLUMNS = (
    "old_la_code", "la_name", "gss_code", "first_year", "last_year",
    "region_code", "region_name", "subregion_code", "subregion_name", "replaced_by",
)

# LAs whose GSS code changed while the DfE number stayed: (gss, first_year, last_year), years
# ending 31 March, None = open. The DfE 2022 release recodes history to the newest code in most
# files (Buckinghamshire is E06000060 back to 2013 except in d3), so the release cannot show this.
# Sources: ONS Register of Geographic Codes; ONS mid-year estimates (Bucks E06000060 from mid-2020).
_GSS_HISTORY: dict[str, tuple[tuple[str, int | None, int | None], ...]] = {
    "390": (("E08000020", None, 2013), ("E08000037", 2014, None)),
    "929": (("E06000048", None, 2013), ("E06000057", 2014, None)),
    "825": (("E10000002", None, 2020), ("E06000060", 2021, None)),
    "815": (("E10000023", None, 2023), ("E06000065", 2024, None)),
    "933": (("E10000027", None, 2023), ("E06000066", 2024, None)),
}
# Abolished LA -> the LAs that took over its area.
_REPLACED_BY: dict[str, tuple[str, ...]] = {
    "835": ("838",), "836": ("839",), "837": ("839",),
    "928": ("940", "941"), "909": ("942", "943"),
}
# Last reporting year of LAs abolished after the release ends.
_LAST_YEAR: dict[str, int] = {"909": 2023}
# LAs created after the 2022 release (from 1 April 2023), as in the ONS population file.
_LATER_LAS: tuple[dict[str, object], ...] = tuple(
    {"old_la_code": code, "la_name": name, "gss_code": gss, "first_year": 2024, "last_year": None,
     "region_code": "E12000002", "region_name": "North West"}
    for code, name, gss in (("942", "Cumberland", "E06000063"),
                            ("943", "Westmorland and Furness", "E06000064"))
)
_SUBREGIONS = {"E13000001": "Inner London", "E13000002": "Outer London"}
_LA_NUMBER = re.compile(r"^\d{3}$")
_GSS = re.compile(r"^E\d{8}$")


# ---------------------------------------------------------------------------------------------
# Public lookups


def la_code(code_or_name: str | int) -> str:
    """The DfE three-digit LA number for a DfE number, any current or former GSS code, or a name.

    Names match case-insensitively, ignoring punctuation, ``&``/``and`` and a trailing
    ", City of" / ", County of". A name shared by an abolished and a current LA (Dorset)
    gives the current one; use the number (835) for the other.

    Parameters
    ----------
    code_or_name
        e.g. ``"825"``, ``"E10000002"``, ``"E06000060"`` or ``"buckinghamshire"``.

    Returns
    -------
    str
        The DfE LA number, e.g. ``"825"``.

    Raises
    ------
    ParameterError
        Unknown or ambiguous input (naming ``--la``, with close names as suggestions).

    Examples
    --------
    >>> la_code("buckinghamshire"), la_code("E10000002"), la_code("E06000060")
    ('825', '825', '825')
    """
    text = str(code_or_name).strip()
    index = _index()
    key = text.upper() if _GSS.match(text.upper()) else _normalise(text)
    matches = index.get(text.upper()) or index.get(key) or set()
    if len(matches) > 1:
        table = _table()
        current = {c for c in matches if _is_current(table, c)}
        matches = current if len(current) == 1 else matches
    if len(matches) == 1:
        return next(iter(matches))
    expected = "a DfE LA number (e.g. 825), a GSS code (e.g. E06000060) or an English LA name"
    if matches:
        options = ", ".join(f"{c} ({la_name(c)})" for c in sorted(matches))
        raise ParameterError("--la", code_or_name, f"{expected}; it matches several: {options}")
    raise ParameterError("--la", code_or_name, expected + _suggestion(text))


def la_name(code: str | int) -> str:
    """The LA's name as DfE publishes it (e.g. ``"Buckinghamshire"``); any form :func:`la_code` takes."""
    return _facts_of(la_code(code))[0]


def la_slug(code: str | int) -> str:
    """A folder-safe name, e.g. ``"buckinghamshire"``, ``"bristol"``, ``"bournemouth_christchurch_and_poole"``.

    An abolished LA whose name a current one reuses gets its number appended (``"dorset_835"``).
    """
    number = la_code(code)
    slug = _normalise(_short_name(la_name(number))).replace(" ", "_")
    table = _table()
    namesakes = table.loc[table["la_name"] == la_name(number), "old_la_code"].unique()
    if len(namesakes) > 1 and not _is_current(table, number):
        slug = f"{slug}_{number}"
    return slug


def region_of(code: str | int) -> tuple[str, str]:
    """The LA's region as (GSS code, name), e.g. ``("E12000008", "South East")``.

    London boroughs give London (E12000007); their inner/outer sub-region is in :func:`all_las`.
    """
    return _facts_of(la_code(code))[2]


def gss_codes(code: str | int) -> list[str]:
    """Every GSS code the LA has had, oldest first (``["E10000002", "E06000060"]`` for 825)."""
    return list(_facts_of(la_code(code))[1])


def gss_code(code: str | int, year: int | None = None) -> str:
    """The LA's GSS code in force in the year ending 31 March ``year`` (the latest if None).

    Raises
    ------
    ParameterError
        When the LA did not exist in ``year``.
    """
    rows = _rows(code)
    if year is None:
        return str(rows["gss_code"].iloc[-1])
    first = rows["first_year"].fillna(0).astype(int)
    last = rows["last_year"].fillna(9999).astype(int)
    hit = rows[(first <= year) & (last >= year)]
    if hit.empty:
        raise ParameterError("--year", year, f"a year in which {la_name(code)} existed")
    return str(hit["gss_code"].iloc[0])


def all_las() -> pd.DataFrame:
    """The LA code table: one row per (LA, GSS code), columns :data:`LA_COLUMNS`.

    ``first_year``/``last_year`` are years ending 31 March (missing: before the table's
    first year / still in force); ``replaced_by`` lists successor LA numbers joined by ``;``.
    """
    return _table().copy()


def current_las(year: int | None = None) -> list[str]:
    """DfE numbers of the LAs that existed in the year ending 31 March ``year`` (default: now), sorted."""
    table = _table()
    first = table["first_year"].fillna(0).astype(int)
    last = table["last_year"].fillna(9999).astype(int)
    when = 9998 if year is None else year
    return sorted(table.loc[(first <= when) & (last >= when), "old_la_code"].unique().tolist())


def statistical_neighbours(code: str | int) -> list[str]:
    """The LA's ten statistical neighbours, closest first (DfE model, April 2021).

    Parameters
    ----------
    code
        Any form :func:`la_code` accepts.

    Returns
    -------
    list of str
        DfE LA numbers, e.g. ``statistical_neighbours("825")[0] == "936"`` (Surrey).

    Raises
    ------
    ParameterError
        When the 2021 model has no row for the LA (e.g. Cumberland, created in 2023).
    """
    number = la_code(code)
    model = _neighbours()
    rows = model[model["old_la_code"] == number].sort_values("rank")
    if rows.empty:
        raise ParameterError("--la", code, "an LA in DfE's 2021 statistical-neighbour model")
    return rows["neighbour_code"].tolist()


def _is_current(table: pd.DataFrame, number: str) -> bool:
    return bool(table.loc[table["old_la_code"] == number, "last_year"].isna().any())


def _rows(code: str | int) -> pd.DataFrame:
    table = _table()
    return table[table["old_la_code"] == la_code(code)]


@functools.cache
def _facts_of(number: str) -> tuple[str, tuple[str, ...], tuple[str, str]]:
    """(name, GSS codes oldest first, region) of a DfE LA number; cached, readers call it often."""
    rows = _table()[_table()["old_la_code"] == number]
    last = rows.iloc[-1]
    return (str(last["la_name"]), tuple(str(c) for c in rows["gss_code"]),
            (str(last["region_code"]), str(last["region_name"])))


def _normalise(name: str) -> str:
    text = name.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _short_name(name: str) -> str:
    """'Bristol, City of' -> 'Bristol'; 'Dorset (Pre LG)' -> 'Dorset'."""
    return re.sub(r",\s*(city|county) of$|\s*\(pre lg\)$", "", name.strip(), flags=re.IGNORECASE)


def _suggestion(text: str) -> str:
    names = sorted(set(_table()["la_name"]))
    by_key = {_normalise(_short_name(n)): n for n in names}
    close = difflib.get_close_matches(_normalise(text), list(by_key), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(by_key[c]) for c in close)}?" if close else ""


@functools.cache
def _table() -> pd.DataFrame:
    text = (resources.files("cpstats") / "resources" / "la_codes.csv").read_text("utf-8")
    return _parse_la_table(text)


def _parse_la_table(text: str) -> pd.DataFrame:
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    for column in ("first_year", "last_year"):
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    return table


@functools.cache
def _index() -> dict[str, set[str]]:
    table = _table()
    index: dict[str, set[str]] = {}
    keys = pd.concat([
        table[["old_la_code"]].assign(key=table["old_la_code"]),
        table[["old_la_code"]].assign(key=table["gss_code"]),
        table[["old_la_code"]].assign(key=table["la_name"].map(_normalise)),
        table[["old_la_code"]].assign(key=table["la_name"].map(lambda n: _normalise(_short_name(n)))),
    ])
    for key, group in keys.groupby("key")["old_la_code"]:
        index[str(key)] = set(group)
    return index


@functools.cache
def _neighbours() -> pd.DataFrame:
    path = resources.files("cpstats") / "resources" / "statistical_neighbours.csv"
    return pd.read_csv(io.StringIO(path.read_text("utf-8")), dtype=str).astype({"rank": int})


# ---------------------------------------------------------------------------------------------
# Building the shipped tables from published files (run when a new release changes LAs)


def build_la_table(release_dir: str | Path) -> pd.DataFrame:
    """Build the LA code table from a DfE CIN release folder plus the hand-kept changes above.

    Parameters
    ----------
    release_dir
        Folder of a *Characteristics of children in need* release's underlying CSVs.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LA_COLUMNS`, sorted by LA number then first year.
    """
    rows = _release_la_rows(Path(release_dir))
    final_year = int(rows["time_period"].max())
    latest = rows.sort_values(["time_period", "new_la_code"]).groupby("old_la_code").last()
    years = rows.groupby("old_la_code")["time_period"].agg(["min", "max"])
    earliest = int(rows["time_period"].min())
    la = latest[["la_name", "new_la_code", "region_code", "region_name"]].join(years)
    la["first_year"] = la["min"].where(la["min"] > earliest)
    la["last_year"] = la["max"].where(la["max"] < final_year)
    la = la.rename(columns={"new_la_code": "gss_code"}).reset_index()
    la = pd.concat([la, pd.DataFrame(list(_LATER_LAS))], ignore_index=True)
    abolished_later = la["old_la_code"].map(_LAST_YEAR).astype("Float64")
    la["last_year"] = abolished_later.fillna(pd.to_numeric(la["last_year"]).astype("Float64"))
    la = _apply_gss_history(la)
    london = la["region_code"].isin(list(_SUBREGIONS))
    la["subregion_code"] = la["region_code"].where(london)
    la["subregion_name"] = la["region_code"].map(_SUBREGIONS)
    la["region_code"] = la["region_code"].mask(london, LONDON[0])
    la["region_name"] = la["region_name"].mask(london, LONDON[1])
    la["replaced_by"] = la["old_la_code"].map(lambda c: ";".join(_REPLACED_BY.get(c, ())) or None)
    for column in ("first_year", "last_year"):
        la[column] = pd.to_numeric(la[column]).astype("Int64")
    la = la.sort_values(["old_la_code", "first_year"], na_position="first", kind="stable")
    return la[list(LA_COLUMNS)].astype({c: "string" for c in LA_COLUMNS if "year" not in c})


def _apply_gss_history(la: pd.DataFrame) -> pd.DataFrame:
    """Replace the single GSS code of LAs in :data:`_GSS_HISTORY` with one row per code."""
    history = pd.DataFrame(
        [(number, gss, first, last) for number, codes in _GSS_HISTORY.items()
         for gss, first, last in codes],
        columns=["old_la_code", "gss_code", "first_year", "last_year"],
    )
    keep = la[~la["old_la_code"].isin(list(_GSS_HISTORY))]
    changed = la[la["old_la_code"].isin(list(_GSS_HISTORY))].drop(
        columns=["gss_code", "first_year", "last_year"])
    return pd.concat([keep, changed.merge(history, on="old_la_code")], ignore_index=True)


def _release_la_rows(release_dir: Path) -> pd.DataFrame:
    wanted = ["time_period", "geographic_level", "old_la_code", "new_la_code", "la_name",
              "region_code", "region_name"]
    frames = []
    for path in sorted(release_dir.glob("*.csv")):
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        if set(wanted) <= set(header):
            frames.append(pd.read_csv(path, usecols=wanted, dtype=str, encoding="utf-8-sig"))
    if not frames:
        raise InputError(Problem(file=display_path(release_dir),
                                 expected=f"DfE CIN CSVs with columns {wanted}"))
    rows = pd.concat(frames).drop_duplicates()
    rows = rows[rows["geographic_level"] == "Local authority"]
    return rows.assign(time_period=rows["time_period"].astype(int)).drop(columns="geographic_level")


#: Columns of DfE's statistical-neighbour file (its ``SNP`` headers repeat; read by position).
_SN_HEADER = ["LA num", "LA Name", "LA number", "GOInd", "GOReg"] + [
    h for i in range(1, 11) for h in (f"SN{i}", "SNP")]


def build_statistical_neighbours(path: str | Path) -> pd.DataFrame:
    """Tidy DfE's statistical-neighbour file: one row per (LA, rank).

    The file has a BOM, duplicate ``SNP`` headers, a trailing empty column and a blank row
    before the pre-reorganisation LAs ("Dorset (Pre LG)" ...).

    Returns
    -------
    pandas.DataFrame
        ``old_la_code, la_name, rank, neighbour_code, closeness``.
    """
    raw = pd.read_csv(path, header=None, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    header = raw.iloc[0].tolist()
    if header[: len(_SN_HEADER)] != _SN_HEADER or any(header[len(_SN_HEADER):]):
        raise InputError(Problem(file=display_path(path), row=1, value=",".join(header),
                                 expected=f"DfE statistical-neighbour columns {_SN_HEADER}"))
    body = raw.iloc[1:, : len(_SN_HEADER)]
    body = body[body.iloc[:, 0] != ""].drop_duplicates()
    codes = body.iloc[:, 0]
    long = pd.concat(
        [pd.DataFrame({"old_la_code": codes, "la_name": body.iloc[:, 1].map(_short_name),
                       "rank": rank, "neighbour_code": body.iloc[:, 3 + 2 * rank],
                       "closeness": body.iloc[:, 4 + 2 * rank]})
         for rank in range(1, 11)],
        ignore_index=True,
    )
    bad = long[~long["neighbour_code"].str.fullmatch(r"\d{3}")]
    if not bad.empty:
        raise InputError([Problem(file=display_path(path), column=f"SN{r}", value=v,
                                  expected="a DfE LA number") for r, v in
                          zip(bad["rank"], bad["neighbour_code"], strict=True)])
    return long.sort_values(["old_la_code", "rank"], kind="stable").reset_index(drop=True)


def write_resources(shared_data: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Rebuild ``la_codes.csv`` and ``statistical_neighbours.csv`` from ``../shared/data``.

    ``out_dir`` defaults to the package's ``resources`` folder.
    """
    shared = Path(shared_data)
    out = Path(out_dir) if out_dir else Path(__file__).parent / "resources"
    tables = {
        "la_codes.csv": build_la_table(shared / "dfe" / "cin_2022"),
        "statistical_neighbours.csv": build_statistical_neighbours(
            shared / "dfe" / "statistical_neighbours_2021.csv"),
    }
    written = []
    for name, table in tables.items():
        target = out / name
        tmp = target.with_suffix(".tmp")
        table.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(target)
        written.append(target)
    _table.cache_clear()
    _index.cache_clear()
    _facts_of.cache_clear()
    _neighbours.cache_clear()
    return written
