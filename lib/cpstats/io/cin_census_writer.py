"""Write :class:`~cpstats.childlevel.CinData` as CIN Census XML (the 2024 schema's layout).

Used for the synthetic county: one return per year ending 31 March, each holding the
children with a CIN episode open at some point in that year, with everything dated
after its reference date left out (events) or blank (end and closure dates, births
still to come), as a council's return would be. :func:`cpstats.io.cin_census.read_returns`
reads the returns back into the same tables.

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
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from cpstats import __version__, periods
from cpstats.childlevel import CinData
from cpstats.measures import isin

GENDER_CODE = {"male": "1", "female": "2", "unknown": "0"}
#: Written in <SoftwareCode> so any reader of the file can see it is not real data.
SYNTHETIC_SOFTWARE = "cpstats synthetic county (not real data)"
CHUNK = 20_000


def write_return(data: CinData, path: str | Path, reference_date: date | None = None, *,
                 la_child_ids: pd.Series | None = None, whole_history: bool = False) -> Path:
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
    whole_history
        Keep every episode referred by the reference date, not only those open in the
        return's year (one combined file instead of one per year).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ref = pd.Timestamp(reference_date or data.reference_date)
    first = None if whole_history else ref - pd.DateOffset(years=1) + pd.Timedelta(days=1)
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
                la_child_id=names.reindex(tables["children"]["child_id"]).to_numpy())
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
                  la_child_ids: pd.Series | None = None, prefix: str = "") -> list[Path]:
    """One return per year ending 31 March from ``years[0]`` to ``years[1]``, named
    ``<prefix>cin_census_<year>.xml`` (e.g. ``cin_census_2017.xml`` for 2016-17)."""
    folder = Path(folder)
    return [write_return(data, folder / f"{prefix}cin_census_{year}.xml", periods.year_end(year),
                         la_child_ids=la_child_ids)
            for year in range(years[0], years[1] + 1)]


# ---------------------------------------------------------------------------------------------
# Selecting and censoring a return's records


def _for_return(data: CinData, ref: pd.Timestamp, first: pd.Timestamp | None
                ) -> dict[str, pd.DataFrame]:
    """The records a return with reference date ``ref`` holds: episodes open in its year
    (from ``first``), nothing dated after ``ref``."""
    ref_table = data.referrals
    keep = ref_table["referral_date"] <= ref
    if first is not None:
        keep &= ref_table["closure_date"].isna() | (ref_table["closure_date"] >= first)
    episodes = ref_table.loc[keep, ["child_id", "cin_id"]]

    def within(name: str) -> pd.DataFrame:
        return data.table(name).merge(episodes, on=["child_id", "cin_id"], how="inner")

    referrals = _blank_after(ref_table[keep], ref, "closure_date", also=["closure_reason"])
    assessments = _blank_after(_on_or_before(within("assessments"), "start_date", ref), ref,
                               "authorised_date")
    s47s = _blank_after(_on_or_before(within("s47s"), "s47_start_date", ref), ref, "icpc_date")
    plans = _blank_after(_on_or_before(within("cp_plans"), "start_date", ref), ref, "end_date")
    cin_plans = _blank_after(_on_or_before(within("cin_plans"), "start_date", ref), ref,
                             "end_date")
    reviews = _on_or_before(data.reviews.merge(plans[["child_id", "plan_id"]],
                                               on=["child_id", "plan_id"]), "review_date", ref)
    children = data.children[isin(data.children["child_id"], episodes["child_id"])]
    born = children["birth_month"] <= ref
    children = children.assign(birth_month=children["birth_month"].where(born),
                               gender=children["gender"].where(born, "unknown"))
    return {"children": children, "referrals": referrals, "assessments": assessments,
            "s47s": s47s, "cp_plans": plans, "cin_plans": cin_plans, "reviews": reviews}


def _on_or_before(frame: pd.DataFrame, column: str, ref: pd.Timestamp) -> pd.DataFrame:
    return frame[frame[column] <= ref]


def _blank_after(frame: pd.DataFrame, ref: pd.Timestamp, column: str,
                 also: list[str] = ()) -> pd.DataFrame:
    after = frame[column] > ref
    return frame.assign(**{c: frame[c].mask(after) for c in [column, *also]})


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
        return key.map(_joined(frame, episode, text)).fillna("")

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
                  + _el("PersonBirthDate", children["birth_month"])
                  + _el("ExpectedPersonBirthDate", children["expected_birth_month"])
                  + "<GenderCurrent>" + children["gender"].map(GENDER_CODE).fillna("0")
                  + "</GenderCurrent>\n" + _el("PersonDeathDate", children["death_date"])
                  + "</ChildIdentifiers>\n<ChildCharacteristics>\n"
                  + _el("Ethnicity", children["ethnicity"].fillna("NOBT"))
                  + _repeated("Disabilities", "Disability", children["disabilities"])
                  + "</ChildCharacteristics>\n" + details + "</Child>\n")
    return "".join(child_text.astype(str))
