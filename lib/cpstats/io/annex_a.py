"""Read Ofsted's Annex A workbook (the child-level lists a council keeps for inspection)
into :class:`cpstats.childlevel.CinData`, and check it.

Only the lists that bear on child protection are read: List 3 (referrals), List 5
(section 47 enquiries and ICPCs), List 7 (CP plans), and List 1 (contacts) and List 6
(children in need) where present, for the children's characteristics and dates. Sheets
are found by their list number ("List 7", "list_7 CP", "L7 - CP plans"); the header
row is the first of the sheet's first rows naming a child ID; columns are matched by
meaning (:data:`FIELDS`), not by exact name.

Only the columns in :data:`FIELDS` are copied out of each row as it is read, so
allocated worker and team names, free text and every other column never reach a
frame, a log or an output. Child IDs are keyed hashes (:mod:`cpstats.identifiers`)
and dates of birth are cut to the month, as for the CIN Census.

What an Annex A can and cannot say (a window of months before an extract date, one
latest review per plan) is in :mod:`cpstats.annex_a_measures`; conventions in
``docs/definitions.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd

from cpstats import childlevel, codes
from cpstats.checks import register_checker
from cpstats.childlevel import DATE, CinData
from cpstats.errors import InputError, ParameterError, Problem, display_path
from cpstats.identifiers import SYNTHETIC_SECRET, ChildHasher, load_secret

ERROR = "error"
WARNING = "warning"
SUFFIXES = (".xlsx", ".xlsm")
#: Lists read, and those without which the CP measures cannot be made.
LISTS_READ = (1, 3, 5, 6, 7)
REQUIRED_LISTS = (3, 5, 7)
LIST_TITLES = {1: "contacts", 3: "referrals", 5: "section 47 enquiries and ICPCs",
               6: "children in need", 7: "child protection plans"}
#: Rows searched for the header (some councils put a title above it).
HEADER_ROWS = 10
#: Default window: Ofsted asks for the six months before the inspection.
DEFAULT_WINDOW_MONTHS = 6
#: Dates further back than this before the extract date are "decades off".
OLDEST_YEARS = 30
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Characters of a bad cell shown in a message (a date or code is short; free text is cut).
MAX_SHOWN = 30


# =========================================================================== columns
@dataclass(frozen=True)
class Field:
    """One column the reader keeps: its name, how headers say it, and its kind."""

    name: str
    pattern: str  # regex searched in the normalised header (lower case, words)
    kind: str  # id, date, gender, ethnicity, yesno, category, source, count
    meaning: str  # for messages: what the column holds
    required: bool = False


_ID = Field("child_id", r"^(?:la |unique )?(?:child|person|client) (?:unique |la )?"
            r"(?:id|identifier|ref|reference|number)$|^(?:la )?child id$|^id$",
            "id", "the child's ID ('Child Unique ID')", required=True)
_COMMON = (
    _ID,
    Field("gender", r"^(?:gender|sex)\b", "gender", "gender ('Gender')"),
    Field("ethnicity", r"^ethnic", "ethnicity", "ethnicity ('Ethnicity')"),
    Field("birth", r"\bdate of birth\b|\bbirth date\b|^dob$", "date", "date of birth"),
    Field("disabled", r"\bdisab", "yesno", "disability ('Does the Child have a Disability')"),
)
#: List number -> the columns kept (everything else is dropped unread).
FIELDS: dict[int, tuple[Field, ...]] = {
    1: (*_COMMON,
        Field("contact_date", r"^(?:date of )?contact(?: date)?$|^date of contact",
              "date", "the date of contact ('Date of Contact')")),
    3: (*_COMMON,
        Field("referral_date", r"\bdate of referral\b|\breferral (?:start )?date\b", "date",
              "the referral date ('Date of Referral')", required=True),
        Field("referral_source", r"^(?:referral )?source(?: of referral)?$|^referral source\b",
              "source", "the referral source"),
        Field("nfa", r"\bnfa\b|no further action", "yesno", "whether the referral was NFA")),
    5: (*_COMMON,
        Field("s47_start_date", r"^(?!number|no of).*(?:section 47|s47|s 47).*(?:start|date)",
              "date", "the section 47 start date ('Strategy discussion initiating Section 47 "
              "Enquiry Start Date')", required=True),
        Field("icpc_not_required", r"(?:icpc|conference).*(?:unnecessary|not required|not needed)",
              "yesno", "whether an ICPC was deemed unnecessary"),
        Field("icpc_date", r"^(?!number|no of).*(?:date of (?:the )?(?:icpc|initial child "
              r"protection conference|initial cp conference)|(?:icpc|initial child protection "
              r"conference) date)", "date", "the ICPC date ('Date of Initial Child Protection "
              "Conference')"),
        Field("icpc_outcome", r"(?:icpc|conference).*(?:result|outcome)|(?:result|outcome).*"
              r"(?:icpc|conference|plan)", "yesno", "whether the ICPC resulted in a CP plan")),
    6: (*_COMMON,
        Field("cin_start_date", r"\bcin start\b|child in need start|^start date", "date",
              "the CIN start date"),
        Field("cin_closure_date", r"\bclosure date\b|\bcin end\b", "date", "the CIN closure date"),
        Field("last_seen", r"\blast seen\b", "date", "the date the child was last seen")),
    7: (*_COMMON,
        Field("start_date", r"(?:child protection|cp|cpp) (?:plan )?start|plan start",
              "date", "the CP plan start date ('Child Protection Plan Start Date')",
              required=True),
        Field("initial_category", r"\binitial category\b", "category",
              "the initial category of abuse"),
        Field("latest_category", r"\b(?:latest|current) category\b", "category",
              "the latest category of abuse"),
        Field("last_visit", r"\blast (?:statutory |social work )?visit\b", "date",
              "the date of the last statutory visit"),
        Field("review_date", r"\b(?:latest|last|most recent) (?:child protection |cp )?review\b",
              "date", "the date of the latest review conference"),
        Field("end_date", r"(?:child protection|cp|cpp) (?:plan )?end|plan end", "date",
              "the CP plan end date ('Child Protection Plan End Date')"),
        Field("previous_plans", r"\bprevious (?:child protection |cp )?plans\b", "count",
              "the number of previous CP plans")),
}
#: Date pairs that must be in order: list -> (earlier, later, rule).
ORDER = {5: [("s47_start_date", "icpc_date", "icpc-before-s47")],
         6: [("cin_start_date", "cin_closure_date", "ends-before-start")],
         7: [("start_date", "end_date", "ends-before-start"),
             ("start_date", "review_date", "review-before-start")]}
#: Dates that do not say when the workbook was extracted (births may be expected ones).
_NOT_EVENTS = {"birth"}

_SHEET = re.compile(r"^\s*(?:annex\s*a\W*)?(?:list|l)[\s_\-.]*0?(\d{1,2})(?!\d)", re.IGNORECASE)
_PREFIX = r"^\s*[a-z]{1,2}\)\s*"  # the "a) " of Ofsted's drop-down answers


def normalise_header(text: object) -> str:
    """A header as words: lower case, anything but letters and digits a single space."""
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


def list_number(sheet_name: str) -> int | None:
    """The Annex A list a sheet holds, from its name (``"List 7"``, ``"L7 CP plans"``)."""
    found = _SHEET.match(sheet_name)
    return int(found.group(1)) if found else None


#: Headers never read whatever else they say: staff and free text.
NEVER_READ = re.compile(r"\b(?:notes?|comments?|details?|description|narrative|names?|worker|"
                        r"team|manager|practitioner)\b")


def match_columns(headers: list[object], number: int) -> dict[str, int]:
    """Field name -> column index for one list's header row (first match wins)."""
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        words = normalise_header(header) if header is not None else ""
        if NEVER_READ.search(words):
            continue
        for spec in FIELDS[number]:
            if words and spec.name not in found and re.search(spec.pattern, words):
                found[spec.name] = index
                break
    return found


# =========================================================================== coded answers
def _key(raw: pd.Series) -> pd.Series:
    """Answers as lower-case words without Ofsted's ``a)`` prefix; blank as missing."""
    text = raw.astype("string").str.replace(_PREFIX, "", regex=True, case=False)
    key = text.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return key.mask(key == "")


def _ethnicity_keys() -> dict[str, str]:
    keys = {}
    groups = {"White": ("white",), "Mixed": ("mixed", "mixed dual background"),
              "Asian or Asian British": ("asian", "asian or asian british"),
              "Black or Black British": ("black", "black or black british"),
              "Other ethnic group": ("other", "other ethnic group")}
    for code, label in codes.ETHNICITY_LABELS.items():
        label_key = normalise_header(label)
        keys[code.lower()] = keys[label_key] = code
        for prefix in groups.get(codes.ETHNIC_GROUP_OF[code], ()):
            keys[f"{prefix} {label_key}"] = code
    keys.update({"white other": "WOTH", "other white": "WOTH", "not obtained": "NOBT",
                 "information not obtained": "NOBT", "not yet obtained": "NOBT",
                 "refused": "REFU", "gypsy roma": "WROM", "roma": "WROM", "gypsy": "WROM",
                 "chinese": "CHNE", "any other ethnic group": "OOTH"})
    return keys


GENDER_KEYS = {**dict.fromkeys(["male", "m", "1", "boy"], "male"),
               **dict.fromkeys(["female", "f", "2", "girl"], "female"),
               **dict.fromkeys(["not stated recorded", "not stated", "not recorded", "unknown",
                                "u", "0", "9", "indeterminate", "neither", "unborn", "other"],
                               "unknown")}
YES_NO_KEYS = {**dict.fromkeys(["yes", "y", "true", "1"], True),
               **dict.fromkeys(["no", "n", "false", "0"], False)}
ETHNICITY_KEYS = _ethnicity_keys()
#: Category of abuse: a code or a word in the label -> CIN code.
CATEGORY_WORDS = (("neg", "NEG"), ("neglect", "NEG"), ("phy", "PHY"), ("physical", "PHY"),
                  ("sab", "SAB"), ("sexual", "SAB"), ("emo", "EMO"), ("emotional", "EMO"),
                  ("mul", "MUL"), ("multiple", "MUL"))
#: Referral source written as a label without its code: words -> CIN code (first match wins).
SOURCE_WORDS = (("school nurse", "3C"), ("health visitor", "3B"), ("gp", "3A"),
                ("general practitioner", "3A"), ("a e", "3E"), ("accident and emergency", "3E"),
                ("early help", "5D"), ("other legal", "7"), ("police", "6"), ("schools?", "2A"),
                ("education", "2B"), ("housing", "4"), ("anonymous", "9"), ("self", "1C"),
                ("acquaintance", "1B"), ("family|relative|carer", "1A"), ("unknown", "10"))
#: Answers that say "not known": missing, without a warning.
NOT_KNOWN = frozenset({"unknown", "not known", "not recorded", "not stated", "n a", "na"})
ETHNICITY_WORDS = (("did not wish|declined|refused", "REFU"),)


def _first_word_match(key: pd.Series, words: tuple[tuple[str, str], ...]) -> pd.Series:
    """The code of the first ``(regex, code)`` whose words occur in each answer."""
    found = pd.Series(pd.NA, index=key.index, dtype="string")
    for word, code in reversed(words):  # later masks win, so the first listed wins
        found = found.mask(key.str.contains(rf"\b(?:{word})\b", regex=True).fillna(False),
                           code)
    return found


def _or_words(found: pd.Series, key: pd.Series, words: tuple[tuple[str, str], ...]
              ) -> pd.Series:
    """``found``, with answers it left missing matched by words (only those: it is slower)."""
    left = found.isna() & key.notna()
    if left.any():
        found = found.copy()
        found[left] = _first_word_match(key[left], words)
    return found


def _referral_sources() -> frozenset[str]:
    from cpstats.io.cin_census import REFERRAL_SOURCES  # the DfE code list, kept there

    return REFERRAL_SOURCES


def parse_codes(raw: pd.Series, kind: str) -> pd.Series:
    """Coded answers (``a) Male``, ``Male``, ``M``) as the CIN Census's codes; unknown: NA."""
    key = _key(raw)
    if kind == "gender":
        return key.map(GENDER_KEYS).astype("string")
    if kind == "ethnicity":
        return _or_words(key.map(ETHNICITY_KEYS).astype("string"), key, ETHNICITY_WORDS)
    if kind == "yesno":
        return key.map(YES_NO_KEYS).astype("boolean")
    if kind == "category":
        return _first_word_match(key, CATEGORY_WORDS)
    if kind == "source":
        code = key.str.extract(r"^(\d{1,2}[a-z]?)\b", expand=False).str.upper()
        code = code.where(code.isin(_referral_sources())).astype("string")
        return _or_words(code, key, SOURCE_WORDS)
    raise ValueError(kind)


def not_known(raw: pd.Series) -> pd.Series:
    """Mask of answers that say the value is not known (read as missing, no warning)."""
    return _key(raw).isin(NOT_KNOWN).fillna(False)


def allowed(kind: str) -> str:
    """What a coded column accepts, for messages."""
    return {"gender": "Male, Female or Not stated (also 'a) Male', 'M', 'F')",
            "ethnicity": "a CIN ethnicity code or its label (WBRI, 'White British', "
                         "'a) WBRI', ...)",
            "yesno": "Yes or No (also 'a) Yes', 'Y', 'N')",
            "category": "Neglect, Physical abuse, Sexual abuse, Emotional abuse or Multiple",
            "source": "a CIN referral source code (1A ... 10), e.g. '6: Police'"}[kind]


# =========================================================================== dates and numbers
def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates from Excel dates, Excel serial numbers, ISO text or ``dd/mm/yyyy``.

    Returns
    -------
    (pandas.Series, pandas.Series)
        The dates (``datetime64[s]``, NaT where blank or unreadable) and a mask of
        the cells that held something that is not a date.
    """
    blank = raw.isna() | raw.astype("string").str.strip().fillna("").eq("")
    serial = pd.to_numeric(raw.mask(blank), errors="coerce")
    out = (EXCEL_EPOCH + pd.to_timedelta(np.floor(serial.where(serial.between(1, 2_958_465))),
                                         unit="D")).astype(DATE)
    rest = blank.eq(False) & serial.isna()
    if rest.any():
        other = raw[rest]
        iso = pd.to_datetime(other, format="ISO8601", errors="coerce")
        text = other.astype("string").str.strip()
        dmy = pd.to_datetime(text.where(iso.isna()), format="%d/%m/%Y", errors="coerce")
        out[rest] = iso.fillna(dmy).astype(DATE)
    return out, ~blank & out.isna()


def parse_ids(raw: pd.Series) -> pd.Series:
    """Child IDs as text: whole numbers without a trailing ``.0``; blank as missing."""
    number = pd.to_numeric(raw, errors="coerce")
    whole = number.notna() & (number == np.floor(number))
    text = raw.astype("string").str.strip()
    text = text.mask(whole, number.where(whole).astype("Int64").astype("string"))
    return text.mask(text == "")


# =========================================================================== problems
RULES: dict[str, tuple[str, str]] = {
    "not-annex-a": (ERROR, "an Annex A workbook: sheets named 'List 1' ... 'List 11'"),
    "unreadable": (ERROR, "an Excel workbook (.xlsx) that opens"),
    "missing-list": (ERROR, "a sheet for List {n} ({title}), named with its number, "
                            "e.g. 'List {n}'"),
    "duplicate-list": (ERROR, "one sheet for List {n}; this one is not read"),
    "no-header": (ERROR, "a header row naming the child's ID ('Child Unique ID') in the "
                         f"first {HEADER_ROWS} rows"),
    "missing-column": (ERROR, "a column for {meaning}"),
    "missing-id": (ERROR, "the child's ID"),
    "missing-date": (ERROR, "{meaning}: every row needs it"),
    "bad-date": (ERROR, "a date: an Excel date, YYYY-MM-DD or dd/mm/yyyy"),
    "implausible-date": (ERROR, "a date after {oldest}, 30 years before the extract date "
                                "(decades off?)"),
    "after-extract": (ERROR, "a date on or before the extract date {extract}"),
    "ends-before-start": (ERROR, "a date on or after {other_meaning} {other}"),
    "icpc-before-s47": (ERROR, "an ICPC on or after its section 47 start date {other}"),
    "review-before-start": (WARNING, "a review on or after the plan's start date {other}"),
    "bad-number": (ERROR, "a whole number, 0 or more"),
    "unknown-code": (WARNING, "{allowed}"),
}


@dataclass(frozen=True)
class AnnexAProblem(Problem):
    """A :class:`~cpstats.errors.Problem` in a sheet of an Annex A workbook."""

    sheet: str | None = None
    rule: str = ""
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}, sheet '{self.sheet}'" if self.sheet else self.file
        return f"{self.severity}: {Problem.__str__(dataclasses.replace(self, file=where))}"


def _problem(file: str, rule: str, **where) -> AnnexAProblem:
    severity, expected = RULES[rule]
    fill = where.pop("fill", {})
    return AnnexAProblem(file=file, expected=expected.format(**fill), rule=rule,
                         severity=severity, **where)


# =========================================================================== reading
@dataclass
class _Sheet:
    """One list as read: the kept columns as raw values, their Excel rows and headers."""

    number: int
    name: str
    frame: pd.DataFrame  # kept fields (raw cell values) + "row"
    header_row: int
    headers: dict[str, str]  # field -> "G: Header text"


def _column_label(index: int, header: object) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(index + 1)}: {str(header).strip()}"


def _read_sheet(sheet, number: int) -> tuple[_Sheet | None, list[tuple[str, dict]]]:
    """The kept columns of one list; only they are copied out of each row."""
    rows = sheet.iter_rows(values_only=True)
    header_row, headers, found = 0, None, {}
    for header_row, values in enumerate(rows, start=1):  # noqa: B007 (used after the loop)
        found = match_columns(list(values), number)
        if "child_id" in found:
            headers = values
            break
        if header_row >= HEADER_ROWS:
            break
    if headers is None:
        return None, [("no-header", {"row": 1})]
    missing = [("missing-column", {"row": header_row, "fill": {"meaning": spec.meaning}})
               for spec in FIELDS[number] if spec.required and spec.name not in found]
    names, index = list(found), list(found.values())
    width = max(index) + 1
    pick = itemgetter(*index) if len(index) > 1 else (lambda row: (row[index[0]],))
    kept, numbers = [], []
    for row_number, values in enumerate(rows, start=header_row + 1):
        if len(values) < width:
            values = (*values, *([None] * (width - len(values))))
        cells = pick(values)
        if any(v is not None and v != "" for v in cells):
            kept.append(cells)
            numbers.append(row_number)
    frame = pd.DataFrame(kept, columns=names, dtype=object)
    frame["row"] = np.array(numbers, dtype=np.int64)
    labels = {name: _column_label(i, headers[i]) for name, i in found.items()}
    return _Sheet(number, sheet.title, frame, header_row, labels), missing


def _open(path: Path):
    import openpyxl

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def written_by_synth(path: Path) -> bool:
    """True for a workbook ``cpstats synth --annex-a`` wrote (its creator property says so):
    its children are invented, and everything made from it is labelled synthetic."""
    from cpstats.io.annex_a_writer import SYNTHETIC_CREATOR

    try:
        book = _open(path)
    except Exception:  # noqa: BLE001 -- an unreadable file is reported by the main read
        return False
    try:
        return book.properties.creator == SYNTHETIC_CREATOR
    finally:
        book.close()


def _read_lists(path: Path, file: str) -> tuple[dict[int, _Sheet], list[AnnexAProblem]]:
    try:
        book = _open(path)
    except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
        return {}, [_problem(file, "unreadable", value=type(error).__name__)]
    sheets: dict[int, _Sheet] = {}
    problems: list[AnnexAProblem] = []
    try:
        for sheet in book.worksheets:
            number = list_number(sheet.title)
            if number not in LISTS_READ:
                continue
            if number in sheets:
                problems.append(_problem(file, "duplicate-list", sheet=sheet.title,
                                         fill={"n": number}))
                continue
            read, found = _read_sheet(sheet, number)
            problems += [_problem(file, rule, sheet=sheet.title, **where) for rule, where in found]
            if read is not None:
                sheets[number] = read
    finally:
        book.close()
    if not any(list_number(name) for name in book.sheetnames):
        return {}, [_problem(file, "not-annex-a")]
    problems += [_problem(file, "missing-list", fill={"n": n, "title": LIST_TITLES[n]})
                 for n in REQUIRED_LISTS if n not in sheets]
    return sheets, problems


# =========================================================================== typing
@dataclass
class _Typed:
    """One list's typed columns (same index as the sheet's frame)."""

    sheet: _Sheet
    values: dict[str, pd.Series] = field(default_factory=dict)


def _type_sheet(sheet: _Sheet, file: str) -> tuple[_Typed, list[AnnexAProblem]]:
    typed, problems = _Typed(sheet), []
    frame = sheet.frame
    for spec in FIELDS[sheet.number]:
        if spec.name not in frame:
            continue
        raw = frame[spec.name]
        where = {"sheet": sheet.name, "column": sheet.headers[spec.name]}
        if spec.kind == "id":
            value = parse_ids(raw)
            problems += _at(file, "missing-id", value.isna(), frame, where, show=None)
        elif spec.kind == "date":
            value, bad = parse_dates(raw)
            problems += _at(file, "bad-date", bad, frame, where,
                            show=None if spec.name == "birth" else raw)
            if spec.required:
                problems += _at(file, "missing-date", value.isna() & ~bad, frame, where,
                                show=None, fill={"meaning": spec.meaning})
        elif spec.kind == "count":
            number = pd.to_numeric(raw, errors="coerce")
            bad = raw.notna() & (raw.astype("string").str.strip() != "") & ~(
                (number >= 0) & (number == np.floor(number))).fillna(False)
            problems += _at(file, "bad-number", bad, frame, where, show=raw)
            value = number.where(~bad).astype("Float64").round().astype("Int64")
        else:
            value = parse_codes(raw, spec.kind)
            unknown = value.isna() & _key(raw).notna() & ~not_known(raw)
            problems += _at(file, "unknown-code", unknown, frame, where, show=raw,
                            fill={"allowed": allowed(spec.kind)})
        typed.values[spec.name] = value
    return typed, problems


def _at(file: str, rule: str, mask: pd.Series, frame: pd.DataFrame, where: dict,
        show: pd.Series | None, fill: dict | None = None,
        per_row: dict[str, pd.Series] | None = None) -> list[AnnexAProblem]:
    """One problem per row where ``mask`` holds (rows from the frame's ``row``); ``per_row``
    fills the expected text with each row's own value (the other date of a pair)."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return []
    rows = frame.loc[mask, "row"].tolist()
    values = [None] * len(rows) if show is None else (
        show[mask].astype("string").str.slice(0, MAX_SHOWN).tolist())
    each = {k: v[mask].astype("string").tolist() for k, v in (per_row or {}).items()}
    return [_problem(file, rule, row=int(r), value=None if v is None else str(v),
                     fill={**(fill or {}), **{k: each[k][i] for k in each}}, **where)
            for i, (r, v) in enumerate(zip(rows, values, strict=True))]


def _short(meaning: str) -> str:
    """A column's meaning without its example header: 'the CP plan start date'."""
    return re.sub(r" \(.*\)$", "", meaning)


def _check_order(typed: _Typed, file: str) -> list[AnnexAProblem]:
    problems = []
    specs = {s.name: s for s in FIELDS[typed.sheet.number]}
    for earlier, later, rule in ORDER.get(typed.sheet.number, []):
        if earlier not in typed.values or later not in typed.values:
            continue
        first, second = typed.values[earlier], typed.values[later]
        where = {"sheet": typed.sheet.name, "column": typed.sheet.headers[later]}
        problems += _at(file, rule, second < first, typed.sheet.frame, where,
                        show=second.dt.strftime("%Y-%m-%d"),
                        fill={"other_meaning": _short(specs[earlier].meaning)},
                        per_row={"other": first.dt.strftime("%Y-%m-%d")})
    return problems


def _check_range(typed: dict[int, _Typed], file: str, extract: pd.Timestamp
                 ) -> list[AnnexAProblem]:
    """Dates decades before the extract date, or events after it."""
    oldest = extract - pd.DateOffset(years=OLDEST_YEARS)
    problems = []
    for t in typed.values():
        for spec in FIELDS[t.sheet.number]:
            if spec.kind != "date" or spec.name not in t.values:
                continue
            value = t.values[spec.name]
            where = {"sheet": t.sheet.name, "column": t.sheet.headers[spec.name]}
            show = None if spec.name == "birth" else value.dt.strftime("%Y-%m-%d")
            problems += _at(file, "implausible-date", value < oldest, t.sheet.frame, where,
                            show=show, fill={"oldest": oldest.date().isoformat()})
            if spec.name not in _NOT_EVENTS:
                problems += _at(file, "after-extract", value > extract, t.sheet.frame, where,
                                show=show, fill={"extract": extract.date().isoformat()})
    return problems


# =========================================================================== extract date
_NAME_DATE = re.compile(r"(20\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def extract_date_from_name(path: str | Path) -> pd.Timestamp | None:
    """A date written in the file name (``annex_a_2017-03-31.xlsx``, ``AnnexA_20170331``)."""
    found = _NAME_DATE.search(Path(path).stem)
    if not found:
        return None
    try:
        return pd.Timestamp(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def _latest_event(typed: dict[int, _Typed]) -> pd.Timestamp | None:
    latest = [t.values[s.name].max() for t in typed.values() for s in FIELDS[t.sheet.number]
              if s.kind == "date" and s.name not in _NOT_EVENTS and s.name in t.values]
    latest = [d for d in latest if pd.notna(d)]
    return pd.Timestamp(max(latest)) if latest else None


# =========================================================================== tables
@dataclass
class AnnexAData(CinData):
    """:class:`~cpstats.childlevel.CinData` read from an Annex A workbook.

    ``reference_date`` is the extract date. The CIN tables hold what the lists say;
    two things Annex A gives that the CIN tables have no column for are kept apart:
    ``latest_reviews`` (one row per plan with a review: child_id, plan_id,
    review_date; the ``reviews`` table is left empty because earlier reviews are
    not listed) and ``icpc_outcomes`` (one row per List 5 row with an ICPC:
    child_id, s47_start_date, icpc_date, resulted_in_plan).

    Attributes
    ----------
    extract_date
        The day the lists were extracted (the last day they describe).
    extract_date_from
        How it was found: ``"given"``, ``"file name"`` or ``"latest date in the lists"``.
    window_months
        Months the lists of events cover before the extract date.
    sheets
        List number -> sheet name, for the lists read.
    warnings
        Problems that did not stop the read (unknown codes...).
    """

    extract_date: date = date(1900, 1, 1)
    extract_date_from: str = "given"
    window_months: int = DEFAULT_WINDOW_MONTHS
    sheets: dict[int, str] = field(default_factory=dict)
    latest_reviews: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"child_id": pd.Series(dtype="string"), "plan_id": pd.Series(dtype="string"),
         "review_date": pd.Series(dtype=DATE)}))
    icpc_outcomes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"child_id": pd.Series(dtype="string"), "s47_start_date": pd.Series(dtype=DATE),
         "icpc_date": pd.Series(dtype=DATE), "resulted_in_plan": pd.Series(dtype="boolean")}))
    warnings: list[AnnexAProblem] = field(default_factory=list)

    @property
    def window_start(self) -> date:
        """First day of the window: the day after the extract date ``window_months`` back."""
        start = pd.Timestamp(self.extract_date) - pd.DateOffset(months=self.window_months)
        return (start + pd.Timedelta(days=1)).date()

    def coverage(self):
        """What these lists can and cannot say (:class:`cpstats.annex_a_measures.Coverage`)."""
        from cpstats.annex_a_measures import coverage_of

        return coverage_of(self)


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").astype("string")


def _month(dates: pd.Series) -> pd.Series:
    values = dates.to_numpy(dtype="datetime64[s]").astype("datetime64[M]").astype(DATE)
    return pd.Series(values, index=dates.index)


#: Lists in the order their description of a child is preferred (the CP list first).
_CHILD_PRIORITY = (7, 5, 3, 6, 1)


def _children(typed: dict[int, _Typed], extract: pd.Timestamp) -> pd.DataFrame:
    parts = []
    for rank, number in enumerate(_CHILD_PRIORITY):
        if number not in typed:
            continue
        t = typed[number]
        kinds = {"birth": DATE, "gender": "string", "ethnicity": "string", "disabled": "boolean"}
        parts.append(pd.DataFrame({
            "child_id": t.values["child_id"], "_rank": rank,
            **{k: t.values.get(k, _blank(t, kind)) for k, kind in kinds.items()}}))
    every = pd.concat(parts, ignore_index=True).dropna(subset=["child_id"])
    best = every.sort_values("_rank", kind="stable").groupby("child_id", sort=False).first()
    birth = best["birth"]
    unborn = (birth > extract).fillna(False)
    return pd.DataFrame({
        "child_id": best.index, "birth_month": _month(birth.where(~unborn)).to_numpy(),
        "expected_birth_month": _month(birth.where(unborn)).to_numpy(),
        "gender": best["gender"].fillna("unknown").to_numpy(),
        "ethnicity": best["ethnicity"].to_numpy(), "disabled": best["disabled"].to_numpy()})


def _referrals(t: _Typed) -> pd.DataFrame:
    v = t.values
    out = pd.DataFrame({"child_id": v["child_id"], "referral_date": v["referral_date"],
                        "referral_source": v.get("referral_source", _blank(t, "string")),
                        "nfa": v.get("nfa", _blank(t, "boolean"))})
    out["cin_id"] = _iso(out["referral_date"])  # the CIN Census reader's stable ID
    return out.drop_duplicates(["child_id", "referral_date"])


def _blank(t: _Typed, dtype: str) -> pd.Series:
    """A missing column for a list that does not have it."""
    return pd.Series(pd.NaT if dtype == DATE else pd.NA, index=t.sheet.frame.index, dtype=dtype)


def _s47s(t: _Typed, referrals: pd.DataFrame) -> pd.DataFrame:
    v = t.values
    out = pd.DataFrame({"child_id": v["child_id"], "s47_start_date": v["s47_start_date"],
                        "icpc_date": v.get("icpc_date", _blank(t, DATE)),
                        "icpc_not_required": v.get("icpc_not_required", _blank(t, "boolean")),
                        "resulted_in_plan": v.get("icpc_outcome", _blank(t, "boolean"))})
    return _link_episode(out, referrals, "s47_start_date")


def _link_episode(frame: pd.DataFrame, referrals: pd.DataFrame, date_column: str
                  ) -> pd.DataFrame:
    """``cin_id``: the child's latest referral on or before the date, else the date itself
    (Annex A does not link the lists; this mirrors a CIN episode)."""
    frame = frame.reset_index(drop=True).assign(_i=lambda f: np.arange(len(f)))
    left = frame[["_i", "child_id", date_column]].dropna().sort_values(date_column)
    right = referrals[["child_id", "referral_date", "cin_id"]].dropna().sort_values(
        "referral_date")
    linked = pd.merge_asof(left.astype({date_column: "datetime64[ns]"}),
                           right.astype({"referral_date": "datetime64[ns]"}),
                           left_on=date_column, right_on="referral_date", by="child_id",
                           direction="backward")
    cin_id = pd.Series(pd.NA, index=frame.index, dtype="string")
    cin_id[linked["_i"].to_numpy()] = linked["cin_id"].to_numpy()
    own = "episode-" + _iso(frame[date_column])
    frame["cin_id"] = cin_id.fillna(own)
    return frame.drop(columns="_i")


def _plans(t: _Typed, referrals: pd.DataFrame) -> pd.DataFrame:
    v = t.values
    out = pd.DataFrame({"child_id": v["child_id"], "start_date": v["start_date"],
                        "end_date": v.get("end_date", _blank(t, DATE)),
                        "initial_category": v.get("initial_category", _blank(t, "string")),
                        "latest_category": v.get("latest_category", _blank(t, "string")),
                        "previous_plans": v.get("previous_plans", _blank(t, "Int64")),
                        "review_date": v.get("review_date", _blank(t, DATE))})
    out["plan_id"] = _iso(out["start_date"])  # the CIN Census reader's stable ID
    out = out.drop_duplicates(["child_id", "start_date"])
    return _link_episode(out, referrals, "start_date")


def _tables(typed: dict[int, _Typed], extract: pd.Timestamp) -> dict[str, pd.DataFrame]:
    referrals = _referrals(typed[3])
    s47s = _s47s(typed[5], referrals)
    plans = _plans(typed[7], referrals)
    return {
        "children": childlevel.conform_table("children", _children(typed, extract)),
        "referrals": childlevel.conform_table("referrals", referrals),
        "s47s": childlevel.conform_table("s47s", s47s),
        "cp_plans": childlevel.conform_table("cp_plans", plans),
        "latest_reviews": plans.loc[plans["review_date"].notna(),
                                    ["child_id", "plan_id", "review_date"]].reset_index(drop=True),
        "icpc_outcomes": s47s.loc[s47s["icpc_date"].notna(),
                                  ["child_id", "s47_start_date", "icpc_date",
                                   "resulted_in_plan"]].reset_index(drop=True),
    }


def _hash_ids(typed: dict[int, _Typed], hasher: ChildHasher) -> None:
    """Replace raw IDs by keyed hashes in place (each distinct ID hashed once)."""
    for t in typed.values():
        raw = t.values["child_id"]
        known = raw.notna()
        hashed = pd.Series(pd.NA, index=raw.index, dtype="string")
        hashed[known] = hasher.many(raw[known].tolist())
        t.values["child_id"] = hashed


# =========================================================================== public API
def _parameters(extract_date: object, window_months: object) -> pd.Timestamp | None:
    """The given extract date (checked with the window), or None."""
    if not isinstance(window_months, int) or window_months < 1:
        raise ParameterError("window_months", window_months, "a whole number of months, e.g. 6")
    if extract_date is None:
        return None
    try:
        return pd.Timestamp(extract_date).normalize()
    except (ValueError, TypeError) as error:
        raise ParameterError("extract_date", extract_date, "a date such as 2017-03-31") from error


def _load(path: str | Path, *, la_code: str, secret: str | bytes | None, source: str | None,
          extract_date: object, window_months: int
          ) -> tuple[AnnexAData | None, list[AnnexAProblem]]:
    path = Path(path)
    file = display_path(path)
    if not path.is_file():
        return None, [_problem(file, "unreadable", value="no such file")]
    sheets, problems = _read_lists(path, file)
    typed = {}
    for number, sheet in sheets.items():
        t, found = _type_sheet(sheet, file)
        problems += found + _check_order(t, file)
        typed[number] = t
    given = _parameters(extract_date, window_months)
    named = extract_date_from_name(path)
    extract = given or named or _latest_event(typed)
    how = "given" if given is not None else ("file name" if named is not None
                                             else "latest date in the lists")
    if extract is not None:
        problems += _check_range(typed, file, extract)
    problems.sort(key=lambda p: (p.sheet or "", p.row or 0))
    if any(p.severity == ERROR for p in problems) or extract is None:
        return None, problems
    if source is None and written_by_synth(path):
        source = "synthetic"  # never labelled as a council's own lists
    if secret is None:
        secret = SYNTHETIC_SECRET if source == "synthetic" else load_secret()
    _hash_ids(typed, ChildHasher(la_code, secret))
    tables = _tables(typed, extract)
    data = AnnexAData(
        la_code=la_code, reference_date=extract.date(), source=source or "annex_a",
        extract_date=extract.date(), extract_date_from=how, window_months=window_months,
        sheets={n: s.name for n, s in sheets.items()}, warnings=problems, **tables)
    return data, problems


def read_annex_a(path: str | Path, *, la_code: str = "", secret: str | bytes | None = None,
                 source: str | None = None, extract_date: object = None,
                 window_months: int = DEFAULT_WINDOW_MONTHS) -> AnnexAData:
    """Read an Annex A workbook's child protection lists into child-level tables.

    Parameters
    ----------
    path
        The workbook (.xlsx).
    la_code
        The council's DfE three-digit number: the scope of the child ID hash (the
        same as for its CIN Census returns, so the two can be matched) and the
        ``geography_code`` of derived facts.
    secret
        Key for hashing child IDs; ``None`` uses the local secret, or the published
        synthetic secret when ``source="synthetic"``.
    source
        ``"annex_a"`` (default) or ``"synthetic"``.
    extract_date
        The day the lists were extracted. Default: a date in the file name
        (``annex_a_2017-03-31.xlsx``), else the latest event date in the lists.
    window_months
        Months of events the lists cover before the extract date (Ofsted asks for 6;
        some councils give 12).

    Returns
    -------
    AnnexAData
        The tables, the extract date and window, and the warnings.

    Raises
    ------
    InputError
        Every error found (a missing list or column, an unreadable date, a plan ending
        before it starts, an ICPC before its s47...), each named by sheet, row and column.
    """
    data, problems = _load(path, la_code=la_code, secret=secret, source=source,
                           extract_date=extract_date, window_months=window_months)
    if data is None:
        errors = [p for p in problems if p.severity == ERROR]
        raise InputError(errors or [_problem(display_path(path), "not-annex-a")])
    return data


def check_annex_a(path: str | Path, **options) -> list[AnnexAProblem]:
    """Every problem in an Annex A workbook (errors and warnings), none raised."""
    return _load(path, la_code=options.pop("la_code", ""), secret=options.pop("secret", None),
                 source=options.pop("source", None),
                 extract_date=options.pop("extract_date", None),
                 window_months=options.pop("window_months", DEFAULT_WINDOW_MONTHS))[1]


def looks_like_annex_a(path: Path) -> bool:
    """An Excel workbook with sheets named by Annex A list numbers (reads the names only)."""
    if path.suffix.lower() not in SUFFIXES:
        return False
    book = _open(path)
    try:
        numbers = {list_number(name) for name in book.sheetnames} - {None}
    finally:
        book.close()
    return bool(numbers & set(REQUIRED_LISTS))


def _inspect(path: Path) -> tuple[tuple[AnnexAProblem, ...], str]:
    """Problems and a one-line summary (check and describe share one read)."""
    stat = path.stat()
    return _inspect_cached(path, (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _inspect_cached(path: Path, stamp: tuple) -> tuple[tuple[AnnexAProblem, ...], str]:
    del stamp  # part of the cache key only: a changed file is read again
    # Problems and counts never show a child ID, so the published key will do here.
    data, problems = _load(path, la_code="", secret=SYNTHETIC_SECRET, source=None,
                           extract_date=None, window_months=DEFAULT_WINDOW_MONTHS)
    if data is None:
        return tuple(problems), "Ofsted Annex A workbook (with errors)"
    lists = ", ".join(f"List {n} '{name}'" for n, name in sorted(data.sheets.items()))
    return tuple(problems), (
        f"Ofsted Annex A workbook ({lists}; extract date {data.extract_date} from the "
        f"{data.extract_date_from}, window from {data.window_start} if it covers "
        f"{data.window_months} months): {len(data.referrals)} referrals, {len(data.s47s)} s47s, "
        f"{len(data.cp_plans)} CP plans, {len(data.children)} children")


__all__ = ["AnnexAData", "AnnexAProblem", "check_annex_a", "read_annex_a", "parse_dates",
           "parse_codes", "match_columns", "list_number"]

register_checker("annex_a", looks_like_annex_a, lambda path: list(_inspect(path)[0]),
                 "Ofsted Annex A workbook (.xlsx, sheets 'List 1'...: lists 3, 5 and 7 read)",
                 lambda path: _inspect(path)[1])
