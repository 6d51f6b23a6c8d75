"""Read CIN Census returns (the DfE child-level XML, or the same tables as CSV)
into :class:`cpstats.childlevel.CinData`, and check them.

XML is stream-parsed (``lxml.etree.iterparse`` on ``<Child>``, each child cleared
and dropped after use), so memory does not grow with the file beyond the output
tables. The parse loop only copies raw text into plain lists (turned into frames
every :data:`CHUNK` children); dates, codes and every validation rule then run
vectorised on whole tables, the same code for XML and CSV.

Schema variants, named by the reference date of the returns that use them:

- up to 2023-24 (the 2024 XSD): ``<GenderCurrent>`` with 1 male, 2 female,
  0 not recorded/unborn, 9 indeterminate;
- from 2024-25: ``<Sex>``; the samples hold both 1/2 and M/F (and U), so both
  elements accept every one of these codes;
- 2025-26 onwards: ``<PreProceedingsandFGDM>`` inside ``<CINdetails>``, recognised
  and not kept (no measure uses it).

Every problem names the file, the line (XML) or row (CSV), the child by its
hashed ID, the element and the value. Problems that make a child's records
unusable for counting are errors and reject the child (from every return read
together); the rest are warnings and the child is kept. See
``docs/cin_census_reader.md`` for the list.
"""

from __future__ import annotations

import calendar
import functools
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from cpstats import childlevel, codes
from cpstats.checks import register_checker
from cpstats.childlevel import DATE, CinData
from cpstats.errors import InputError, Problem, display_path
from cpstats.identifiers import (
    SYNTHETIC_SECRET,
    SYNTHETIC_SOFTWARE,
    ChildHasher,
    is_hashed,
    load_secret,
)

ERROR = "error"
WARNING = "warning"

# --------------------------------------------------------------------------- code lists
# From the DfE CIN Census schema (liia-tools CIN_schema_2024.xsd); ethnicity and
# category of abuse live in cpstats.codes.
REFERRAL_SOURCES = frozenset(
    "1A 1B 1C 1D 2A 2B 3A 3B 3C 3D 3E 3F 4 5A 5B 5C 5D 6 7 8 9 10".split())
DISABILITIES = frozenset("NONE MOB HAND PC INC COMM LD HEAR VIS BEH CON AUT DDA".split())
PRIMARY_NEEDS = frozenset(f"N{i}" for i in range(10))
CLOSURE_REASONS = frozenset(f"RC{i}" for i in range(1, 10))
ASSESSMENT_FACTORS = frozenset(
    "1A 1B 1C 2A 2B 2C 3A 3B 3C 4A 4B 4C 5A 5B 5C 6A 6B 6C 7A 8B 8C 8D 8E 8F 9A 10A 11A "
    "12A 13A 14A 15A 16A 17A 18B 18C 19B 19C 20 21 22A 23A 24A".split())
#: GenderCurrent (to 2023-24) and Sex (from 2024-25) codes -> the gender column.
GENDER_OF = {"1": "male", "M": "male", "2": "female", "F": "female",
             "0": "unknown", "9": "unknown", "U": "unknown"}
#: The gender column's own values, accepted in CSV tables.
GENDER_OF_CSV = {**GENDER_OF, "MALE": "male", "FEMALE": "female", "UNKNOWN": "unknown"}
#: The schema's yes/no type (compared lower-cased).
YES_NO = {"true": True, "1": True, "false": False, "0": False}

#: Dates further back than this before the reference date are "decades off".
OLDEST_YEARS = 25
#: Expected births and ICPC targets may lie after the reference date, but not this far.
FUTURE_LIMIT = pd.DateOffset(years=1)

# --------------------------------------------------------------------------- XML layout
#: (table, column) -> XML element, for naming elements in problems.
ELEMENT = {
    "children": {"child_id": "LAchildID", "birth_month": "PersonBirthDate",
                 "expected_birth_month": "ExpectedPersonBirthDate", "gender": "GenderCurrent",
                 "ethnicity": "Ethnicity", "disabilities": "Disability",
                 "death_date": "PersonDeathDate"},
    "referrals": {"referral_date": "CINreferralDate", "referral_source": "ReferralSource",
                  "primary_need": "PrimaryNeedCode", "nfa": "ReferralNFA",
                  "closure_date": "CINclosureDate", "closure_reason": "ReasonForClosure",
                  "icpc_date": "DateOfInitialCPC", "cin_id": "CINdetails"},
    "assessments": {"start_date": "AssessmentActualStartDate",
                    "authorised_date": "AssessmentAuthorisationDate",
                    "factors": "AssessmentFactors"},
    "s47s": {"s47_start_date": "S47ActualStartDate", "icpc_target_date": "InitialCPCtarget",
             "icpc_date": "DateOfInitialCPC", "icpc_not_required": "ICPCnotRequired"},
    "cp_plans": {"start_date": "CPPstartDate", "end_date": "CPPendDate",
                 "initial_category": "InitialCategoryOfAbuse",
                 "latest_category": "LatestCategoryOfAbuse",
                 "previous_plans": "NumberOfPreviousCPP"},
    "reviews": {"review_date": "CPPreviewDate"},
    "cin_plans": {"start_date": "CINPlanStartDate", "end_date": "CINPlanEndDate"},
}
#: The raw (string) columns of each table before typing, the same for XML and
#: CSV: ``line`` is the XML line of the record's block (CSV: the row number);
#: ``cin_id``/``plan_id`` are link keys until :func:`_stable_ids` replaces them.
RAW_COLUMNS = {
    "children": ["child_id", "line", "birth_month", "expected_birth_month", "gender",
                 "gender_element", "death_date", "ethnicity", "disabilities"],
    "referrals": ["child_id", "line", "cin_id", "referral_date", "referral_source",
                  "primary_need", "nfa", "closure_date", "closure_reason", "icpc_date"],
    "assessments": ["child_id", "line", "cin_id", "start_date", "authorised_date", "factors"],
    "s47s": ["child_id", "line", "cin_id", "s47_start_date", "icpc_target_date", "icpc_date",
             "icpc_not_required"],
    "cp_plans": ["child_id", "line", "cin_id", "plan_id", "start_date", "end_date",
                 "initial_category", "latest_category", "previous_plans"],
    "reviews": ["child_id", "line", "plan_id", "review_date"],
    "cin_plans": ["child_id", "line", "cin_id", "start_date", "end_date"],
}

# --------------------------------------------------------------------------- rules
#: rule -> (severity, what was expected). Errors reject the child.
RULES: dict[str, tuple[str, str]] = {
    "xml-syntax": (ERROR, "well-formed XML (the file is malformed or truncated here)"),
    "wrong-root": (ERROR, "a CIN Census return with root element <Message>"),
    "no-children": (ERROR, "at least one <Child> in <Children>"),
    "no-reference-date": (ERROR, "<Header><CollectionDetails><ReferenceDate> as YYYY-MM-DD"),
    "reference-date-from-year": (WARNING, "<ReferenceDate>; 31 March of <Year> is used"),
    "reference-date-not-31-march": (WARNING, "a reference date of 31 March"),
    "year-mismatch": (WARNING, "<Year> equal to the year of <ReferenceDate>"),
    "missing-file": (ERROR, "an existing CIN Census XML file or CSV folder"),
    "missing-column": (ERROR, "the column named in cpstats.childlevel.SCHEMA"),
    "unexpected-column": (WARNING, "only the columns of cpstats.childlevel.SCHEMA "
                          "(this one is not read)"),
    "different-la": (ERROR, "returns of one LA (the same <LEA>)"),
    "same-reference-date": (ERROR, "one return per reference date (which of two is right cannot "
                                   "be told: give one)"),
    "overlapping-plans": (ERROR, "a CPPstartDate on or after the end of the child's previous "
                                 "plan ({other})"),
    "missing-id": (ERROR, "a non-empty LAchildID: the child cannot be identified and is rejected"),
    "missing-date": (ERROR, "a date: every episode needs its start date"),
    "bad-date": (ERROR, "a date written YYYY-MM-DD"),
    "impossible-date": (ERROR, "a date that exists (impossible date: {why})"),
    "ends-before-start": (ERROR, "a date on or after {other}"),
    "after-reference-date": (ERROR, "a date on or before the return's reference date {ref}"),
    "implausible-date": (ERROR, "a date after {oldest}, 25 years before the reference date "
                         "(decades off?)"),
    "implausible-future-date": (ERROR, "a date between {oldest} and {latest}, a year after "
                                "the reference date"),
    "missing-element": (WARNING, "this element (mandatory in the CIN Census)"),
    "unknown-code": (WARNING, "one of the CIN Census codes: {allowed}"),
    "stray-text": (WARNING, "no text between elements"),
    "unexpected-element": (WARNING, "only CIN Census elements (this one is not read)"),
    "unexpected-entity": (WARNING, "no entity reference (entities are never expanded; this one "
                                   "is not read)"),
    "before-referral": (WARNING, "a date on or after the episode's CINreferralDate {other}"),
    "icpc-before-s47": (WARNING, "an ICPC on or after its S47ActualStartDate {other}"),
    "after-death": (WARNING, "a date on or before the child's PersonDeathDate {other}"),
    "orphan-episode": (ERROR, "a child_id that is in children.csv"),
    "duplicate-child": (WARNING, "each child once in a return (its records are combined)"),
    "conflict": (WARNING, "the same value in every return; the latest return's value is kept"),
}
#: (rule, element) -> the DfE validation rule the problem also breaks (``cpstats check
#: --rules dfe`` runs DfE's rules themselves: :mod:`cpstats.rules`).
DFE_CODES = {
    ("ends-before-start", "AssessmentAuthorisationDate"): "8608",
    ("ends-before-start", "CPPendDate"): "8925",
    ("before-referral", "AssessmentActualStartDate"): "1103",
    **{(rule, element): code for rule in ("after-reference-date", "implausible-date")
       for element, code in (("CINclosureDate", "8620"), ("CPPendDate", "8930"),
                             ("AssessmentAuthorisationDate", "8696"),
                             ("CINPlanEndDate", "4013"), ("DateOfInitialCPC", "8715"))},
}


@dataclass(frozen=True)
class CinProblem(Problem):
    """A :class:`~cpstats.errors.Problem` with its rule, severity and XML line."""

    rule: str = ""
    severity: str = ERROR

    @property
    def dfe_code(self) -> str | None:
        """The DfE validation rule this problem also breaks, where there is one."""
        return DFE_CODES.get((self.rule, self.element))

    def __str__(self) -> str:
        code = f" [DfE rule {self.dfe_code}]" if self.dfe_code else ""
        return f"{self.severity}: {super().__str__()}{code}"


def _problem(file: str, rule: str, *, expected: str | None = None, **where) -> CinProblem:
    severity, text = RULES[rule]
    return CinProblem(file=file, expected=expected or text, rule=rule, severity=severity, **where)


@dataclass
class ReadSummary:
    """What a read found: children read, kept and rejected, rows per table, problems."""

    files: list[str] = field(default_factory=list)
    variants: dict[str, list[str]] = field(default_factory=dict)
    children_read: int = 0
    children_kept: int = 0
    children_rejected: int = 0
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    problems: list[CinProblem] = field(default_factory=list)

    @property
    def errors(self) -> list[CinProblem]:
        """Problems that rejected a child (or a file)."""
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[CinProblem]:
        """Problems reported with the child kept."""
        return [p for p in self.problems if p.severity == WARNING]

    def as_dict(self) -> dict[str, object]:
        """Counts only (no identifiers), e.g. for a log or a notebook table."""
        return {"files": list(self.files), "children_read": self.children_read,
                "children_kept": self.children_kept,
                "children_rejected": self.children_rejected, "errors": len(self.errors),
                "warnings": len(self.warnings), "rows_read": dict(self.rows_read),
                "rows_kept": dict(self.rows_kept)}

    def __str__(self) -> str:
        return (f"{self.children_read} children read, {self.children_kept} kept, "
                f"{self.children_rejected} rejected; {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings")


@dataclass
class CinCensusData(CinData):
    """:class:`~cpstats.childlevel.CinData` with the :class:`ReadSummary` of its read."""

    summary: ReadSummary = field(default_factory=ReadSummary)


# =========================================================================== XML parsing
# The parser walks each <Child> block by block: a block's leaves are written into
# its row by position, a nested block (CINdetails, Section47...) opens a new row. An
# element in the wrong block is reported, never written into the wrong record.
_SKIP = 0  # a cell for elements known but not kept (UPNs are never kept)
#: Block kind -> leaf tag -> cell in the block's row.
_CELLS: dict[str, dict[str, int]] = {
    "ids": {"LAchildID": 2, "PersonBirthDate": 3, "ExpectedPersonBirthDate": 4,
            "GenderCurrent": 5, "Sex": 6, "PersonDeathDate": 7, "UPN": _SKIP,
            "FormerUPN": _SKIP, "UPNunknown": _SKIP},
    "chars": {"Ethnicity": 8},
    "cin": {"CINreferralDate": 3, "ReferralSource": 4, "PrimaryNeedCode": 5, "ReferralNFA": 6,
            "CINclosureDate": 7, "ReasonForClosure": 8, "DateOfInitialCPC": 9},
    "ass": {"AssessmentActualStartDate": 3, "AssessmentAuthorisationDate": 4,
            "AssessmentInternalReviewDate": _SKIP},
    "cpl": {"CINPlanStartDate": 3, "CINPlanEndDate": 4},
    "s47": {"S47ActualStartDate": 3, "InitialCPCtarget": 4, "DateOfInitialCPC": 5,
            "ICPCnotRequired": 6},
    "cpp": {"CPPstartDate": 4, "CPPendDate": 5, "InitialCategoryOfAbuse": 6,
            "LatestCategoryOfAbuse": 7, "NumberOfPreviousCPP": 8},
}
#: Block kind -> nested block tag -> its kind.
_INNER: dict[str, dict[str, str]] = {
    "child": {"ChildIdentifiers": "ids", "ChildCharacteristics": "chars", "CINdetails": "cin"},
    "chars": {"Disabilities": "dis"},
    "cin": {"Assessments": "ass", "CINPlanDates": "cpl", "Section47": "s47",
            "ChildProtectionPlans": "cpp", "PreProceedingsandFGDM": "pre"},
    "ass": {"FactorsIdentifiedAtAssessment": "fac"},
    "cpp": {"Reviews": "rev"},
}
_EMPTY: dict = {}
#: Item blocks -> the element they must hold at least one of.
_ITEM_OF = {"dis": "Disability", "fac": "AssessmentFactors", "rev": "CPPreviewDate"}
#: Rows: kind -> (table, width); the first three cells are _k, line, CIN sequence.
_ROW = {"cin": ("referrals", 10), "ass": ("assessments", 6), "cpl": ("cin_plans", 5),
        "s47": ("s47s", 7), "cpp": ("cp_plans", 11)}
#: Where an item block's list goes in its owner's row.
_ITEM_CELL = {"dis": 9, "fac": 5, "rev": 9}

#: Raw columns per table as the XML parser collects them (``_k`` indexes the
#: child in the file, ``line`` is the XML line, ``cin_id``/``plan_id`` are link
#: keys until :func:`_stable_ids` replaces them).
#: Rows are turned into frames every CHUNK children, so the Python objects held at
#: once stay bounded (a frame of strings takes a fraction of their memory).
CHUNK = 10_000
_XML_COLUMNS = {
    "children": ["_k", "line", "_raw_id", "birth_month", "expected_birth_month",
                 "_gender_current", "_sex", "death_date", "ethnicity", "disabilities"],
    "referrals": ["_k", "line", "cin_id", "referral_date", "referral_source", "primary_need",
                  "nfa", "closure_date", "closure_reason", "icpc_date"],
    "assessments": ["_k", "line", "cin_id", "start_date", "authorised_date", "factors"],
    "s47s": ["_k", "line", "cin_id", "s47_start_date", "icpc_target_date", "icpc_date",
             "icpc_not_required"],
    "cp_plans": ["_k", "line", "cin_id", "plan_id", "start_date", "end_date",
                 "initial_category", "latest_category", "previous_plans", "_reviews",
                 "_reviews_line"],
    "cin_plans": ["_k", "line", "cin_id", "start_date", "end_date"],
}


class _XmlParser:
    """One pass over a return: raw strings into lists of rows, nothing else."""

    def __init__(self, path: Path):
        self.path = path
        self.file = display_path(path)
        self.header: dict[str, str | int | None] = {}
        self.rows: dict[str, list[list]] = {name: [] for name in _XML_COLUMNS}
        self.chunks: dict[str, list[pd.DataFrame]] = {name: [] for name in childlevel.TABLES}
        self.raw_ids: list[str | None] = []  # by child index; hashed once the LA is known
        self.found: list[tuple] = []  # (k, line, rule, element, value)
        self.fatal: list[CinProblem] = []
        self.pre_proceedings = False
        self._cin = 0
        self._plan = 0

    def run(self) -> _XmlParser:
        context = etree.iterparse(
            str(self.path), events=("end",), tag=("Header", "Child"), remove_blank_text=True,
            remove_comments=True, remove_pis=True, resolve_entities=False, no_network=True)
        root_checked = False
        try:
            for _, elem in context:
                if not root_checked:
                    root_checked = True
                    if not self._root_ok(elem.getroottree().getroot()):
                        return self
                if elem.tag == "Child":
                    self._child(elem)
                    if len(self.rows["children"]) >= CHUNK:
                        self._flush()
                else:
                    self._header(elem)
                elem.clear(keep_tail=True)
                parent = elem.getparent()
                while elem.getprevious() is not None:  # free the children already read
                    del parent[0]
        except etree.XMLSyntaxError as error:
            line = error.lineno if error.lineno else None
            self.fatal.append(_problem(self.file, "xml-syntax", line=line, value=error.msg))
            return self
        if not root_checked and context.root is not None and self._root_ok(context.root):
            self.fatal.append(_problem(self.file, "no-children", element="Children"))
        elif root_checked and not self.raw_ids:
            self.fatal.append(_problem(self.file, "no-children", element="Children"))
        return self

    def _flush(self) -> None:
        """Rows so far -> one frame per table (lists of items joined, reviews apart)."""
        rows = self.rows
        for name, cell in (("children", 9), ("assessments", 5)):
            _join_items(rows[name], cell)
        reviews = [[plan[0], plan[10], plan[3], date]
                   for plan in rows["cp_plans"] if plan[9] for date in plan[9]]
        self.chunks["reviews"].append(_frame(reviews, _REVIEW_COLUMNS))
        for name, table_rows in rows.items():
            self.chunks[name].append(_frame(table_rows, _XML_COLUMNS[name]))
            table_rows.clear()

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every row read, one frame per table."""
        self._flush()
        return {name: pd.concat(chunks, ignore_index=True)
                for name, chunks in self.chunks.items()}

    def _root_ok(self, root: etree._Element) -> bool:
        if root.tag == "Message":
            return True
        self.fatal.append(_problem(self.file, "wrong-root", line=root.sourceline,
                                   element=str(root.tag)))
        return False

    def _header(self, header: etree._Element) -> None:
        for name, path in (("reference_date", "CollectionDetails/ReferenceDate"),
                           ("year", "CollectionDetails/Year"), ("la_code", "Source/LEA")):
            text = header.findtext(path)
            self.header[name] = text.strip() if text and text.strip() else None
        self.header["line"] = header.sourceline

    def _child(self, child: etree._Element) -> None:
        """Rows for one child (the hot loop: plain lists and dict look-ups only)."""
        k = len(self.raw_ids)
        row = [k, child.sourceline, None, None, None, None, None, None, None, None]
        self.rows["children"].append(row)
        self._fill(k, child, "child", row)
        raw_id = row[2]
        self.raw_ids.append(raw_id.strip() or None if raw_id else None)
        row[2] = None  # raw IDs stay out of every frame

    def _fill(self, k: int, block: etree._Element, kind: str, row: list) -> None:
        """Write a block's leaves into ``row``; open its nested blocks."""
        cells = _CELLS.get(kind, _EMPTY)
        inner = _INNER.get(kind, _EMPTY)
        text = block.text
        if text and not text.isspace():
            self.found.append((k, block.sourceline, "stray-text", block.tag, text.strip()))
        for e in block:
            tag = e.tag
            cell = cells.get(tag)
            if cell:
                row[cell] = e.text
            elif cell is None:
                sub = inner.get(tag)
                if sub is None:
                    self._unexpected(k, e)
                elif sub in _ROW:
                    self._fill(k, e, sub, self._open(sub, row, k, e.sourceline))
                elif sub in _ITEM_OF:
                    row[_ITEM_CELL[sub]] = self._items(k, e, _ITEM_OF[sub])
                    if sub == "rev":
                        row[10] = e.sourceline
                elif sub == "pre":  # 2025-26 pre-proceedings: recognised, not kept
                    self.pre_proceedings = True
                else:  # ChildIdentifiers, ChildCharacteristics: cells of the child's row
                    self._fill(k, e, sub, row)
            tail = e.tail
            if tail and not tail.isspace():
                self.found.append((k, e.sourceline, "stray-text", block.tag, tail.strip()))

    def _items(self, k: int, block: etree._Element, tag: str) -> list[str | None]:
        """Texts of the repeated ``tag`` in ``block`` (Disability, CPPreviewDate...)."""
        texts = []
        text = block.text
        if text and not text.isspace():
            self.found.append((k, block.sourceline, "stray-text", block.tag, text.strip()))
        for e in block:
            if e.tag != tag:
                self._unexpected(k, e)
            elif e.text:
                texts.append(e.text)
            tail = e.tail
            if tail and not tail.isspace():
                self.found.append((k, e.sourceline, "stray-text", block.tag, tail.strip()))
        if not texts:
            self.found.append((k, block.sourceline, "missing-element", tag, None))
        return texts

    def _open(self, kind: str, owner: list, k: int, line: int) -> list:
        """A new row for a block; CIN episodes and plans are numbered within the file."""
        table, width = _ROW[kind]
        row = [None] * width
        row[0], row[1] = k, line
        if kind == "cin":
            row[2] = self._cin
            self._cin += 1
        else:
            row[2] = owner[2]
        if kind == "cpp":
            row[3] = self._plan
            self._plan += 1
        self.rows[table].append(row)
        return row

    def _unexpected(self, k: int, elem: etree._Element) -> None:
        parent = elem.getparent()
        if elem.tag == "PreProceedingsandFGDM" or (
                parent is not None and parent.tag == "PreProceedingsandFGDM"):
            self.pre_proceedings = True
            return
        if isinstance(elem, etree._Entity):  # named by where it sits and what it is
            self.found.append((k, elem.sourceline, "unexpected-entity",
                               None if parent is None else str(parent.tag), f"&{elem.name};"))
            return
        self.found.append((k, elem.sourceline, "unexpected-element", str(elem.tag), None))


# =========================================================================== one return
@dataclass
class _Return:
    """One return after parsing: raw string frames, header facts, problems."""

    file: str
    fmt: str  # "xml" or "csv"
    la_code: str
    reference_date: pd.Timestamp | None
    raw: dict[str, pd.DataFrame]
    problems: list[CinProblem]
    fatal: list[CinProblem]
    variants: list[str]
    source: str | None = None


def _parse_xml(path: Path, secret: bytes) -> _Return:
    parser = _XmlParser(path).run()
    file = parser.file
    problems: list[CinProblem] = []
    ref = _reference_date(parser, problems)
    la_code = str(parser.header.get("la_code") or "")
    if parser.fatal:
        return _Return(file=file, fmt="xml", la_code="", reference_date=None, raw={},
                       problems=problems, fatal=parser.fatal, variants=[])
    frames = parser.frames()
    children = frames["children"]
    raw_ids = parser.raw_ids
    hasher = ChildHasher(la_code, secret)
    ids = np.array([hasher(r) if r else f"noid_line{line}"
                    for r, line in zip(raw_ids, children["line"], strict=True)], dtype=object)
    for k, line in zip(children["_k"], children["line"], strict=True):
        if raw_ids[k] is None:
            parser.found.append((k, line, "missing-id", "LAchildID", None))
    sex = children["_sex"]
    children["gender"] = sex.where(sex.notna(), children["_gender_current"])
    children["gender_element"] = np.where(sex.notna(), "Sex", "GenderCurrent")
    frames["children"] = children
    raw = {}
    for name, columns in RAW_COLUMNS.items():
        frame = frames[name]
        frame["child_id"] = ids[frame["_k"].to_numpy(dtype=np.int64)]
        raw[name] = frame[columns].reset_index(drop=True)
    for k, line, rule, element, value in parser.found:
        child = ids[k]
        if value is not None and raw_ids[k] and raw_ids[k] in value:
            value = value.replace(raw_ids[k], child)  # never echo a raw ID
        problems.append(_problem(file, rule, line=line, child=child, element=element,
                                 value=value))
    variants = sorted(set(children["gender_element"][children["gender"].notna()]))
    if parser.pre_proceedings:
        variants.append("PreProceedingsandFGDM")
    return _Return(file=file, fmt="xml", la_code=la_code, reference_date=ref, raw=raw,
                   problems=problems, fatal=parser.fatal, variants=variants)


def _join_items(rows: list[list], cell: int) -> None:
    """Lists of item texts -> comma-joined text, in place (None: no list)."""
    for row in rows:
        items = row[cell]
        if items is not None:
            row[cell] = ",".join(items) or None


#: Columns of the parser's rows that are integers (the rest are text); cells named
#: ``_reviews*`` and ``_raw_id`` are taken out before framing.
_INT_COLUMNS = frozenset({"_k", "line", "cin_id", "plan_id"})
_NOT_FRAMED = frozenset({"_raw_id", "_reviews", "_reviews_line"})
_REVIEW_COLUMNS = ["_k", "line", "plan_id", "review_date"]


def _frame(rows: list[list], columns: list[str]) -> pd.DataFrame:
    """Rows of cells -> a frame, one column at a time: integers as int64, text straight
    into pyarrow strings (pandas' type inference on object rows cost more than the
    parse's walk)."""
    data = {}
    for i, name in enumerate(columns):
        if name in _NOT_FRAMED:
            continue
        cells = [row[i] for row in rows]
        data[name] = (np.array(cells, dtype=np.int64) if name in _INT_COLUMNS
                      else pd.array(pa.array(cells, type=pa.string()), dtype="str"))
    return pd.DataFrame(data)


def _reference_date(parser: _XmlParser, problems: list[CinProblem]) -> pd.Timestamp | None:
    """The header's reference date (or 31 March of <Year>), with header problems noted."""
    if parser.fatal:
        return None
    head = parser.header
    text, year, line = head.get("reference_date"), head.get("year"), head.get("line")
    ref = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce") if text else pd.NaT
    if pd.isna(ref):
        if year and year.isdigit():
            problems.append(_problem(parser.file, "reference-date-from-year", line=line,
                                     element="ReferenceDate", value=text))
            return pd.Timestamp(int(year), 3, 31)
        parser.fatal.append(_problem(parser.file, "no-reference-date", line=line,
                                     element="ReferenceDate", value=text))
        return None
    if (ref.month, ref.day) != (3, 31):
        problems.append(_problem(parser.file, "reference-date-not-31-march", line=line,
                                 element="ReferenceDate", value=text))
    if year and year != str(ref.year):
        problems.append(_problem(parser.file, "year-mismatch", line=line, element="Year",
                                 value=year))
    return ref


# =========================================================================== CSV folders
#: Columns a CSV folder may omit (derived by the reader, or optional).
CSV_OPTIONAL = {("children", "disabled"), ("referrals", "icpc_date")}


def _parse_csv(folder: Path, secret: bytes) -> _Return:
    """A folder of ``meta.csv`` + one CSV per table into raw frames (ids hashed)."""
    file = display_path(folder)
    fatal: list[CinProblem] = []
    problems: list[CinProblem] = []
    meta_path = folder / "meta.csv"
    la_code, ref, source = "", None, None
    if not meta_path.is_file():
        fatal.append(_problem(display_path(meta_path), "missing-file",
                              expected="meta.csv with columns la_code, reference_date "
                              "(and optionally source)"))
    else:
        meta = pd.read_csv(meta_path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        la_code = meta["la_code"].iloc[0].strip() if "la_code" in meta and len(meta) else ""
        text = meta["reference_date"].iloc[0] if "reference_date" in meta and len(meta) else ""
        ref = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        if pd.isna(ref):
            fatal.append(_problem(display_path(meta_path), "no-reference-date", row=2,
                                  column="reference_date", value=text,
                                  expected="the return's reference date as YYYY-MM-DD"))
            ref = None
        if "source" in meta and len(meta) and meta["source"].iloc[0].strip():
            source = meta["source"].iloc[0].strip()
    hasher = ChildHasher(la_code, secret)
    raw = {}
    for name, columns in RAW_COLUMNS.items():
        path = folder / f"{name}.csv"
        wanted = [c for c in childlevel.SCHEMA[name] if (name, c) not in CSV_OPTIONAL]
        if not path.is_file():
            fatal.append(_problem(display_path(path), "missing-file",
                                  expected=f"{name}.csv with columns {', '.join(wanted)}"))
            continue
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        absent = [c for c in wanted if c not in frame.columns]
        for column in absent:
            fatal.append(_problem(display_path(path), "missing-column", column=column))
        known = set(childlevel.SCHEMA[name])
        for column in frame.columns:
            if column not in known:
                problems.append(_problem(display_path(path), "unexpected-column",
                                         column=column))
        if absent:
            continue
        frame = frame.replace("", None)
        out = pd.DataFrame({"child_id": _hash_column(frame.get("child_id"), hasher)})
        out["line"] = np.arange(2, len(frame) + 2)
        for row in out.loc[out["child_id"].isna(), "line"]:
            problems.append(_problem(display_path(path), "missing-id", row=int(row),
                                     column="child_id", child=f"noid_row{row}"))
        out["child_id"] = out["child_id"].fillna("noid_row" + out["line"].astype(str))
        for column in columns[2:]:
            out[column] = frame[column] if column in frame.columns else None
        if name == "children":
            out["gender_element"] = "gender"
        raw[name] = out
    return _Return(file=file, fmt="csv", la_code=la_code, reference_date=ref, raw=raw,
                   problems=problems, fatal=fatal, variants=["csv"], source=source)


def _hash_column(values: pd.Series | None, hasher: ChildHasher) -> list[str | None]:
    """Hash raw IDs; IDs already in cpstats' hashed form are kept (a round trip)."""
    if values is None:
        return []
    return [None if pd.isna(v) or not v.strip() else v if is_hashed(v) else hasher(v.strip())
            for v in values]


# =========================================================================== typing + rules
#: xs:date text (a time zone or time after the date is tolerated, and ignored). A plain
#: string pattern, so pandas hands it to pyarrow instead of a Python loop.
_DATE_TEXT = r"\d{4}-\d{2}-\d{2}(?:Z|[+-]\d{2}:\d{2}|T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?"
_DATE_COLUMNS = {name: [c for c, t in cols.items() if t == DATE]
                 for name, cols in childlevel.SCHEMA.items()}
#: (table, column) -> allowed codes (single-valued).
_CODES = {
    ("children", "ethnicity"): frozenset(codes.ETHNICITY_LABELS),
    ("children", "gender"): frozenset(GENDER_OF),
    ("referrals", "referral_source"): REFERRAL_SOURCES,
    ("referrals", "primary_need"): PRIMARY_NEEDS,
    ("referrals", "closure_reason"): CLOSURE_REASONS,
    ("cp_plans", "initial_category"): frozenset(codes.CATEGORY_OF),
    ("cp_plans", "latest_category"): frozenset(codes.CATEGORY_OF),
}
#: (table, column) -> allowed codes, for comma-joined lists.
_LIST_CODES = {("children", "disabilities"): DISABILITIES,
               ("assessments", "factors"): ASSESSMENT_FACTORS}
_FLAGS = [("referrals", "nfa"), ("s47s", "icpc_not_required")]
#: Mandatory values: (table, column) -> rule when absent.
_MANDATORY = {
    ("children", "ethnicity"): "missing-element", ("children", "gender"): "missing-element",
    ("referrals", "referral_date"): "missing-date",
    ("referrals", "referral_source"): "missing-element",
    ("referrals", "nfa"): "missing-element",
    ("assessments", "start_date"): "missing-date",
    ("s47s", "s47_start_date"): "missing-date",
    ("s47s", "icpc_not_required"): "missing-element",
    ("cp_plans", "start_date"): "missing-date",
    ("cp_plans", "initial_category"): "missing-element",
    ("cp_plans", "latest_category"): "missing-element",
    ("cp_plans", "previous_plans"): "missing-element",
    ("reviews", "review_date"): "missing-date",
    ("cin_plans", "start_date"): "missing-date",
}
#: (table, end column, start column): an end before its start rejects the child.
_ORDER = [("referrals", "closure_date", "referral_date"), ("cp_plans", "end_date", "start_date"),
          ("cin_plans", "end_date", "start_date"),
          ("assessments", "authorised_date", "start_date"),
          ("children", "death_date", "birth_month")]
#: Dates that may lie after the reference date (within FUTURE_LIMIT).
_MAY_BE_FUTURE = {("children", "expected_birth_month"), ("s47s", "icpc_target_date")}
#: Episode starts that should not precede the episode's referral.
_AFTER_REFERRAL = [("assessments", "start_date"), ("s47s", "s47_start_date"),
                   ("cp_plans", "start_date"), ("cin_plans", "start_date")]
#: Event dates that should not follow the child's death (ends may: closing the case).
_NOT_AFTER_DEATH = [("referrals", "referral_date"), ("referrals", "icpc_date"),
                    ("assessments", "start_date"), ("s47s", "s47_start_date"),
                    ("s47s", "icpc_date"), ("cp_plans", "start_date"),
                    ("reviews", "review_date"), ("cin_plans", "start_date")]


class _Finder:
    """Collects problem rows from vectorised masks; turns them into CinProblems once.

    Every Series passed to :meth:`flag` is aligned by position with ``frame``.
    """

    def __init__(self, ret: _Return):
        self.ret = ret
        self.parts: list[pd.DataFrame] = []

    def flag(self, frame: pd.DataFrame, mask: pd.Series | np.ndarray, rule: str, table: str,
             column: str, value: pd.Series | None = None,
             expected: pd.Series | str | None = None,
             element: pd.Series | str | None = None) -> None:
        hit = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
        if not hit.any():
            return

        def pick(x):
            return x.to_numpy(dtype=object)[hit] if isinstance(x, pd.Series) else x

        shown = pick(frame[column] if value is None else value)
        self.parts.append(pd.DataFrame({
            "child_id": frame["child_id"].to_numpy(dtype=object)[hit],
            "line": frame["line"].to_numpy(dtype=object)[hit], "rule": rule, "table": table,
            "column": column, "value": [_show(v) for v in np.atleast_1d(shown)],
            "element": pick(element) if element is not None
            else ELEMENT[table].get(column, column),
            "expected": pick(expected) if expected is not None else RULES[rule][1]}))

    def problems(self) -> list[CinProblem]:
        if not self.parts:
            return []
        found = pd.concat(self.parts, ignore_index=True).sort_values(
            ["line", "rule", "element"], kind="stable")
        xml = self.ret.fmt == "xml"
        out = []
        for rec in found.itertuples(index=False):  # problems are few: one object each
            line = None if pd.isna(rec.line) else int(rec.line)
            where = ({"line": line, "element": rec.element} if xml
                     else {"row": line, "column": rec.column})
            file = self.ret.file if xml else display_path(Path(self.ret.file) / f"{rec.table}.csv")
            out.append(CinProblem(file=file, expected=rec.expected, child=rec.child_id,
                                  value=rec.value, rule=rec.rule, severity=RULES[rec.rule][0],
                                  **where))
        return out


def _expected(rule: str, other: pd.Series, hit: pd.Series, label: str = "") -> pd.Series | None:
    """Per-row expected text: the rule's template with the other date filled in."""
    hit = hit.fillna(False).astype(bool)
    if not hit.any():
        return None
    text = pd.Series(None, index=other.index, dtype=object)
    template = RULES[rule][1]
    text[hit] = [template.format(other=f"{label}{_show(v)}") for v in other[hit]]
    return text


def _show(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _strip(series: pd.Series) -> pd.Series:
    """Text without surrounding blanks; blank -> missing."""
    out = series.astype("string").str.strip()
    return out.mask(out == "")


def _typed(ret: _Return, finder: _Finder) -> dict[str, pd.DataFrame]:
    """Raw strings -> dates, codes, flags; unreadable and unknown values reported.

    Converts ``ret.raw`` in place (no copy of a large return) and empties it.
    """
    typed = {}
    for name, frame in ret.raw.items():
        for (table, column), rule in _MANDATORY.items():
            if table == name:
                element = frame["gender_element"] if column == "gender" else None
                finder.flag(frame, _raw_missing(frame, column), rule, name, column,
                            element=element)
        for column in frame.columns:
            if column not in ("child_id", "line", "cin_id", "plan_id", "gender_element"):
                frame[column] = _strip(frame[column])
        for column in _DATE_COLUMNS[name]:
            if column not in frame:
                continue
            text = frame[column]
            ok = text.str.fullmatch(_DATE_TEXT).fillna(False).astype(bool)
            parsed = pd.to_datetime(text.where(ok).str.slice(0, 10), format="%Y-%m-%d",
                                    errors="coerce")
            finder.flag(frame, text.notna() & ~ok, "bad-date", name, column)
            impossible = ok & parsed.isna()
            finder.flag(frame, impossible, "impossible-date", name, column,
                        expected=_impossible(text, impossible))
            frame[column] = parsed.astype(DATE)
        typed[name] = frame
    ret.raw = {}
    _codes(typed, finder, ret.fmt)
    return typed


def _impossible(text: pd.Series, hit: pd.Series) -> pd.Series | None:
    """Why each well-written date in ``text`` that is no day of the calendar is impossible
    (pandas would read it as missing): its month has fewer days, or there is no such month."""
    if not hit.any():
        return None
    why = pd.Series(None, index=text.index, dtype=object)
    reasons = []
    for value in text[hit]:  # impossible dates are few: one reason each
        year, month, day = (int(part) for part in value[:10].split("-"))
        if 1 <= month <= 12:
            days = calendar.monthrange(year, month)[1]
            reasons.append(f"{calendar.month_name[month]} {year} has {days} days, not {day}")
        else:
            reasons.append(f"there is no month {month:02d}")
    why[hit] = [RULES["impossible-date"][1].format(why=r) for r in reasons]
    return why


def _raw_missing(raw: pd.DataFrame, column: str) -> pd.Series:
    """True where the raw text is absent or blank (before any parsing)."""
    text = raw[column].astype("string").str.strip()
    return text.isna() | (text == "")


def _codes(typed: dict[str, pd.DataFrame], finder: _Finder, fmt: str) -> None:
    for (name, column), allowed in _CODES.items():
        frame = typed[name]
        text = frame[column]
        if column == "gender":
            text = text.str.upper()
            allowed = frozenset(GENDER_OF_CSV if fmt == "csv" else GENDER_OF)
        known = text.isin(allowed)
        element = frame["gender_element"] if column == "gender" else None
        expected = RULES["unknown-code"][1].format(allowed=", ".join(sorted(allowed)))
        finder.flag(frame, text.notna() & ~known, "unknown-code", name, column,
                    expected=expected, element=element)
        cleaned = text.where(known)
        frame[column] = (cleaned.map(GENDER_OF_CSV).fillna("unknown") if column == "gender"
                         else cleaned)
    for (name, column), allowed in _LIST_CODES.items():
        frame = typed[name]
        text = frame[column]
        listed = text.notna() & ~text.isin(allowed)  # single known codes need no splitting
        if not listed.any():
            continue
        codes_ = text[listed].str.split(",").explode().str.strip()
        codes_ = codes_.mask(codes_ == "")  # blank items are dropped, not reported
        bad = (codes_.notna() & ~codes_.isin(allowed)).to_numpy(dtype=bool)
        if bad.any():  # the frame's RangeIndex labels are positions
            expected = RULES["unknown-code"][1].format(allowed=", ".join(sorted(allowed)))
            rows = frame.iloc[codes_.index[bad]]
            finder.flag(rows, np.ones(len(rows), dtype=bool), "unknown-code", name, column,
                        value=codes_[bad], expected=expected)
        # rebuild only the lists that need it (unknown codes dropped, blanks removed)
        dirty = text.index.isin(codes_.index[bad]) | (
            listed & text.str.contains(r"\s|,,|^,|,$").fillna(False)).to_numpy(dtype=bool)
        if dirty.any():
            keep = codes_.index.isin(text.index[dirty]) & codes_.isin(allowed)
            rebuilt = codes_[keep].groupby(level=0).agg(",".join)
            frame[column] = text.where(~dirty, rebuilt.reindex(text.index))
    for name, column in _FLAGS:
        frame = typed[name]
        text = frame[column].str.lower()
        flag = text.map(YES_NO)
        expected = RULES["unknown-code"][1].format(allowed="true, false, 1, 0")
        finder.flag(frame, text.notna() & flag.isna(), "unknown-code", name, column,
                    expected=expected)
        frame[column] = flag.astype("boolean")
    plans = typed["cp_plans"]
    text = plans["previous_plans"]
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d+").fillna(False).astype(bool)),
                           errors="coerce")
    finder.flag(plans, text.notna() & number.isna(), "unknown-code", "cp_plans",
                "previous_plans", expected="a whole number of previous plans (0 or more)")
    plans["previous_plans"] = number.astype("Int64")


def _check_dates(ret: _Return, typed: dict[str, pd.DataFrame], finder: _Finder) -> None:
    """Impossible and implausible dates (vectorised per table and column)."""
    ref = ret.reference_date
    oldest = ref - pd.DateOffset(years=OLDEST_YEARS)
    latest = ref + FUTURE_LIMIT
    when = f"{oldest:%Y-%m-%d}"
    for name, frame in typed.items():
        for column in _DATE_COLUMNS[name]:
            if column not in frame:
                continue
            values = frame[column]
            if (name, column) in _MAY_BE_FUTURE:
                rule, odd = "implausible-future-date", (values < oldest) | (values > latest)
            else:
                rule, odd = "implausible-date", values < oldest
                finder.flag(frame, values > ref, "after-reference-date", name, column,
                            expected=RULES["after-reference-date"][1].format(
                                ref=f"{ref:%Y-%m-%d}"))
            finder.flag(frame, odd, rule, name, column, expected=RULES[rule][1].format(
                oldest=when, latest=f"{latest:%Y-%m-%d}"))
    for name, end, start in _ORDER:
        frame = typed[name]
        bad = frame[end] < frame[start]
        finder.flag(frame, bad, "ends-before-start", name, end, expected=_expected(
            "ends-before-start", frame[start], bad, f"its {ELEMENT[name][start]} "))
    _check_against(typed, finder, "referrals", ["child_id", "cin_id"], "referral_date",
                   _AFTER_REFERRAL, "before-referral")
    s47 = typed["s47s"]
    bad = s47["icpc_date"] < s47["s47_start_date"]
    finder.flag(s47, bad, "icpc-before-s47", "s47s", "icpc_date",
                expected=_expected("icpc-before-s47", s47["s47_start_date"], bad))
    _check_against(typed, finder, "children", ["child_id"], "death_date", _NOT_AFTER_DEATH,
                   "after-death", later=True)
    _check_overlaps(typed["cp_plans"], finder)


def _conflicting(returns: list[_Return]) -> list[CinProblem]:
    """Returns for the same reference date that differ (the same return given twice is
    harmless: it reads as once)."""
    problems = []
    dates = pd.Series([r.reference_date for r in returns], dtype=object)
    for date in dates[dates.duplicated()].unique():
        same = [r for r in returns if r.reference_date == date]
        if all(set(r.raw) == set(same[0].raw)
               and all(r.raw[t].equals(same[0].raw[t]) for t in r.raw) for r in same[1:]):
            continue
        problems.append(_problem(", ".join(r.file for r in same), "same-reference-date",
                                 value=f"{pd.Timestamp(date):%Y-%m-%d}"))
    return problems


def _check_overlaps(plans: pd.DataFrame, finder: _Finder) -> None:
    """A CP plan starting before the child's previous plan in the return ended, or while it is
    still open (measures would otherwise count the child once and drop the rest unsaid)."""
    if plans.empty:
        return
    order = plans.sort_values(["child_id", "start_date"], kind="stable")
    previous_end = order["end_date"].shift()
    same_child = order["child_id"].eq(order["child_id"].shift()).fillna(False).astype(bool)
    later = order["start_date"].ne(order["start_date"].shift()).fillna(True).astype(bool)
    bad = (same_child & later & order["start_date"].notna()  # the same plan twice: an update
           & (previous_end.isna() | (order["start_date"] < previous_end))).reindex(plans.index)
    other = (previous_end.astype(object).where(previous_end.notna(), "still open")
             .reindex(plans.index))
    finder.flag(plans, bad, "overlapping-plans", "cp_plans", "start_date",
                expected=_expected("overlapping-plans", other, bad))


def _check_against(typed: dict[str, pd.DataFrame], finder: _Finder, table: str,
                   key: list[str], column: str, targets: list[tuple[str, str]], rule: str,
                   later: bool = False) -> None:
    """Flag target dates before (or, with ``later``, after) ``table.column`` on ``key``."""
    anchor = typed[table].dropna(subset=[column]).drop_duplicates(key)[[*key, column]]
    anchor = anchor.rename(columns={column: "_anchor"})
    for name, target in targets:
        frame = typed[name]
        if frame.empty or anchor.empty:
            continue
        joined = frame[key].merge(anchor, on=key, how="left")["_anchor"].set_axis(frame.index)
        bad = frame[target] > joined if later else frame[target] < joined
        finder.flag(frame, bad, rule, name, target, expected=_expected(rule, joined, bad))


def _member(series: pd.Series, values: pd.Series) -> np.ndarray:
    """``series.isin(values)`` for ID columns (pandas' arrow-string isin loops in Python)."""
    def arrow(s: pd.Series) -> pa.Array:
        return pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    return pc.is_in(arrow(series), value_set=arrow(values)).to_numpy(zero_copy_only=False)


def _check_children(typed: dict[str, pd.DataFrame], finder: _Finder) -> None:
    """A child with no CIN episode, or with neither a birth nor an expected birth date."""
    children = typed["children"]
    no_cin = ~_member(children["child_id"], typed["referrals"]["child_id"])
    finder.flag(children, no_cin, "missing-element", "children", "child_id",
                value=pd.Series(None, index=children.index, dtype=object), element="CINdetails")
    for name, frame in typed.items():
        if name != "children":
            orphan = ~_member(frame["child_id"], children["child_id"])
            finder.flag(frame, orphan, "orphan-episode", name, "child_id",
                        value=pd.Series(None, index=frame.index, dtype=object))
    undated = children["birth_month"].isna() & children["expected_birth_month"].isna()
    finder.flag(children, undated, "missing-element", "children", "birth_month",
                expected="PersonBirthDate or ExpectedPersonBirthDate (age cannot be known)")


def _duplicates(ret: _Return, finder: _Finder) -> None:
    children = ret.raw["children"]
    dup = children["child_id"].duplicated(keep="first") & ~children["child_id"].str.startswith(
        "noid_")
    finder.flag(children, dup, "duplicate-child", "children", "child_id",
                value=pd.Series(None, index=children.index, dtype=object))


# =========================================================================== final tables
def _stable_ids(typed: dict[str, pd.DataFrame]) -> None:
    """Replace link keys by stable IDs: cin_id = referral date, plan_id = plan start date.

    Stable across returns, so the same episode read from two returns is one row.
    """
    for link, table, date_column, prefix in (("cin_id", "referrals", "referral_date", "cin"),
                                             ("plan_id", "cp_plans", "start_date", "plan")):
        source = typed[table]
        lookup = pd.DataFrame({"child_id": source["child_id"], "_old": source[link],
                               "_new": _iso(source[date_column])})
        lookup = lookup.drop_duplicates(["child_id", "_old"])
        for frame in typed.values():
            if link not in frame or frame.empty:
                continue
            keys = frame[["child_id", link]].rename(columns={link: "_old"})
            new = keys.merge(lookup, on=["child_id", "_old"], how="left")["_new"]
            unknown = new.isna().to_numpy()
            if unknown.any():  # no date (rejected anyway) or no such episode: keep it apart
                new[unknown] = prefix + frame[link].to_numpy()[unknown].astype(str)
            frame[link] = new.to_numpy()


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").astype("string")


def _month(dates: pd.Series) -> pd.Series:
    """First day of each date's month (NaT kept)."""
    values = dates.to_numpy(dtype="datetime64[s]").astype("datetime64[M]").astype(DATE)
    return pd.Series(values, index=dates.index)


def _finish_children(children: pd.DataFrame) -> pd.DataFrame:
    out = children.copy()
    out["birth_month"] = _month(out["birth_month"])
    out["expected_birth_month"] = _month(out["expected_birth_month"])
    listed = out["disabilities"]
    out["disabled"] = (listed.notna() & (listed != "NONE")).astype("boolean")
    return out


#: (table) -> key of one episode; updatable columns take the latest return's value.
_KEYS = {"children": ["child_id"], "referrals": ["child_id", "referral_date"],
         "assessments": ["child_id", "start_date"], "s47s": ["child_id", "s47_start_date"],
         "cp_plans": ["child_id", "start_date"],
         "reviews": ["child_id", "plan_id", "review_date"],
         "cin_plans": ["child_id", "start_date"]}
_UPDATABLE = {"children": {"gender", "gender_element", "ethnicity", "disabilities", "disabled",
                           "expected_birth_month"},
              "referrals": {"primary_need", "cin_id"}, "assessments": {"factors", "cin_id"},
              "s47s": {"cin_id"}, "cp_plans": {"latest_category", "cin_id"},
              "reviews": set(), "cin_plans": {"cin_id"}}


def _combine(name: str, frame: pd.DataFrame, files: list[str]) -> tuple[pd.DataFrame,
                                                                        list[CinProblem]]:
    """One row per episode key: the latest return's values; differences reported.

    ``frame`` carries ``_order`` (return index, latest last) and ``line``. A value
    missing in one return and present in another is an update (a plan that has
    since ended), not a conflict.
    """
    key = _KEYS[name]
    if not frame.duplicated(key).any():
        return frame, []
    frame = frame.sort_values(["_order", "line"], kind="stable")
    repeated = frame.duplicated(key, keep=False)
    single = frame.loc[~repeated]
    many = frame.loc[repeated]
    problems = []
    for column in frame.columns.difference([*key, "_order", "line", *_UPDATABLE[name]]):
        distinct = many.groupby(key, dropna=False, sort=False)[column].transform("nunique")
        clash = many.loc[distinct > 1]
        for group, rows in clash.groupby(key, dropna=False, sort=False):
            values = rows[column].dropna().map(_show).drop_duplicates()
            problems.append(_problem(
                ", ".join(files), "conflict", child=group[0],
                element=ELEMENT[name].get(column, column), value=" | ".join(values),
                expected=f"one value of {ELEMENT[name].get(column, column)} for the same "
                f"{_describe_key(name, group)} in every return; the latest return's is kept"))
    merged = many.groupby(key, dropna=False, sort=False).last().reset_index()
    out = pd.concat([single, merged[frame.columns]], ignore_index=True)
    return out, problems


def _describe_key(name: str, group: tuple) -> str:
    """'CP plan starting 2016-05-03' etc., for naming the episode in a conflict."""
    what = {"children": "child", "referrals": "referral on", "assessments": "assessment from",
            "s47s": "s47 from", "cp_plans": "CP plan from", "reviews": "review on",
            "cin_plans": "CIN plan from"}[name]
    return " ".join([what, *(_show(v) or "?" for v in group[1:])])


def _conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = childlevel.conform_table(name, frame)
    order = [c for c in _KEYS[name] if c in out] + [c for c in ("cin_id", "plan_id") if c in out]
    return out.sort_values(list(dict.fromkeys(order)), kind="stable").reset_index(drop=True)


# =========================================================================== public API
def read_returns(paths: Sequence[str | Path] | str | Path, *, secret: str | bytes | None = None,
                 source: str | None = None, keep_rejected: bool = False) -> CinCensusData:
    """Read one LA's CIN Census returns (XML files and/or CSV folders) into one CinData.

    The same child in successive returns is one child (IDs are keyed hashes, see
    :mod:`cpstats.identifiers`); an episode repeated across returns is one row, the
    latest return's version, and any value that differs is reported as a conflict.
    A child with an error in any return is rejected from all of them; warnings
    keep the child. Nothing is dropped silently: see ``result.summary``.

    Parameters
    ----------
    paths
        XML files and/or folders of CSV tables (``meta.csv``, ``children.csv``, ...).
    secret
        Key for hashing child IDs; ``None`` uses the local secret, or the published
        synthetic secret when ``source="synthetic"``.
    source
        ``"cin_census"`` (default) or ``"synthetic"``; the ``source`` of every fact
        derived from the result.
    keep_rejected
        Keep children with errors too (for exploring a messy return; never for
        published figures).

    Returns
    -------
    CinCensusData
        A :class:`~cpstats.childlevel.CinData` with ``summary`` (:class:`ReadSummary`).

    Raises
    ------
    InputError
        If a file is missing, malformed, truncated, has the wrong root element or no
        reference date, or the returns are from different LAs.
    """
    data, fatal = _load(paths, secret=secret, source=source, keep_rejected=keep_rejected)
    if fatal:
        raise InputError(fatal)
    return data


def read_cin_census(path: str | Path, **options) -> CinCensusData:
    """Read one CIN Census return (XML file or CSV folder); see :func:`read_returns`."""
    return read_returns([path], **options)


def check_cin_census(path: str | Path, *, secret: str | bytes | None = None) -> list[Problem]:
    """Every problem in a CIN Census return (XML or CSV folder), errors and warnings.

    Children are named by hashed ID only. File-level problems (malformed XML,
    wrong root...) are returned, not raised.
    """
    data, fatal = _load([path], secret=secret, source=None, keep_rejected=False)
    return [*fatal, *data.summary.problems] if data is not None else fatal


def _load(paths, *, secret, source, keep_rejected) -> tuple[CinCensusData | None,
                                                           list[CinProblem]]:
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    if not paths:
        return None, [_problem("(no input)", "missing-file",
                               expected="at least one CIN Census XML file or CSV folder")]
    if source is None and secret is None and _written_by_synth(paths):
        source = "synthetic"  # never labelled as a council's own return
    if secret is None:
        secret = SYNTHETIC_SECRET if source == "synthetic" else None
    key = load_secret() if secret is None else (
        secret.encode("utf-8") if isinstance(secret, str) else secret)
    returns, fatal = [], []
    for path in _expand([Path(p) for p in paths]):
        if path.is_dir():
            ret = _parse_csv(path, key)
        elif path.is_file():
            ret = _parse_xml(path, key)
        else:
            fatal.append(_problem(display_path(path), "missing-file"))
            continue
        fatal.extend(ret.fatal)
        returns.append(ret)
    las = sorted({r.la_code for r in returns})
    if len(las) > 1:
        fatal.append(_problem(", ".join(r.file for r in returns), "different-la",
                              value=", ".join(las)))
    fatal.extend(_conflicting(returns))
    if fatal:
        return None, fatal
    returns.sort(key=lambda r: r.reference_date)
    return _assemble(returns, source=source, keep_rejected=keep_rejected), []


def _written_by_synth(paths: list) -> bool:  # noqa: ANN001 -- paths as given
    """True when every return given is an XML file ``cpstats synth`` wrote (its header's
    SoftwareCode says so): its children are invented, hashed with the published synthetic key
    like the synthetic county's other files, and labelled synthetic."""
    marker = f"<SoftwareCode>{SYNTHETIC_SOFTWARE}</SoftwareCode>".encode()

    def marked(file: Path) -> bool:
        if not (file.is_file() and file.suffix.lower() == ".xml"):
            return False
        with file.open("rb") as handle:
            return marker in handle.read(4096)

    files = _expand([Path(p) for p in paths])
    try:
        return bool(files) and all(marked(f) for f in files)
    except OSError:
        return False


def _expand(paths: list[Path]) -> list[Path]:
    """A folder of XML returns becomes its ``*.xml`` files, in name order; a folder of CSV
    tables (with ``meta.csv``) and a file stay as given."""
    out = []
    for path in paths:
        xml = (sorted(path.glob("*.xml")) if path.is_dir() and not (path / "meta.csv").exists()
               else [])
        out.extend(xml or [path])
    return out


def _assemble(returns: list[_Return], *, source: str | None,
              keep_rejected: bool) -> CinCensusData:
    summary = ReadSummary(files=[r.file for r in returns],
                          variants={r.file: r.variants for r in returns})
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in childlevel.TABLES}
    for order, ret in enumerate(returns):
        finder = _Finder(ret)
        _duplicates(ret, finder)
        typed = _typed(ret, finder)
        _check_dates(ret, typed, finder)
        _check_children(typed, finder)
        summary.problems.extend(sorted([*ret.problems, *finder.problems()],
                                       key=lambda p: p.line or p.row or 0))
        _stable_ids(typed)
        typed["children"] = _finish_children(typed["children"])
        for name, frame in typed.items():
            parts[name].append(frame.assign(_order=order))
    rejected = {p.child for p in summary.problems if p.severity == ERROR and p.child}
    files = summary.files
    tables = {}
    all_children = set().union(*(set(f["child_id"]) for f in parts["children"]))
    for name in childlevel.TABLES:
        frame = pd.concat(parts.pop(name), ignore_index=True)  # popped: freed as we go
        summary.rows_read[name] = len(frame)
        frame, conflicts = _combine(name, frame, files if len(files) > 1 else files[:1])
        summary.problems.extend(conflicts)
        if rejected and not keep_rejected:
            frame = frame.loc[~_member(frame["child_id"], pd.Series(sorted(rejected)))]
        tables[name] = _conform(name, frame)
        summary.rows_kept[name] = len(tables[name])
    summary.children_read = len(all_children)
    summary.children_rejected = len(rejected & all_children)
    summary.children_kept = len(tables["children"])
    latest = returns[-1]
    return CinCensusData(
        la_code=latest.la_code, reference_date=latest.reference_date.date(),
        source=source or latest.source or "cin_census", summary=summary, **tables)


def write_csv(data: CinData, folder: str | Path) -> Path:
    """Write ``data`` as a CSV folder :func:`read_returns` reads back (IDs stay hashed).

    Written to a temporary folder beside ``folder`` and renamed, so a failure
    leaves no half-written output. An existing ``folder`` is replaced.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        pd.DataFrame({"la_code": [data.la_code],
                      "reference_date": [data.reference_date.isoformat()],
                      "source": [data.source]}).to_csv(tmp / "meta.csv", index=False)
        for name in childlevel.TABLES:
            table = data.table(name)
            out = table.copy()
            for column in _DATE_COLUMNS[name]:
                out[column] = _iso(out[column])
            out.to_csv(tmp / f"{name}.csv", index=False)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return folder


__all__ = ["CinCensusData", "CinProblem", "ReadSummary", "check_cin_census", "read_cin_census",
           "read_returns", "write_csv"]


# =========================================================================== cpstats check
def _stamp(path: Path) -> tuple:
    """Identity of a file or CSV folder's current content (for caching one check)."""
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


def _inspect(path: Path) -> tuple[tuple[Problem, ...], str]:
    """Problems and a one-line summary of one return (check and describe share one read)."""
    return _inspect_cached(path, _stamp(path), load_secret())


@functools.lru_cache(maxsize=4)
def _inspect_cached(path: Path, stamp: tuple, secret: bytes) -> tuple[tuple[Problem, ...], str]:
    del stamp  # part of the cache key only: a changed file is read again
    data, fatal = _load([path], secret=secret, source=None, keep_rejected=False)
    if data is None:
        return tuple(fatal), "CIN Census return (unreadable)"
    kind = "CSV folder" if path.is_dir() else "XML"
    variants = ", ".join(v for vs in data.summary.variants.values() for v in vs)
    text = (f"CIN Census return ({kind}; LA {data.la_code or '?'}, reference date "
            f"{data.reference_date}, {variants}): {data.summary}")
    return tuple(data.summary.problems), text


def _is_csv_table(path: Path) -> bool:
    folder = path.parent
    return (path.suffix.lower() == ".csv" and path.stem in {"meta", *childlevel.TABLES}
            and (folder / "meta.csv").is_file() and (folder / "children.csv").is_file())


def _check_csv_table(path: Path) -> list[Problem]:
    """The folder's problems that belong to this file (meta.csv takes the rest)."""
    folder = path.parent
    problems, _ = _inspect(folder)
    own = display_path(path)
    tables = {display_path(folder / f"{name}.csv") for name in childlevel.TABLES}
    if path.stem == "meta":
        return [p for p in problems if p.file not in tables]
    return [p for p in problems if p.file == own]


def _describe_csv_table(path: Path) -> str:
    if path.stem == "meta":
        return _inspect(path.parent)[1]
    return f"table {path.stem} of the CIN Census CSV return in {display_path(path.parent)}"


register_checker(
    "cin_census_xml", lambda path: path.suffix.lower() == ".xml",
    lambda path: list(_inspect(path)[0]),
    "CIN Census return, the DfE child-level XML (any collection year)",
    lambda path: _inspect(path)[1])
register_checker(
    "cin_census_csv", _is_csv_table, _check_csv_table,
    "CIN Census tables as CSV: a folder with meta.csv (la_code, reference_date), "
    "children.csv, referrals.csv, ... (columns of cpstats.childlevel.SCHEMA)",
    _describe_csv_table)
