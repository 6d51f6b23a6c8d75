"""Write :class:`~cpstats.childlevel.CinData` as an Ofsted Annex A workbook (Lists 3, 5, 7).

Used for the synthetic county, so the whole Annex A path is tested without a real
child. The workbook is what a council would extract on ``extract_date``: List 3 the
referrals and List 5 the section 47 enquiries of the window (the ``window_months``
before it), List 7 every plan open on that day or ended in the window, nothing dated
after it. It is deliberately messy in the ways councils' workbooks are: sheet names
and headers vary, coded answers are written three ways (``a) Male``, ``Male``, ``M``)
and dates four (Excel date, Excel serial number, ISO text, ``dd/mm/yyyy``). Every
list carries made-up allocated team and worker names and a free-text column, which
the reader must drop. :func:`cpstats.io.annex_a.read_annex_a` reads it back.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats import codes
from cpstats.childlevel import CinData

#: Made-up names for the allocated worker and team columns (no real person).
WORKER_FIRST = ("Avery", "Blake", "Carmen", "Dario", "Esme", "Farid", "Greta", "Hollis",
                "Ines", "Jory", "Kemal", "Lorna", "Mireille", "Nadim", "Orla", "Piet")
WORKER_LAST = ("Quenby", "Rothwell", "Sallow", "Tremayne", "Umfreville", "Vantongeren",
               "Wexcombe", "Yarborough", "Zellweger", "Ashdown", "Brackley", "Cottesmore")
TEAMS = ("Synthetic Locality {} Team", "Synthetic Duty Team {}", "Synthetic CP Unit {}")
#: Free text a council might keep (the reader must never keep it).
NOTES = ("synthetic note: family moved recently", "synthetic note: school raised concern",
         "synthetic note: see case file")

SYNTHETIC_CREATOR = "cpstats synthetic county (not real data)"
#: Header variants per kept column (one chosen per workbook).
HEADERS = {
    "child_id": ("Child Unique ID", "Child ID", "Unique Child ID", "LA Child ID"),
    "gender": ("Gender", "Sex"),
    "ethnicity": ("Ethnicity", "Ethnic group"),
    "birth": ("Date of Birth", "DOB", "Date of birth"),
    "age": ("Age", "Age of Child (Years)"),
    "disabled": ("Does the Child have a Disability", "Disability"),
    "referral_date": ("Date of Referral", "Date of referral", "Referral Date"),
    "referral_source": ("Referral Source", "Source of referral"),
    "nfa": ("Referral NFA?", "Referral NFA", "No Further Action?"),
    "s47_start_date": ("Strategy discussion initiating Section 47 Enquiry Start Date",
                       "S47 start date", "Section 47 Enquiry Start Date"),
    "icpc_not_required": ("Was an Initial Child Protection Conference deemed unnecessary?",
                          "ICPC not required"),
    "icpc_date": ("Date of Initial Child Protection Conference", "ICPC date",
                  "Date of ICPC"),
    "icpc_outcome": ("Did the Initial Child Protection Conference Result in a Child "
                     "Protection Plan", "ICPC outcome: CP plan?"),
    "start_date": ("Child Protection Plan Start Date", "CP Plan Start Date",
                   "CPP start date"),
    "initial_category": ("Initial Category of Abuse", "Initial category"),
    "latest_category": ("Latest Category of Abuse", "Latest category"),
    "review_date": ("Date of latest review conference", "Latest review date",
                    "Date of Last Review"),
    "end_date": ("Child Protection Plan End Date", "CP Plan End Date", "CPP end date"),
    "previous_plans": ("Number of Previous Child Protection Plans",
                       "Number of previous CP plans"),
    "team": ("Allocated Team",),
    "worker": ("Allocated Worker", "Allocated Social Worker"),
    "notes": ("Case notes", "Comments"),
}
SHEET_NAMES = {3: ("List 3", "List_3 Referrals", "L3 - Referrals"),
               5: ("List 5", "List 5 - S47 and ICPC", "L5 Section 47"),
               7: ("List 7", "List_7 CP plans", "L7 - Child Protection")}
CATEGORY_LABEL = {"NEG": "Neglect", "PHY": "Physical abuse", "SAB": "Sexual abuse",
                  "EMO": "Emotional abuse", "MUL": "Multiple/not recommended"}
GENDER_LABEL = {"male": ("a) Male", "Male", "M"), "female": ("b) Female", "Female", "F"),
                "unknown": ("c) Not stated/recorded", "Not stated", "U")}
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def write_annex_a(data: CinData, path: str | Path, extract_date: date | None = None, *,
                  la_child_ids: pd.Series | None = None, window_months: int = 6,
                  seed: int = 0, messy: bool = True) -> Path:
    """Write the Annex A a council would extract from ``data`` on ``extract_date``.

    Parameters
    ----------
    data
        The records (e.g. the synthetic county's).
    path
        The .xlsx file (written to a temporary file, then renamed).
    extract_date
        The day of the extract (default ``data.reference_date``).
    la_child_ids
        The LA's own ID for each ``child_id`` (index); default: the ``child_id``.
    window_months
        Months of referrals, s47s and ended plans listed before the extract date.
    seed
        Chooses headers, sheet names and the style of each answer and date.
    messy
        Vary headers, codes and date formats (False: Ofsted's plain layout).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import openpyxl

    extract = pd.Timestamp(extract_date or data.reference_date)
    first = extract - pd.DateOffset(months=window_months) + pd.Timedelta(days=1)
    rng = np.random.default_rng(seed)
    style = _Style(rng, messy)
    ids = la_child_ids if la_child_ids is not None else pd.Series(
        data.children["child_id"].to_numpy(), index=data.children["child_id"])
    lists = {3: _list3(data, first, extract), 5: _list5(data, first, extract),
             7: _list7(data, first, extract)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook(write_only=True)
    book.properties.creator = SYNTHETIC_CREATOR  # anyone opening it can see it is not real
    for number, frame in lists.items():
        frame = _with_child(frame, data.children, ids, extract)
        sheet = book.create_sheet(style.pick(SHEET_NAMES[number]))
        columns = [c for c in frame.columns if c != "child_id_hashed"]
        sheet.append([style.pick(HEADERS[c]) for c in columns])
        cells = [style.render(c, frame[c]) for c in columns]
        for row in zip(*cells, strict=True):  # openpyxl writes a row at a time
            sheet.append(row)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def annex_a_name(extract_date: date) -> str:
    """The file name the reader takes the extract date from: ``annex_a_2017-03-31.xlsx``."""
    return f"annex_a_{pd.Timestamp(extract_date).date().isoformat()}.xlsx"


# ---------------------------------------------------------------------------------------------
# What each list holds on the extract date


def _in(dates: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    return ((dates >= first) & (dates <= last)).fillna(False)


def _list3(data: CinData, first: pd.Timestamp, extract: pd.Timestamp) -> pd.DataFrame:
    ref = data.referrals[_in(data.referrals["referral_date"], first, extract)]
    return pd.DataFrame({"child_id": ref["child_id"], "referral_date": ref["referral_date"],
                         "referral_source": ref["referral_source"], "nfa": ref["nfa"]})


def _list5(data: CinData, first: pd.Timestamp, extract: pd.Timestamp) -> pd.DataFrame:
    s47 = data.s47s[_in(data.s47s["s47_start_date"], first, extract)]
    icpc = s47["icpc_date"].where(s47["icpc_date"] <= extract)
    plans = data.cp_plans[data.cp_plans["start_date"] <= extract]
    led = s47[["child_id", "cin_id"]].assign(_i=np.arange(len(s47)), icpc=icpc.to_numpy()).merge(
        plans[["child_id", "cin_id", "start_date"]], on=["child_id", "cin_id"], how="left")
    led = led[led["start_date"] >= led["icpc"]]
    outcome = pd.Series(np.isin(np.arange(len(s47)), led["_i"]), index=s47.index)
    return pd.DataFrame({"child_id": s47["child_id"], "s47_start_date": s47["s47_start_date"],
                         "icpc_not_required": s47["icpc_not_required"], "icpc_date": icpc,
                         "icpc_outcome": outcome.where(icpc.notna())})


def _list7(data: CinData, first: pd.Timestamp, extract: pd.Timestamp) -> pd.DataFrame:
    plans = data.cp_plans
    started = plans["start_date"] <= extract
    listed = started & (plans["end_date"].isna() | (plans["end_date"] >= first))
    plans = plans[listed]
    reviews = data.reviews[data.reviews["review_date"] <= extract]
    latest = reviews.groupby(["child_id", "plan_id"])["review_date"].max()
    review = latest.reindex(pd.MultiIndex.from_frame(plans[["child_id", "plan_id"]])).to_numpy()
    return pd.DataFrame({"child_id": plans["child_id"], "start_date": plans["start_date"],
                         "initial_category": plans["initial_category"],
                         "latest_category": plans["latest_category"],
                         "review_date": review,
                         "end_date": plans["end_date"].where(plans["end_date"] <= extract),
                         "previous_plans": plans["previous_plans"]})


def _with_child(frame: pd.DataFrame, children: pd.DataFrame, ids: pd.Series,
                extract: pd.Timestamp) -> pd.DataFrame:
    """The list's rows with the child's raw ID and characteristics first, the made-up
    worker, team and notes last (as in Ofsted's template)."""
    who = children.set_index("child_id").reindex(frame["child_id"])
    birth = who["birth_month"].fillna(who["expected_birth_month"])
    months = (extract.year - birth.dt.year) * 12 + extract.month - birth.dt.month
    out = pd.DataFrame({
        "child_id": ids.reindex(frame["child_id"]).to_numpy(),
        "gender": who["gender"].to_numpy(), "ethnicity": who["ethnicity"].to_numpy(),
        "birth": birth.to_numpy(), "age": (months // 12).clip(lower=0).to_numpy(),
        "disabled": who["disabled"].to_numpy()})
    rest = frame.drop(columns="child_id").reset_index(drop=True)
    n = len(frame)
    rng = np.random.default_rng(n)
    teams = np.array([t.format(k) for t in TEAMS for k in range(1, 8)], dtype=object)
    workers = np.array([f"{f} {s}" for f in WORKER_FIRST for s in WORKER_LAST], dtype=object)
    staff = {"team": teams[rng.integers(0, len(teams), n)],
             "worker": workers[rng.integers(0, len(workers), n)],
             "notes": np.array(NOTES, dtype=object)[rng.integers(0, len(NOTES), n)]}
    return pd.concat([out, rest, pd.DataFrame(staff)], axis=1)


# ---------------------------------------------------------------------------------------------
# Writing answers and dates the ways councils do


_DATE_COLUMNS = {"birth", "referral_date", "s47_start_date", "icpc_date", "start_date",
                 "review_date", "end_date"}
_YES_NO = {"nfa", "icpc_not_required", "icpc_outcome", "disabled"}
_ETHNIC_LETTER = {code: f"{chr(ord('a') + i)}) {code}"
                  for i, code in enumerate(codes.ETHNICITY_LABELS)}


class _Style:
    """Chooses each header and each cell's way of writing (seeded)."""

    def __init__(self, rng: np.random.Generator, messy: bool):
        self.rng, self.messy = rng, messy

    def pick(self, options: tuple[str, ...]) -> str:
        return options[int(self.rng.integers(0, len(options)))] if self.messy else options[0]

    def _ways(self, n: int, k: int) -> np.ndarray:
        return self.rng.integers(0, k, n) if self.messy else np.zeros(n, dtype=int)

    def render(self, column: str, values: pd.Series) -> list:
        """Cell values for one column (``None`` for blanks)."""
        if column in _DATE_COLUMNS:
            return self._dates(values)
        if column == "gender":
            return self._coded(values, GENDER_LABEL)
        if column == "ethnicity":
            return self._coded(values, {c: (_ETHNIC_LETTER[c], label, c)
                                        for c, label in codes.ETHNICITY_LABELS.items()})
        if column in _YES_NO:
            return self._coded(values.astype("boolean").map({True: "y", False: "n"}),
                               {"y": ("a) Yes", "Yes", "Y"), "n": ("b) No", "No", "N")})
        if column in ("initial_category", "latest_category"):
            return self._coded(values, {c: (f"{label}", c, f"{label} ({c})")
                                        for c, label in CATEGORY_LABEL.items()})
        if column == "referral_source":
            return self._coded(values, {c: (f"{c}: source {c}", c, f"x) {c}")
                                        for c in values.dropna().unique()})
        return [None if pd.isna(v) else (int(v) if isinstance(v, (np.integer, int)) else v)
                for v in values.astype(object)]

    def _coded(self, values: pd.Series, ways: dict[str, tuple[str, str, str]]) -> list:
        way = self._ways(len(values), 3)
        table = pd.DataFrame(ways, index=[0, 1, 2]).T  # code -> its three spellings
        known = values.astype("string").isin(table.index).fillna(False).to_numpy()
        spelled = np.full(len(values), None, dtype=object)
        codes_known = values.astype("string").to_numpy()[known]
        spelled[known] = table.to_numpy()[table.index.get_indexer(codes_known), way[known]]
        return spelled.tolist()

    def _dates(self, values: pd.Series) -> list:
        dates = pd.Series(pd.to_datetime(values).to_numpy(dtype="datetime64[s]"))
        way = self._ways(len(dates), 4)
        cells = np.full(len(dates), None, dtype=object)
        present = dates.notna().to_numpy()
        excel = np.array(dates.dt.to_pydatetime(), dtype=object)
        serial = (dates - EXCEL_EPOCH).dt.days.astype("Int64").astype(object).to_numpy()
        iso = dates.dt.strftime("%Y-%m-%d").astype(object).to_numpy()
        dmy = dates.dt.strftime("%d/%m/%Y").astype(object).to_numpy()
        for k, rendered in enumerate((excel, serial, iso, dmy)):
            chosen = present & (way == k)
            cells[chosen] = rendered[chosen]
        return cells.tolist()
