"""Write :class:`~cpstats.childlevel.CinData` as CIN Census XML, one return per year.

Used for the synthetic county. Each return holds what a council's return for that year
holds: the children with a CIN episode open at some point in the year, and only the
activity of the year (assessments authorised in it, section 47 enquiries whose ICPC is in
it, plans open in it, reviews held in it); anything after the reference date is left out
(events) or blank (end and closure dates, ICPCs, births still to come, and the factors of
an assessment not yet authorised). An expected birth date is dropped once the child is
born; school-age children carry a UPN, younger ones ``<UPNunknown>UN1``. Elements and codes
follow the year's specification (:mod:`cpstats.cin_spec`): no ``<CINPlanDates>`` before
2021-22. :func:`cpstats.io.cin_census.read_returns` reads the returns back into one history
(:func:`held_by_returns`).

Element order follows ``liia_tools_CIN_schema_2024.xsd`` (``<GenderCurrent>`` codes 1
male, 2 female, 0 not recorded or unborn). One difference from that schema is
deliberate: it types ``NumberOfPreviousCPP`` as a positive integer, but a first plan
has 0 previous plans (DfE's specification allows 0), so 0 is written.

Text is built per table with vectorised string operations, then joined per CIN
episode and per child, a chunk of children at a time, so memory stays bounded.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from cpstats import __version__, periods
from cpstats.childlevel import TABLES, CinData
from cpstats.cin_spec import spec
from cpstats.identifiers import SYNTHETIC_SOFTWARE
from cpstats.measures import isin

GENDER_CODE = {"male": "1", "female": "2", "unknown": "0"}
#: Written in <SoftwareCode> so any reader of the file can see it is not real data.
CHUNK = 20_000
#: Age from which a child has a UPN (school age); younger children are written as UN1.
UPN_AGE = 5


def write_return(data: CinData, path: str | Path, reference_date: date | None = None, *,
                 la_child_ids: pd.Series | None = None, upns: pd.Series | None = None,
                 whole_history: bool = False) -> Path:
    """Write one CIN Census return as XML (atomically: a temp file, then renamed).

    Parameters
    ----------
    data
        The records.
    path
        The XML file to write.
    reference_date
        31 March of the return's year (default ``data.reference_date``).
    la_child_ids
        ``LAchildID`` to write for each ``child_id`` (index); default: the ``child_id``.
    upns
        ``UPN`` of each ``child_id`` (index), written for children of school age
        (:data:`UPN_AGE`); younger and unborn children get ``<UPNunknown>UN1``.
    whole_history
        Keep every episode referred by the reference date and all its activity, not only
        what the return's year holds (one combined file instead of one per year).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ref = pd.Timestamp(reference_date or data.reference_date)
    first = None if whole_history else _year_start(ref)
    tables = _for_return(data, ref, first)
    names = la_child_ids if la_child_ids is not None else pd.Series(
        tables["children"]["child_id"].to_numpy(), index=tables["children"]["child_id"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(_header(data, ref))
            children = tables["children"].assign(
                la_child_id=names.reindex(tables["children"]["child_id"]).to_numpy(),
                upn=_upns(tables["children"], upns, ref))
            children = children.sort_values("la_child_id", kind="stable")
            for start in range(0, len(children), CHUNK):
                chunk = children.iloc[start:start + CHUNK]
                part = {k: v[isin(v["child_id"], chunk["child_id"])]
                        for k, v in tables.items() if k != "children"}
                out.write(_children_xml(chunk, part, ref))
            out.write("</Children>\n</Message>\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_returns(data: CinData, folder: str | Path, years: tuple[int, int], *,
                  la_child_ids: pd.Series | None = None, upns: pd.Series | None = None,
                  prefix: str = "") -> list[Path]:
    """One return per year ending 31 March from ``years[0]`` to ``years[1]``, named
    ``<prefix>cin_census_<year>.xml`` (e.g. ``cin_census_2017.xml`` for 2016-17)."""
    folder = Path(folder)
    return [write_return(data, folder / f"{prefix}cin_census_{year}.xml", periods.year_end(year),
                         la_child_ids=la_child_ids, upns=upns)
            for year in range(years[0], years[1] + 1)]


def held_by_returns(data: CinData, years: tuple[int, int]) -> CinData:
    """The records that the returns for ``years`` hold between them: what reading them all
    back (:func:`cpstats.io.cin_census.read_returns`) gives.

    Activity before the first return's year, and CIN plans in years whose specification
    has no ``<CINPlanDates>``, are in no return; everything else is, with its latest values.
    """
    held = {name: np.zeros(len(data.table(name)), dtype=bool) for name in TABLES}
    for year in range(years[0], years[1] + 1):
        ref = pd.Timestamp(periods.year_end(year))
        for name, mask in _selection(data, ref, _year_start(ref)).items():
            held[name] |= mask
    tables = {name: data.table(name)[held[name]].reset_index(drop=True) for name in TABLES}
    return replace(data, **tables)


# ---------------------------------------------------------------------------------------------
# Selecting and censoring a return's records


def _year_start(ref: pd.Timestamp) -> pd.Timestamp:
    return ref - pd.DateOffset(years=1) + pd.Timedelta(days=1)


def _selection(data: CinData, ref: pd.Timestamp, first: pd.Timestamp | None
               ) -> dict[str, np.ndarray]:
    """Which rows of each table a return holds: episodes open in its year (from ``first``;
    ``None``: every episode) and the activity of the year, nothing started after ``ref``.

    A return lists an assessment authorised in its year (or not yet), a section 47 whose
    ICPC (or, with none, whose start) is in the year, plans and reviews in the year.
    """
    def since(dates: pd.Series) -> pd.Series:
        if first is None:
            return pd.Series(True, index=dates.index)
        return dates.isna() | (dates >= first)

    r = data.referrals
    episode = (r["referral_date"] <= ref) & since(r["closure_date"])
    episodes = r.loc[episode, ["child_id", "cin_id"]]

    def in_episode(frame: pd.DataFrame) -> pd.Series:
        hit = frame[["child_id", "cin_id"]].merge(episodes.assign(_in=True), how="left")["_in"]
        return pd.Series(hit.notna().to_numpy(), index=frame.index)

    a, s, p, c = data.assessments, data.s47s, data.cp_plans, data.cin_plans
    plans = in_episode(p) & (p["start_date"] <= ref) & since(p["end_date"])
    kept_plans = p.loc[plans, ["child_id", "plan_id"]].assign(_in=True)
    reviews = data.reviews[["child_id", "plan_id"]].merge(kept_plans, how="left")["_in"].notna()
    reviews = reviews.to_numpy() & (data.reviews["review_date"] <= ref).to_numpy() & (
        (data.reviews["review_date"] >= first).to_numpy() if first is not None else True)
    cin_plans = in_episode(c) & (c["start_date"] <= ref) & since(c["end_date"])
    return {
        "children": isin(data.children["child_id"], episodes["child_id"]).to_numpy(),
        "referrals": episode.to_numpy(),
        "assessments": (in_episode(a) & (a["start_date"] <= ref)
                        & since(a["authorised_date"])).to_numpy(),
        "s47s": (in_episode(s) & (s["s47_start_date"] <= ref)
                 & since(s["icpc_date"].fillna(s["s47_start_date"]))).to_numpy(),
        "cp_plans": plans.to_numpy(),
        "reviews": np.asarray(reviews, dtype=bool),
        "cin_plans": (cin_plans & spec(ref.year).cin_plan_dates).to_numpy(),
    }


def _for_return(data: CinData, ref: pd.Timestamp, first: pd.Timestamp | None
                ) -> dict[str, pd.DataFrame]:
    """The records a return with reference date ``ref`` holds, with what was still to come
    at ``ref`` left blank (ends, closures, ICPCs, births and what depends on them)."""
    masks = _selection(data, ref, first)
    t = {name: data.table(name)[masks[name]] for name in TABLES}
    referrals = _blank_after(t["referrals"], ref, "closure_date", also=["closure_reason"])
    assessments = _blank_after(t["assessments"], ref, "authorised_date")
    # Factors are recorded when the assessment is authorised.
    assessments = assessments.assign(factors=assessments["factors"].where(
        assessments["authorised_date"].notna()))
    children = t["children"]
    born = children["birth_month"] <= ref
    children = children.assign(birth_month=children["birth_month"].where(born),
                               gender=children["gender"].where(born, "unknown"),
                               expected_birth_month=children["expected_birth_month"].where(~born))
    return {"children": children, "referrals": referrals, "assessments": assessments,
            "s47s": _blank_after(t["s47s"], ref, "icpc_date"),
            "cp_plans": _blank_after(t["cp_plans"], ref, "end_date"),
            "cin_plans": _blank_after(t["cin_plans"], ref, "end_date"), "reviews": t["reviews"]}


def _blank_after(frame: pd.DataFrame, ref: pd.Timestamp, column: str,
                 also: list[str] = ()) -> pd.DataFrame:
    after = frame[column] > ref
    return frame.assign(**{c: frame[c].mask(after) for c in [column, *also]})


def _upns(children: pd.DataFrame, upns: pd.Series | None, ref: pd.Timestamp) -> pd.Series:
    """``UPN`` text for school-age children with a known UPN, else ``UN1`` (under school
    age or unborn) as ``<UPNunknown>``, else missing."""
    known = upns.reindex(children["child_id"]).to_numpy() if upns is not None else None
    school_age = (children["birth_month"] <= ref - pd.DateOffset(years=UPN_AGE)).to_numpy()
    young = ~school_age
    out = pd.Series(None, index=children.index, dtype=object)
    if known is not None:
        out[school_age] = [f"<UPN>{u}</UPN>\n" if isinstance(u, str) else None
                           for u in known[school_age]]
    out[young] = "<UPNunknown>UN1</UPNunknown>\n"
    return out.fillna("")


# ---------------------------------------------------------------------------------------------
# Text


def _header(data: CinData, ref: pd.Timestamp) -> str:
    software = SYNTHETIC_SOFTWARE if data.source == "synthetic" else "cpstats"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n<Header>\n<CollectionDetails>\n'
        f"<Collection>CIN</Collection>\n<Year>{ref.year}</Year>\n"
        f"<ReferenceDate>{ref:%Y-%m-%d}</ReferenceDate>\n</CollectionDetails>\n<Source>\n"
        f"<SourceLevel>L</SourceLevel>\n<LEA>{escape(data.la_code)}</LEA>\n"
        f"<SoftwareCode>{software}</SoftwareCode>\n<Release>{__version__}</Release>\n"
        f"<SerialNo>001</SerialNo>\n<DateTime>{ref:%Y-%m-%d}T00:00:00</DateTime>\n"
        "</Source>\n</Header>\n<Children>\n")


def _el(tag: str, values: pd.Series) -> pd.Series:
    """``<tag>value</tag>\\n`` per row, or empty where the value is missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_bool_dtype(values):
        text = values.map({True: "true", False: "false"})
    else:
        text = values.astype("string")
    out = f"<{tag}>" + text.astype("string") + f"</{tag}>\n"
    return out.fillna("").astype(object)


def _repeated(tag: str, item: str, values: pd.Series) -> pd.Series:
    """``<tag><item>a</item><item>b</item></tag>`` from comma-joined codes, or empty."""
    inner = values.astype("string").str.replace(",", f"</{item}>\n<{item}>", regex=False)
    out = f"<{tag}>\n<{item}>" + inner + f"</{item}>\n</{tag}>\n"
    return out.fillna("").astype(object)


def _joined(frame: pd.DataFrame, keys: list[str], text: pd.Series) -> pd.Series:
    """``text`` concatenated per ``keys`` group (in the frame's order)."""
    if frame.empty:
        return pd.Series(dtype=object)
    grouped = pd.DataFrame({**{k: frame[k].to_numpy() for k in keys}, "t": text.to_numpy()})
    return grouped.groupby(keys, sort=False)["t"].agg("".join)


def _children_xml(children: pd.DataFrame, t: dict[str, pd.DataFrame], ref: pd.Timestamp) -> str:
    episode = ["child_id", "cin_id"]
    reviews = t["reviews"].sort_values(["child_id", "plan_id", "review_date"], kind="stable")
    review_text = _joined(reviews, ["child_id", "plan_id"], _el("CPPreviewDate",
                                                                  reviews["review_date"]))
    plans = t["cp_plans"].sort_values(["child_id", "start_date"], kind="stable")
    plan_reviews = pd.Series(list(zip(plans["child_id"], plans["plan_id"], strict=True)),
                             index=plans.index).map(review_text).fillna("")
    plan_reviews = ("<Reviews>\n" + plan_reviews + "</Reviews>\n").where(plan_reviews != "", "")
    plan_text = ("<ChildProtectionPlans>\n" + _el("CPPstartDate", plans["start_date"])
                 + _el("CPPendDate", plans["end_date"])
                 + _el("InitialCategoryOfAbuse", plans["initial_category"])
                 + _el("LatestCategoryOfAbuse", plans["latest_category"])
                 + _el("NumberOfPreviousCPP", plans["previous_plans"].fillna(0))
                 + plan_reviews + "</ChildProtectionPlans>\n")
    a = t["assessments"].sort_values(["child_id", "start_date"], kind="stable")
    assessment_text = ("<Assessments>\n" + _el("AssessmentActualStartDate", a["start_date"])
                       + _el("AssessmentAuthorisationDate", a["authorised_date"])
                       + _repeated("FactorsIdentifiedAtAssessment", "AssessmentFactors",
                                   a["factors"]) + "</Assessments>\n")
    c = t["cin_plans"].sort_values(["child_id", "start_date"], kind="stable")
    cin_plan_text = ("<CINPlanDates>\n" + _el("CINPlanStartDate", c["start_date"])
                     + _el("CINPlanEndDate", c["end_date"]) + "</CINPlanDates>\n")
    s = t["s47s"].sort_values(["child_id", "s47_start_date"], kind="stable")
    s47_text = ("<Section47>\n" + _el("S47ActualStartDate", s["s47_start_date"])
                + _el("InitialCPCtarget", s["icpc_target_date"])
                + _el("DateOfInitialCPC", s["icpc_date"])
                + _el("ICPCnotRequired", s["icpc_not_required"].fillna(False))
                + "</Section47>\n")
    r = t["referrals"].sort_values(["child_id", "referral_date"], kind="stable")
    key = pd.Series(list(zip(r["child_id"], r["cin_id"], strict=True)), index=r.index)

    def nested(frame: pd.DataFrame, text: pd.Series) -> pd.Series:
        return key.map(_joined(frame, episode, text)).astype(object).fillna("")

    cin_text = ("<CINdetails>\n" + _el("CINreferralDate", r["referral_date"])
                + _el("ReferralSource", r["referral_source"])
                + _el("PrimaryNeedCode", r["primary_need"])
                + _el("CINclosureDate", r["closure_date"])
                + _el("ReasonForClosure", r["closure_reason"])
                + nested(a, assessment_text) + nested(c, cin_plan_text) + nested(s, s47_text)
                + _el("ReferralNFA", r["nfa"].fillna(False)) + nested(plans, plan_text)
                + "</CINdetails>\n")
    details = children["child_id"].map(_joined(r, ["child_id"], cin_text)).fillna("")
    ids = children["la_child_id"].astype("string").map(escape)
    child_text = ("<Child>\n<ChildIdentifiers>\n<LAchildID>" + ids + "</LAchildID>\n"
                  + children["upn"] + _el("PersonBirthDate", children["birth_month"])
                  + _el("ExpectedPersonBirthDate", children["expected_birth_month"])
                  + "<GenderCurrent>" + children["gender"].map(GENDER_CODE).fillna("0")
                  + "</GenderCurrent>\n" + _el("PersonDeathDate", children["death_date"])
                  + "</ChildIdentifiers>\n<ChildCharacteristics>\n"
                  + _el("Ethnicity", children["ethnicity"].fillna("NOBT"))
                  + _repeated("Disabilities", "Disability", children["disabilities"])
                  + "</ChildCharacteristics>\n" + details + "</Child>\n")
    return "".join(child_text.astype(str))
