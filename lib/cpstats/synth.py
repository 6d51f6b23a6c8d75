"""A synthetic county: child-level CIN Census records calibrated to the report's county.

Buckinghamshire (LA 825), years ending March 2013-2017 by default. Real
child-level data can never be published, so the default run and the tests use
this county; everything derived from it carries ``source = "synthetic"``.

Its dynamics are its own, simulated month by month:

* **Conferences.** Initial child protection conferences (ICPCs) arrive at a yearly
  volume that grows as the county's did, spread over the year with fewer in school
  holidays (a weekday in a school holiday gets :data:`HOLIDAY_DIP` of a term-time
  weekday's share) and, in 2016-17, the report's rise in Q3-Q4.
* **Pipeline.** Each ICPC follows a section 47 enquiry started some working days
  before (about 70% within 15, as the county's 69.6% in 2016-17), which follows a
  referral. About 84% of ICPCs start a plan that day. Other s47s end without an
  ICPC, and most referrals without an s47.
* **Families.** The children at a conference come in sibling groups (:data:`FAMILY_SIZES`):
  one referral date, one s47, one conference and one plan start and end for the group.
* **Plans** last a duration drawn from a survival curve (:data:`SURVIVAL`), are
  reviewed 3 months after the start and every 6 months after that (a few reviews
  late), and end; some children return for a second or later plan.
* **Who.** Age at the plan's start, gender, category of abuse and disability follow
  the report's mixes at 31 March 2017; ethnicity is drawn from the county's 0-17
  population in the 2011 Census (:data:`CENSUS_2011_0_17`) weighted by
  :data:`ETHNIC_RELATIVE_RATE`, so some groups are deliberately over- and
  under-represented.

Finally the end dates of a few plans (about 1-3%) are nudged so that children on
plans at each 31 March match :data:`STOCK_TARGETS` (random noise alone would miss the
report's figures by a few per cent); a sibling group's plans are nudged together. Nothing here is fitted to, or copied from, a
forecasting model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from cpstats import measures, periods, school_holidays
from cpstats.childlevel import CinData, conform_table
from cpstats.cin_spec import collection_year, spec
from cpstats.defaults import DEFAULT_LA, DEFAULT_YEAR
from cpstats.errors import ParameterError
from cpstats.identifiers import SYNTHETIC_SECRET, ChildHasher
from cpstats.workdays import (
    ICPC_WORKING_DAYS,
    add_working_days,
    business_calendar,
    icpc_deadline,
    is_working_day,
)

DEFAULT_SEED = 2017
DEFAULT_YEARS = (2013, DEFAULT_YEAR)
#: Years simulated before the first return so plans open at its start exist.
BURN_IN_YEARS = 3

#: Children aged 0-17 in Buckinghamshire by ethnic group: Census 2011 table DC2101EW (ethnic
#: group by sex by age), usual residents on 27 March 2011, sum of Aylesbury Vale E07000004,
#: Chiltern E07000005, South Bucks E07000006 and Wycombe E07000007, age bands 0-4, 5-7, 8-9,
#: 10-14, 15 and 16-17 (total 115,545). Source: ONS via nomis, Open Government Licence v3.0.
#: Census "Gypsy or Irish Traveller" (217) is split evenly between WIRT and WROM, and "Arab"
#: (237) is added to OOTH (any other ethnic group), as the CIN codes have no Arab group.
CENSUS_2011_0_17: dict[str, float] = {
    "WBRI": 87147, "WIRI": 470, "WIRT": 108.5, "WOTH": 3510, "WROM": 108.5,
    "MWBC": 2570, "MWBA": 695, "MWAS": 2616, "MOTH": 1384,
    "AIND": 2882, "APKN": 8229, "ABAN": 338, "AOTH": 1897,
    "BCRB": 892, "BAFR": 1163, "BOTH": 426, "CHNE": 498, "OOTH": 611,
}
#: How much more (or less) likely a child of each group is, than a White British child, to
#: be the subject of a section 47 enquiry, ICPC and plan (deliberate, so the ethnicity theme
#: has something to find). Children referred without an s47 use the square root of it, so
#: disparity opens partly at referral and partly at the s47 decision.
ETHNIC_RELATIVE_RATE: dict[str, float] = {
    "WBRI": 1.0, "WIRI": 2.5, "WIRT": 5.0, "WOTH": 1.8, "WROM": 3.0,
    "MWBC": 2.2, "MWBA": 2.5, "MWAS": 1.4, "MOTH": 4.5,
    "AIND": 0.3, "APKN": 0.5, "ABAN": 0.5, "AOTH": 0.8,
    "BCRB": 3.2, "BAFR": 2.2, "BOTH": 6.0, "CHNE": 0.2, "OOTH": 4.5,
}
#: Share of children whose ethnicity is not obtained / refused.
ETHNICITY_NOT_OBTAINED, ETHNICITY_REFUSED = 0.03, 0.004

#: Children on plans at 31 March (the report: 333, 450, 564 for 2015-2017; DfE for 2013-14).
STOCK_TARGETS: dict[int, int] = {2013: 190, 2014: 242, 2015: 333, 2016: 450, 2017: 564}
#: Plans starting per year ending 31 March (2017: the county's 725; earlier years set so the
#: stock grows as it did) and other yearly volumes (2017: referrals 9,204, s47s 2,576, ICPCs 866).
PLAN_STARTS: dict[int, int] = {2010: 210, 2011: 210, 2012: 215, 2013: 250, 2014: 330,
                               2015: 440, 2016: 590, 2017: 725}
ICPC_TO_PLAN = 0.835
S47_TO_ICPC: dict[int, float] = {2017: 870 / 2600}
REFERRALS: dict[int, int] = {2010: 5500, 2011: 5500, 2012: 5500, 2013: 5600, 2014: 6000,
                             2015: 6400, 2016: 6933, 2017: 9200}
DEFAULT_S47_TO_ICPC = 0.36

#: Weight of each month (April first) for conferences; 2016-17 has the report's Q3-Q4 rise.
MONTH_WEIGHTS: dict[int | None, tuple[float, ...]] = {
    None: (0.95, 1.0, 1.0, 1.0, 0.95, 1.0, 1.0, 1.05, 1.0, 1.0, 1.05, 1.05),
    2017: (0.85, 0.95, 0.95, 0.9, 0.9, 0.95, 1.0, 1.15, 1.0, 0.9, 1.8, 0.8),
}
#: A school-holiday weekday's weight relative to a term-time weekday (for conferences).
HOLIDAY_DIP = 0.55
#: Referral volume by month (April first): troughs in April, August and December.
REFERRAL_MONTHS = (0.8, 1.0, 1.0, 0.95, 0.85, 1.0, 1.05, 1.25, 0.85, 1.05, 1.05, 1.15)

#: Plan duration survival: share of plans still open after each number of months.
SURVIVAL = ((0, 1.0), (1, 0.975), (2, 0.94), (3, 0.87), (6, 0.6), (9, 0.4), (12, 0.28),
            (18, 0.13), (24, 0.02), (30, 0.006), (36, 0.0))
#: Age band at the start of a plan (unborn: an expected birth 1-6 months later).
PLAN_AGE_MIX = {"unborn": 0.06, "under_1": 0.08, "1_4": 0.265, "5_9": 0.3, "10_15": 0.245,
                "16_plus": 0.05}
#: Age bands of children (born) on plans at 31 March 2017 (the report), their range in
#: months at that date.
AGE_MIX_2017 = {"under_1": (41, 0, 11), "1_4": (146, 12, 59), "5_9": (172, 60, 119),
                "10_15": (157, 120, 191), "16_plus": (37, 192, 203)}
OTHER_AGE_MIX = {"unborn": 0.02, "under_1": 0.07, "1_4": 0.22, "5_9": 0.26, "10_15": 0.31,
                 "16_plus": 0.12}
CATEGORY_MIX = {"NEG": 0.495, "EMO": 0.431, "SAB": 0.046, "PHY": 0.028}
MALE_SHARE = 290 / 553
DISABLED_SHARE = {"cp": 0.06, "other": 0.09}
#: Share of plan starts that are a child's second or later plan (the county: 14.3% in 2017).
REPEAT_SHARE = 0.12
#: Share of new children whose earlier plan was before the records begin.
EARLIER_PLAN_SHARE = 0.03
REVIEW_LATE_SHARE = 0.04
#: Children per sibling group brought to one initial conference (size -> probability): an
#: assumption, not a published figure (DfE publishes no family counts). The children of a group
#: share the referral, the s47 enquiry, the conference and, when a plan follows, its start and
#: end: a mean of 1.8 children per conference and 74% of children with a sibling on the same
#: plan dates. Fixed before any forecast was scored on the county.
FAMILY_SIZES = {1: 0.50, 2: 0.28, 3: 0.14, 4: 0.08}
#: Working days from s47 start to ICPC: (low, high, probability) blocks, uniform within each.
ICPC_LAG = ((0, 10, 0.18), (11, 15, 0.52), (16, 20, 0.18), (21, 35, 0.12))

#: What is known of the county in 2016-17 (the report and DfE), with the tolerance the
#: synthetic county must meet: (measure, breakdown) -> (target, kind, tolerance). ``count``
#: targets are relative (0.03 = within 3%), ``share`` targets are in percentage points of
#: the snapshot at 31 March 2017.
CALIBRATION: dict[tuple[str, str], tuple[float, str, float]] = {
    ("cp_plans_at_31_march@2014-15", "total"): (333, "count", 0.03),
    ("cp_plans_at_31_march@2015-16", "total"): (450, "count", 0.03),
    ("cp_plans_at_31_march@2016-17", "total"): (564, "count", 0.03),
    ("referrals@2016-17", "total"): (9204, "count", 0.05),
    ("s47_enquiries@2016-17", "total"): (2576, "count", 0.05),
    ("icpcs@2016-17", "total"): (866, "count", 0.05),
    ("cp_plans_started@2016-17", "total"): (725, "count", 0.05),
    **{("cp_by_category@2016-17", f"category={k}"): (v / 564 * 100, "share", 3.0)
       for k, v in {"neglect": 279, "emotional_abuse": 243, "sexual_abuse": 26,
                    "physical_abuse": 16, "multiple": 0}.items()},
    **{("cp_by_gender@2016-17", f"gender={k}"): (v / 564 * 100, "share", 3.0)
       for k, v in {"male": 290, "female": 263, "unborn": 11}.items()},
    **{("cp_by_age_band@2016-17", f"age_band={k}"): (v / 564 * 100, "share", 3.0)
       for k, v in {"unborn": 11, "under_1": 41, "1_4": 146, "5_9": 172, "10_15": 157,
                    "16_plus": 37}.items()},
    **{("cp_by_duration_report@2016-17", f"duration={k}"): (v / 564 * 100, "share", 3.0)
       for k, v in {"under_4_weeks": 47, "4_to_8_weeks": 84, "8_weeks_to_3_months": 65,
                    "3_to_6_months": 134, "6_to_12_months": 139, "1_to_2_years": 92,
                    "2_to_3_years": 3}.items()},
}

REFERRAL_SOURCES = ("1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F", "4",
                    "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10")
REFERRAL_SOURCE_WEIGHTS = (4, 2, 1, 1, 16, 2, 6, 2, 1, 1, 1, 1, 3, 10, 1, 1, 1, 28, 3, 8, 2, 5)
FACTORS = ("3A", "3B", "4B", "2B", "1B", "16A", "17A", "6B", "5B", "11A", "14A", "21")
FACTOR_WEIGHTS = (10, 14, 12, 6, 5, 10, 8, 3, 3, 2, 3, 4)
DISABILITY_CODES = ("LD", "COMM", "BEH", "AUT", "MOB", "HEAR", "VIS", "DDA")


@dataclass
class SyntheticCounty:
    """A generated county: the records as :class:`CinData` plus each child's LA child ID.

    ``la_child_ids`` maps the hashed ``child_id`` to the (synthetic) ``LAchildID`` written
    to XML; reading the XML back with the synthetic secret gives the same ``child_id``.
    """

    data: CinData
    la_child_ids: pd.Series
    years: tuple[int, int]
    seed: int
    scale: float
    notes: list[str] = field(default_factory=list)
    #: Synthetic UPN of each ``child_id`` (index), with a valid check letter.
    upns: pd.Series | None = None

    @property
    def reference_dates(self) -> list[date]:
        """31 March of each return year."""
        return [periods.year_end(y) for y in range(self.years[0], self.years[1] + 1)]


# ---------------------------------------------------------------------------------------------
# Public entry point


def generate(seed: int = DEFAULT_SEED, la_code: str = DEFAULT_LA,
             years: tuple[int, int] = DEFAULT_YEARS, scale: float = 1.0) -> SyntheticCounty:
    """Generate the synthetic county's records.

    Parameters
    ----------
    seed
        Random seed: the same seed gives identical records.
    la_code
        DfE LA number written in the records (the calibration is Buckinghamshire's).
    years
        First and last years ending 31 March covered by the returns (inclusive).
    scale
        Multiplies every volume (children, referrals, plans); stock targets scale too.

    Returns
    -------
    SyntheticCounty
        ``data.source == "synthetic"``; ``data.reference_date`` = 31 March of the last year.
    """
    first, last = years
    if not (2005 <= first <= last <= 2030):
        raise ParameterError("--years", f"{first}-{last}", "years ending March, e.g. 2013-2017")
    if not 0 < scale <= 50:
        raise ParameterError("--scale", scale, "a positive scale up to 50")
    sim = _Simulation(np.random.default_rng(seed), la_code, first, last, scale)
    sim.run()
    data, ids = sim.tables()
    return SyntheticCounty(data=data, la_child_ids=ids, years=(first, last), seed=seed,
                           scale=scale, upns=_upns(la_code, ids))


def calibration(data: CinData, scale: float = 1.0) -> pd.DataFrame:
    """Each :data:`CALIBRATION` target beside the synthetic county's figure.

    Returns
    -------
    pandas.DataFrame
        ``measure, period, breakdown, target, actual, kind, tolerance, ok``; counts are
        compared relatively (targets times ``scale``), shares in percentage points.
    """
    wanted = sorted({key.split("@")[1] for key, _ in CALIBRATION})
    found = pd.concat([measures.period_facts(data, p) for p in wanted], ignore_index=True)
    rows = []
    for (key, breakdown), (target, kind, tolerance) in CALIBRATION.items():
        measure, period = key.split("@")
        if kind == "share":
            part = found[(found["measure"] == measure) & (found["period"] == period)]
            actual = float(part.loc[part["breakdown"] == breakdown, "value"].sum()
                           / part["value"].sum() * 100)
            ok = abs(actual - target) <= tolerance
        else:
            target = target * scale
            actual = float(found.loc[(found["measure"] == measure) & (found["period"] == period)
                                     & (found["breakdown"] == breakdown), "value"].iloc[0])
            ok = abs(actual / target - 1) <= tolerance
        rows.append({"measure": measure, "period": period, "breakdown": breakdown,
                     "target": round(target, 1), "actual": round(actual, 1), "kind": kind,
                     "tolerance": tolerance, "ok": ok})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Helpers


def _nearest(table: dict[int, int], year: int) -> int:
    """The value for ``year``, or for the nearest year listed (years outside the calibrated
    range keep the nearest known volume)."""
    return table[min(table, key=lambda known: (abs(known - year), known))]


#: Check letters of a UPN, by the weighted sum of its 12 digits modulo 23.
UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upns(la_code: str, la_child_ids: pd.Series) -> pd.Series:
    """A synthetic UPN per child: check letter, LA number and the child's serial number."""
    serial = la_child_ids.str.replace(r"\D", "", regex=True).str.slice(-9).str.zfill(9)
    digits = la_code.zfill(3) + serial
    text = "".join(digits.to_numpy(dtype=str)).encode("ascii")
    matrix = (np.frombuffer(text, dtype=np.uint8).astype("int64") - ord("0")).reshape(-1, 12)
    check = (matrix * np.arange(2, 14)).sum(axis=1) % 23
    letters = np.array(list(UPN_CHECK_LETTERS))[check]
    return pd.Series(letters + digits.to_numpy(dtype=str), index=la_child_ids.index, name="upn")


def _survival_days(u: np.ndarray) -> np.ndarray:
    months = np.array([m for m, _ in SURVIVAL], dtype=float)
    alive = np.array([s for _, s in SURVIVAL])
    days = np.interp(u, alive[::-1], months[::-1]) * 30.44
    return np.maximum(np.round(days), 7).astype("int64")


def _families(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sibling group (0, 1, ...) of each of ``n`` conference slots, sizes from
    :data:`FAMILY_SIZES` (the last group is cut to fit)."""
    sizes = rng.choice(list(FAMILY_SIZES), size=max(n, 1), p=list(FAMILY_SIZES.values()))
    return np.repeat(np.arange(sizes.size), sizes)[:n]


def _stratified(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniforms, one in each of n equal strata, in random order (low-variance draws)."""
    return rng.permutation((np.arange(n) + rng.random(n)) / n) if n else np.zeros(0)


def _choice(rng: np.random.Generator, options: tuple | list, weights, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(options, dtype=object), size=n, p=p / p.sum())


def _spread(rng: np.random.Generator, options: tuple | list, weights, n: int) -> np.ndarray:
    """Like :func:`_choice` but with stratified uniforms: shares match ``weights`` closely."""
    p = np.cumsum(np.asarray(weights, dtype=float))
    index = np.searchsorted(p / p[-1], _stratified(rng, n), side="right")
    return np.asarray(options, dtype=object)[np.minimum(index, len(p) - 1)]


def _left_to_right_sum(values: tuple[float, ...]) -> float:
    """Plain left-to-right float sum. Python 3.12's ``sum()`` compensates rounding, which moves
    the last bit of this total, then a rounded count, and so every later random draw: the
    synthetic county must be the same on every Python the package supports."""
    total = 0.0
    for value in values:
        total += value
    return total


def _round_counts(expected: np.ndarray) -> np.ndarray:
    """Integer counts with the same total as ``expected`` (largest remainders)."""
    floor = np.floor(expected).astype("int64")
    short = int(round(expected.sum())) - floor.sum()
    if short > 0:
        floor[np.argsort(floor - expected)[:short]] += 1
    return floor


def _ethnicity_weights(power: float) -> tuple[list[str], np.ndarray]:
    codes = list(CENSUS_2011_0_17)
    weights = np.array([CENSUS_2011_0_17[c] * ETHNIC_RELATIVE_RATE[c] ** power for c in codes])
    known = 1 - ETHNICITY_NOT_OBTAINED - ETHNICITY_REFUSED
    return ([*codes, "NOBT", "REFU"],
            np.append(weights / weights.sum() * known, [ETHNICITY_NOT_OBTAINED,
                                                        ETHNICITY_REFUSED]))


def _in_time_for_the_return(s47: np.ndarray, icpc: np.ndarray, month: pd.Period) -> np.ndarray:
    """Section 47 starts moved so that none waiting at a 31 March for an ICPC held after it
    started more than 15 working days before (a council would have held it, or recorded
    that none was needed: DfE 8675Q)."""
    year_end = np.datetime64(periods.year_end(periods.quarter_of(month.start_time)[0] - 1), "D")
    latest = np.datetime64(add_working_days(year_end.item(), -ICPC_WORKING_DAYS), "D")
    waiting = (s47 <= year_end) & (icpc > year_end) & (s47 < latest)
    return np.where(waiting, latest, s47)


class _Calendar:
    """Daily weights for conferences: weekdays that are not bank holidays, with school
    holidays dipped."""

    def __init__(self, start: pd.Timestamp, end: pd.Timestamp):
        self.days = pd.date_range(start, end, freq="D")
        working = is_working_day(pd.Series(self.days)).to_numpy(dtype=bool)
        holidays = school_holidays.load()
        in_holiday = np.zeros(len(self.days), dtype=bool)
        for first, last in zip(holidays["start"], holidays["end"], strict=True):
            in_holiday |= (self.days >= first) & (self.days <= last)
        self.weight = np.where(working, np.where(in_holiday, HOLIDAY_DIP, 1.0), 0.0)
        self.month = self.days.to_period("M")
        self.school_holiday = in_holiday
        term = np.where(self.weight == 1.0, np.arange(len(self.days)), 0)
        self.last_term_day = self.days.to_numpy()[np.maximum.accumulate(term)]

    def before_holiday(self, days: pd.Series) -> tuple[pd.Series, pd.Series]:
        """For each date: whether it is in a school holiday, and the last term-time working
        day on or before it."""
        index = (days - self.days[0]).dt.days.clip(0, len(self.days) - 1).to_numpy(dtype="int64")
        return (pd.Series(self.school_holiday[index], index=days.index),
                pd.Series(self.last_term_day[index], index=days.index).astype("datetime64[s]"))

    def sample(self, rng: np.random.Generator, month: pd.Period, n: int) -> np.ndarray:
        """``n`` conference days in ``month`` (datetime64[D])."""
        mask = self.month == month
        w = self.weight[mask]
        return rng.choice(self.days[mask].to_numpy().astype("datetime64[D]"), size=n, p=w / w.sum())

    def month_weight(self, month: pd.Period) -> float:
        return float(self.weight[self.month == month].sum())


# ---------------------------------------------------------------------------------------------
# The simulation


class _Simulation:
    """Month-by-month simulation; each step is vectorised over that month's events."""

    def __init__(self, rng: np.random.Generator, la_code: str, first: int, last: int,
                 scale: float):
        self.rng, self.la_code, self.first, self.last, self.scale = rng, la_code, first, last, scale
        self.start = pd.Timestamp(periods.year_start(first - BURN_IN_YEARS))
        self.end = pd.Timestamp(periods.year_end(last))
        self.calendar = _Calendar(self.start, self.end + pd.DateOffset(years=2))
        self.children: list[dict[str, np.ndarray]] = []
        self.episodes: list[dict[str, np.ndarray]] = []
        self.n_children = 0
        self.n_families = 0
        # Per child: latest episode end (for repeat referrals) and plans so far.
        self.child_free_from = np.zeros(0, dtype="datetime64[D]")
        self.child_birth = np.zeros(0, dtype="datetime64[D]")
        self.child_plans = np.zeros(0, dtype="int64")

    # -- volumes -------------------------------------------------------------------------
    def _yearly(self, year: int) -> dict[str, float]:
        starts = _nearest(PLAN_STARTS, year) * self.scale
        icpcs = starts / ICPC_TO_PLAN
        s47s = icpcs / S47_TO_ICPC.get(year, DEFAULT_S47_TO_ICPC)
        referrals = _nearest(REFERRALS, year) * self.scale
        return {"icpc": icpcs, "s47": s47s, "referral": referrals}

    def _monthly(self) -> pd.DataFrame:
        months = pd.period_range(self.start, self.end, freq="M")  # months simulated
        rows = []
        for year in range(self.first - BURN_IN_YEARS, self.last + 1):
            volumes = self._yearly(year)
            season = np.array(MONTH_WEIGHTS.get(year, MONTH_WEIGHTS[None]))
            in_year = [m for m in months if periods.quarter_of(m.start_time)[0] == year]
            days = np.array([self.calendar.month_weight(m) for m in in_year])
            conference = season * days / (season * days).sum()
            referral = np.array(REFERRAL_MONTHS) / _left_to_right_sum(REFERRAL_MONTHS)
            rows.append(pd.DataFrame({
                "month": in_year,
                "icpc": _round_counts(volumes["icpc"] * conference),
                "s47": _round_counts(volumes["s47"] * conference),
                "referral": _round_counts(volumes["referral"] * referral),
            }))
        return pd.concat(rows, ignore_index=True)

    # -- children ------------------------------------------------------------------------
    def _new_children(self, n: int, on: np.ndarray, cp: bool) -> np.ndarray:
        """Create ``n`` children referred on dates ``on``; returns their indices."""
        rng = self.rng
        mix = PLAN_AGE_MIX if cp else OTHER_AGE_MIX
        band = _spread(rng, list(mix), list(mix.values()), n)
        lower = {"unborn": -6, "under_1": 0, "1_4": 12, "5_9": 60, "10_15": 120, "16_plus": 192}
        upper = {"unborn": -1, "under_1": 11, "1_4": 59, "5_9": 119, "10_15": 191, "16_plus": 209}
        lo = np.array([lower[b] for b in band])
        hi = np.array([upper[b] for b in band])
        age_months = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype("int64")
        on_month = on.astype("datetime64[M]")
        birth = (on_month - age_months.astype("timedelta64[M]")).astype("datetime64[D]")
        birth = birth + rng.integers(0, 28, n).astype("timedelta64[D]")
        codes, weights = _ethnicity_weights(1.0 if cp else 0.5)
        share = DISABLED_SHARE["cp" if cp else "other"]
        disabled = _spread(rng, [True, False], [share, 1 - share], n).astype(bool)
        ids = np.arange(self.n_children, self.n_children + n)
        self.n_children += n
        self.children.append({
            "index": ids, "birth": birth, "unborn_at_referral": age_months < 0,
            "male": _spread(rng, [True, False], [MALE_SHARE, 1 - MALE_SHARE], n).astype(bool),
            "ethnicity": _spread(rng, codes, weights, n),
            "disabilities": np.where(disabled, _choice(rng, DISABILITY_CODES, [1] * 8, n), "NONE"),
            "earlier_plans": (rng.random(n) < EARLIER_PLAN_SHARE).astype("int64") if cp
            else np.zeros(n, dtype="int64"),
        })
        self.child_free_from = np.append(self.child_free_from, np.full(n, np.datetime64("NaT"),
                                                                       dtype="datetime64[D]"))
        self.child_birth = np.append(self.child_birth, birth)
        earlier = self.children[-1]["earlier_plans"]
        self.child_plans = np.append(self.child_plans, earlier)
        return ids

    def _returning(self, n: int, on: np.ndarray, had_plan: bool) -> np.ndarray:
        """Up to ``n`` earlier children free (episode closed, under 17) by the earliest ``on``."""
        if n == 0 or self.n_children == 0:
            return np.zeros(0, dtype="int64")
        earliest = on.min()
        free = self.child_free_from < earliest - np.timedelta64(90 if had_plan else 30, "D")
        young = self.child_birth > earliest - np.timedelta64(17 * 365, "D")
        pool = np.flatnonzero(free & young & ((self.child_plans > 0) == had_plan))
        k = min(n, len(pool))
        return self.rng.choice(pool, size=k, replace=False) if k else np.zeros(0, dtype="int64")

    # -- one month -----------------------------------------------------------------------
    def run(self) -> None:
        for row in self._monthly().itertuples(index=False):
            self._month(row.month, int(row.icpc), int(row.s47), int(row.referral))
        self._calibrate_stock()

    def _month(self, month: pd.Period, n_icpc: int, n_s47: int, n_ref: int) -> None:
        rng = self.rng
        # Conferences for sibling groups, and plans for most groups: a group shares its dates.
        family = _families(rng, n_icpc)
        n_fam = int(family.max()) + 1 if n_icpc else 0
        icpc = self.calendar.sample(rng, month, n_fam)[family]
        n_plan = int(round(n_icpc * ICPC_TO_PLAN))
        order = rng.permutation(n_fam)
        covered = np.cumsum(np.bincount(family, minlength=n_fam)[order]) <= n_plan
        plan = np.isin(family, order[covered])
        blocks = rng.choice(len(ICPC_LAG), size=n_fam, p=[b[2] for b in ICPC_LAG])
        low = np.array([b[0] for b in ICPC_LAG])[blocks]
        high = np.array([b[1] for b in ICPC_LAG])[blocks]
        lag = (low + np.floor(rng.random(n_fam) * (high - low + 1)).astype("int64"))[family]
        cal = business_calendar(icpc)
        s47 = _in_time_for_the_return(np.busday_offset(icpc, -lag, roll="backward",
                                                       busdaycal=cal), icpc, month)
        referral = s47 - rng.integers(0, 8, n_fam).astype("timedelta64[D]")[family]
        # Repeat plans: some conferences are for children who had a plan before.
        repeat = self._returning(int(round(n_plan * REPEAT_SHARE)), referral, had_plan=True)
        who = np.empty(n_icpc, dtype="int64")
        slots = np.flatnonzero(plan)[: len(repeat)]
        who[slots] = repeat
        fresh = np.setdiff1d(np.arange(n_icpc), slots)
        who[fresh] = self._new_children(len(fresh), referral[fresh], cp=True)
        self._episodes(who, referral, s47=s47, icpc=icpc, plan=plan,
                       family=self.n_families + family)
        self.n_families += n_fam

        # s47s without a conference.
        n_other = max(n_s47 - n_icpc, 0)
        s47_only = self.calendar.sample(rng, month, n_other)
        referral = s47_only - rng.integers(0, 8, n_other).astype("timedelta64[D]")
        who = self._new_children(n_other, referral, cp=True)
        self._episodes(who, referral, s47=s47_only)

        # Referrals going no further than an assessment; some are returning children.
        n_rest = max(n_ref - n_s47, 0)
        first = np.datetime64(month.start_time.date(), "D")
        days = (month.end_time.normalize() - month.start_time).days + 1
        referral = first + rng.integers(0, days, n_rest).astype("timedelta64[D]")
        back = self._returning(int(round(n_rest * 0.2)), referral, had_plan=False)
        who = np.concatenate([back, self._new_children(n_rest - len(back), referral[len(back):],
                                                       cp=False)])
        self._episodes(who, referral)

    def _episodes(self, who: np.ndarray, referral: np.ndarray, s47: np.ndarray | None = None,
                  icpc: np.ndarray | None = None, plan: np.ndarray | None = None,
                  family: np.ndarray | None = None) -> None:
        rng, n = self.rng, len(who)
        family = np.full(n, -1, dtype="int64") if family is None else family
        nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        has_plan = plan if plan is not None else np.zeros(n, dtype=bool)
        icpc = icpc if icpc is not None else nat.copy()
        start = np.where(has_plan, icpc, nat)
        duration = np.zeros(n, dtype="int64")
        groups, member = np.unique(family[has_plan], return_inverse=True)
        duration[has_plan] = _survival_days(_stratified(rng, groups.size))[member]
        plan_end = start + duration.astype("timedelta64[D]")
        # A plan ends at the child's 18th birthday at the latest.
        adult = self.child_birth[who] + np.timedelta64(18 * 365 + 4, "D")
        plan_end = np.where(has_plan & (plan_end > adult), adult, plan_end)
        previous = np.where(has_plan, self.child_plans[who], 0)
        self.child_plans[who[has_plan]] += 1
        # When the episode is over (its closure is set later, after calibration).
        busy_until = np.where(has_plan, plan_end + np.timedelta64(120, "D"),
                              (s47 if s47 is not None else referral) + np.timedelta64(90, "D"))
        self.child_free_from[who] = busy_until
        self.episodes.append({
            "child": who, "referral": referral, "s47": s47 if s47 is not None else nat.copy(),
            "icpc": icpc, "plan_start": start, "plan_end": plan_end, "previous": previous,
            "nfa": np.zeros(n, dtype=bool) if s47 is not None else rng.random(n) < 0.08,
            "family": family,
        })

    # -- calibration ---------------------------------------------------------------------
    def _calibrate_stock(self) -> None:
        """Nudge a few plans' end dates so the 31 March stock matches the targets."""
        ep = {k: np.concatenate([e[k] for e in self.episodes]) for k in self.episodes[0]}
        start, end = ep["plan_start"], ep["plan_end"].copy()
        has = ~np.isnat(start)
        # Plans whose child has a later plan are left alone (the repeat follows the end).
        child = ep["child"]
        order = np.lexsort((start, child))
        later = np.zeros(len(start), dtype=bool)
        same = child[order][1:] == child[order][:-1]
        later[order[:-1]] = same & has[order][1:]
        for year in range(self.first, self.last + 1):
            target = STOCK_TARGETS.get(year)
            if target is None:
                continue
            day = np.datetime64(periods.year_end(year), "D")
            open_ = has & (start <= day) & (end > day)
            gap = int(open_.sum()) - int(round(target * self.scale))
            if gap > 0:  # end some open plans in the six weeks before 31 March
                pool = open_ & ~later & (start < day - np.timedelta64(50, "D"))
                pick, group = self._whole_families(pool, open_, ep["family"], gap)
                end[pick] = day - self.rng.integers(0, 42, group.max() + 1 if group.size else 0
                                                    ).astype("timedelta64[D]")[group]
            elif gap < 0:  # keep open some plans that ended in the six weeks before
                ended = has & (end <= day) & (end > day - np.timedelta64(42, "D"))
                pick, group = self._whole_families(ended & ~later, ended, ep["family"], -gap)
                end[pick] = day + self.rng.integers(1, 42, group.max() + 1 if group.size else 0
                                                    ).astype("timedelta64[D]")[group]
        ep["plan_end"] = end
        self.ep = ep

    def _whole_families(self, pool: np.ndarray, members: np.ndarray, family: np.ndarray,
                        n: int) -> tuple[np.ndarray, np.ndarray]:
        """Plans of randomly chosen sibling groups holding ``n`` plans in all: groups whose
        ``members`` are all in ``pool``, taken while they fit, then single plans to finish.
        Returns the plans and a group number (0, 1, ...) for each, to share a new end date."""
        frame = pd.DataFrame({"family": family[members], "ok": pool[members],
                              "plan": np.flatnonzero(members)})
        whole = frame.groupby("family")["ok"].transform("all")
        frame = frame[whole]
        sizes = frame.groupby("family").size()
        order = sizes.sample(frac=1, random_state=self.rng)
        fits = order[order.cumsum() <= n]
        taken = frame[frame["family"].isin(fits.index)]
        rest = n - len(taken)
        singles = order[(order == 1) & ~order.index.isin(fits.index)].index[:rest]
        taken = pd.concat([taken, frame[frame["family"].isin(singles)]])
        group = taken["family"].factorize()[0]
        return taken["plan"].to_numpy(), group

    # -- tables --------------------------------------------------------------------------
    def tables(self) -> tuple[CinData, pd.Series]:
        return _Tables(self).build()


class _Tables:
    """Turns the simulated events into the CinData tables, censored at the reference date."""

    def __init__(self, sim: _Simulation):
        self.sim, self.rng = sim, sim.rng
        self.ref = np.datetime64(periods.year_end(sim.last), "D")
        self.window = np.datetime64(periods.year_start(sim.first), "D")

    def build(self) -> tuple[CinData, pd.Series]:
        ep = pd.DataFrame(self.sim.ep)
        ep = self._closures(ep)
        # Episodes in some return: referred by the last reference date, open after the first
        # year began.
        keep = (ep["referral"] <= self.ref) & (ep["closure"].isna() | (ep["closure"] >= self.window))
        ep = ep[keep].reset_index(drop=True)
        kids = pd.concat([pd.DataFrame(c) for c in self.sim.children], ignore_index=True)
        kids = kids[kids["index"].isin(ep["child"])].reset_index(drop=True)
        raw_ids = pd.Series([f"SYN{i:07d}" for i in kids["index"]], index=kids.index)
        hashed = ChildHasher(self.sim.la_code, SYNTHETIC_SECRET).many(raw_ids)
        id_of = pd.Series(hashed, index=kids["index"].to_numpy())
        ep = ep.assign(child_id=id_of.loc[ep["child"].to_numpy()].to_numpy(),
                       cin_id=_iso(ep["referral"]))
        tables = {
            "children": self._children(kids, hashed, self._last_seen(ep), self._first_seen(ep)),
            "referrals": self._referrals(ep),
            "assessments": self._assessments(ep),
            "s47s": self._s47s(ep),
            "cp_plans": self._plans(ep),
            "cin_plans": self._cin_plans(ep),
        }
        tables["reviews"] = self._reviews(tables["cp_plans"])
        self._match_mix(tables)
        tables = {name: _censor(name, conform_table(name, frame), self.ref)
                  for name, frame in tables.items()}
        data = CinData(la_code=self.sim.la_code, reference_date=periods.year_end(self.sim.last),
                       source="synthetic", **tables)
        return data, pd.Series(raw_ids.to_numpy(), index=pd.Index(hashed, name="child_id"),
                               name="la_child_id")

    def _closures(self, ep: pd.DataFrame) -> pd.DataFrame:
        """CIN plans, assessments, closure dates and reasons, as a service records them.

        An episode closes after its last activity (on the day, for a referral with no
        further action); its reason follows what happened: RC8 (or, from 2022-23, RC9) when
        it closed after an assessment alone, RC7 otherwise. A child's episodes never overlap.
        """
        rng, n = self.rng, len(ep)
        has_plan, nfa = ep["plan_start"].notna(), ep["nfa"].to_numpy(dtype=bool)
        cin_start, cin_end = self._cin_plan_dates(ep, nfa)
        # An assessment starts within days of the referral (by the s47) and is authorised
        # 10-45 days later.
        assessed = ep["referral"] + pd.to_timedelta(rng.integers(0, 4, n), unit="D")
        assessed = assessed.where(ep["s47"].isna() | (assessed <= ep["s47"]), ep["s47"])
        authorised = assessed + pd.to_timedelta(rng.integers(10, 46, n), unit="D")
        activity = pd.concat([ep["referral"], ep["s47"], ep["icpc"], ep["plan_end"], cin_end,
                              authorised.where(~nfa)], axis=1)
        gap = np.where(nfa, 0, np.where(has_plan | cin_start.notna(), rng.integers(0, 30, n),
                                        rng.integers(1, 15, n)))
        closure = activity.max(axis=1) + pd.to_timedelta(gap, unit="D")
        # Never past the child's next referral: a CIN plan running into it is cut short.
        order = ep.sort_values(["child", "referral"]).index
        next_ref = ep.loc[order].groupby("child")["referral"].shift(-1).reindex(ep.index)
        closure = closure.where(next_ref.isna() | (closure < next_ref),
                                next_ref - pd.Timedelta(days=1))
        cin_start = cin_start.where(cin_start < closure)
        cin_end = cin_end.where(cin_start.notna()).clip(upper=closure)
        assessed_only = ~nfa & ~has_plan & ep["s47"].isna() & cin_start.isna()
        # Closed after assessment in the year of the assessment, so the return holding the
        # closure holds the assessment too (DfE 8825Q).
        year_end = pd.to_datetime(collection_year(authorised).astype(str) + "-03-31")
        closure = closure.where(~assessed_only | (closure <= year_end), year_end)
        reason = np.where(assessed_only, self._reasons_after_assessment(closure), "RC7")
        return ep.assign(cin_start=cin_start, cin_end=cin_end, closure=closure, reason=reason,
                         assessed=assessed, authorised=authorised)

    def _cin_plan_dates(self, ep: pd.DataFrame, nfa: np.ndarray) -> tuple[pd.Series, pd.Series]:
        """CIN plans: most CP plans step down to one on their last day; a few episodes
        without an s47 (and not closed with no further action) have one from the start."""
        rng, n = self.rng, len(ep)
        has_plan = ep["plan_start"].notna()
        step_down = has_plan & (rng.random(n) < 0.6)
        cin_start = ep["plan_end"].where(step_down)
        cin_end = cin_start + pd.to_timedelta(rng.integers(60, 270, n), unit="D")
        other_cin = ~has_plan & ep["s47"].isna() & ~nfa & (rng.random(n) < 0.12)
        other_start = ep["referral"] + pd.to_timedelta(rng.integers(25, 50, n), unit="D")
        cin_start = cin_start.where(~other_cin, other_start)
        cin_end = cin_end.where(~other_cin, other_start + pd.to_timedelta(
            rng.integers(60, 300, n), unit="D"))
        return cin_start, cin_end

    def _reasons_after_assessment(self, closure: pd.Series) -> np.ndarray:
        """RC8, RC9 and RC7 as 5:3:2 where the closure's year has RC9 (from 2022-23);
        before, an early-help closure was RC8."""
        wanted = {"RC8": 5, "RC9": 3, "RC7": 2}
        return self._by_year(closure, wanted, lambda year: spec(year).closure_reasons)

    def _by_year(self, dates: pd.Series, weights: dict[str, float], allowed) -> np.ndarray:
        """Codes drawn with ``weights``, each from the codes ``allowed(year)`` of the
        collection year of its date (one draw per year, not per row)."""
        out = np.empty(len(dates), dtype=object)
        years = collection_year(dates).to_numpy()
        for year in np.unique(years):
            rows = np.flatnonzero(years == year)
            codes = [c for c in weights if c in allowed(int(year))]
            out[rows] = _choice(self.rng, codes, [weights[c] for c in codes], len(rows))
        return out

    def _match_mix(self, tables: dict[str, pd.DataFrame]) -> None:
        """Reassign the category of a few plans, and the gender of a few children, open at the
        last 31 March so their mixes match the county's (:data:`CATEGORY_MIX`,
        :data:`MALE_SHARE`): sampling noise alone would miss them by a few points."""
        day = pd.Timestamp(self.ref)
        plans = tables["cp_plans"]
        is_open = (plans["start_date"] <= day) & (plans["end_date"].isna()
                                                   | (plans["end_date"] > day))
        current = plans.loc[is_open, "initial_category"]
        wanted = _round_counts(np.array(list(CATEGORY_MIX.values())) * len(current))
        spare, needed = [], []
        for category, target in zip(CATEGORY_MIX, wanted, strict=True):
            members = current.index[current == category].to_numpy()
            if len(members) > target:
                spare.append(self.rng.choice(members, size=len(members) - target, replace=False))
            needed += [category] * max(target - len(members), 0)
        if needed:
            chosen = np.concatenate(spare)[: len(needed)]
            new = self.rng.permutation(np.array(needed, dtype=object))
            plans.loc[chosen, "initial_category"] = new
            plans.loc[chosen, "latest_category"] = new
        children = tables["children"]
        on_plan = measures.isin(children["child_id"], plans.loc[is_open, "child_id"]) & (
            children["birth_month"] <= day)
        self._match_ages(children, on_plan, tables["referrals"])
        males = on_plan & (children["gender"] == "male")
        gap = int(males.sum()) - int(round(MALE_SHARE * on_plan.sum()))
        source, new_gender = (males, "female") if gap > 0 else (on_plan & ~males, "male")
        flip = self.rng.choice(np.flatnonzero(source), size=abs(gap), replace=False)
        children.loc[children.index[flip], "gender"] = new_gender

    def _match_ages(self, children: pd.DataFrame, on_plan: pd.Series,
                    referrals: pd.DataFrame) -> None:
        """Move a few children on a plan at the last 31 March to another age band (a new
        month of birth, still before their first referral) so the mix matches
        :data:`AGE_MIX_2017`. Children first referred before birth keep theirs."""
        day = pd.Timestamp(self.ref)
        band = measures.age_band_at(children, day)
        first_referral = referrals.groupby("child_id")["referral_date"].min()
        movable = on_plan & children["expected_birth_month"].isna()
        counts = np.array([v[0] for v in AGE_MIX_2017.values()], dtype=float)
        wanted = _round_counts(counts / counts.sum() * int(on_plan.sum()))
        spare, needed = [], []
        for (name, (_, low, high)), target in zip(AGE_MIX_2017.items(), wanted, strict=True):
            members = children.index[on_plan & (band == name)].to_numpy()
            candidates = children.index[movable & (band == name)].to_numpy()
            surplus = min(len(members) - target, len(candidates))
            if surplus > 0:
                spare.append(self.rng.choice(candidates, size=surplus, replace=False))
            needed += [(low, high)] * max(target - len(members), 0)
        if not needed or not spare:
            return
        chosen = np.concatenate(spare)[: len(needed)]
        bounds = np.array(needed[: len(chosen)])[self.rng.permutation(len(chosen))]
        age = bounds[:, 0] + np.floor(self.rng.random(len(chosen))
                                      * (bounds[:, 1] - bounds[:, 0] + 1)).astype("int64")
        month = np.datetime64(day.strftime("%Y-%m"), "M")
        birth = pd.Series((month - age.astype("timedelta64[M]")).astype("datetime64[s]"),
                          index=chosen)
        first = first_referral.reindex(children.loc[chosen, "child_id"]).to_numpy()
        ok = birth.to_numpy() <= first - np.timedelta64(31, "D")
        children.loc[chosen[ok], "birth_month"] = birth[ok]

    def _first_seen(self, ep: pd.DataFrame) -> pd.Series:
        """Reference date of the first return holding each child (by child index): an
        expected birth date is only ever written if the child is unborn then."""
        seen = ep["referral"].clip(lower=pd.Timestamp(self.window))
        first = pd.to_datetime(collection_year(seen).astype(str) + "-03-31")
        return first.groupby(ep["child"].to_numpy()).min()

    def _last_seen(self, ep: pd.DataFrame) -> pd.Series:
        """Reference date of the last return holding each child (by child index): a
        birth after it is never recorded."""
        closed = ep["closure"].dropna()
        year = closed.dt.year + (closed.dt.month >= 4)
        last = pd.Series(pd.Timestamp(self.ref), index=ep.index)
        last.loc[closed.index] = pd.to_datetime(year.astype(str) + "-03-31")
        last = last.clip(upper=pd.Timestamp(self.ref))
        return last.groupby(ep["child"].to_numpy()).max()

    def _children(self, kids: pd.DataFrame, hashed: list[str], last_seen: pd.Series,
                  first_seen: pd.Series) -> pd.DataFrame:
        birth = pd.Series(kids["birth"].to_numpy().astype("datetime64[s]"))
        born = birth <= last_seen.reindex(kids["index"].to_numpy()).to_numpy()
        month = birth.dt.to_period("M").dt.start_time
        # Known only from a return written before the birth (returns drop it at birth).
        unborn_in_a_return = birth > first_seen.reindex(kids["index"].to_numpy()).to_numpy()
        expected = month.where(kids["unborn_at_referral"].to_numpy() & unborn_in_a_return)
        gender = np.where(~born, "unknown", np.where(kids["male"], "male", "female"))
        return pd.DataFrame({
            "child_id": hashed, "birth_month": month.where(born),
            "expected_birth_month": expected, "gender": gender,
            "ethnicity": kids["ethnicity"], "disabled": kids["disabilities"] != "NONE",
            "disabilities": kids["disabilities"],
        })

    def _referrals(self, ep: pd.DataFrame) -> pd.DataFrame:
        n = len(ep)
        cp = ep["s47"].notna()
        need = np.where(cp, "N1", _choice(self.rng, ["N1", "N2", "N3", "N4", "N5", "N6", "N8",
                                                      "N9"], [30, 6, 5, 20, 25, 6, 3, 5], n))
        return pd.DataFrame({
            "child_id": ep["child_id"], "cin_id": ep["cin_id"], "referral_date": ep["referral"],
            "referral_source": self._by_year(
                ep["referral"], dict(zip(REFERRAL_SOURCES, REFERRAL_SOURCE_WEIGHTS, strict=True)),
                lambda year: spec(year).referral_sources),
            "primary_need": need, "nfa": ep["nfa"], "closure_date": ep["closure"],
            "closure_reason": ep["reason"],
        })

    def _assessments(self, ep: pd.DataFrame) -> pd.DataFrame:
        ep = ep[~ep["nfa"]]
        n = len(ep)
        start, authorised = ep["assessed"], ep["authorised"]
        k = self.rng.integers(1, 4, n)
        picks = [_choice(self.rng, FACTORS, FACTOR_WEIGHTS, n) for _ in range(3)]
        factors = [",".join(sorted(set(p[:j]))) for p, j in zip(zip(*picks, strict=True), k,
                                                                strict=True)]
        return pd.DataFrame({"child_id": ep["child_id"], "cin_id": ep["cin_id"],
                             "start_date": start, "authorised_date": authorised,
                             "factors": factors})

    def _s47s(self, ep: pd.DataFrame) -> pd.DataFrame:
        ep = ep[ep["s47"].notna()]
        target = icpc_deadline(ep["s47"].astype("datetime64[s]"))
        not_required = ep["icpc"].isna()  # the enquiry ended without a conference
        return pd.DataFrame({"child_id": ep["child_id"], "cin_id": ep["cin_id"],
                             "s47_start_date": ep["s47"],
                             "icpc_target_date": target.where(~not_required),
                             "icpc_date": ep["icpc"], "icpc_not_required": not_required})

    def _plans(self, ep: pd.DataFrame) -> pd.DataFrame:
        ep = ep[ep["plan_start"].notna()]
        n = len(ep)
        initial = _spread(self.rng, list(CATEGORY_MIX), list(CATEGORY_MIX.values()), n)
        changed = self.rng.random(n) < 0.05
        latest = np.where(changed, _choice(self.rng, ["NEG", "EMO"], [1, 1], n), initial)
        return pd.DataFrame({"child_id": ep["child_id"], "cin_id": ep["cin_id"],
                             "plan_id": _iso(ep["plan_start"]), "start_date": ep["plan_start"],
                             "end_date": ep["plan_end"], "initial_category": initial,
                             "latest_category": latest,
                             "previous_plans": ep["previous"].to_numpy()})

    def _cin_plans(self, ep: pd.DataFrame) -> pd.DataFrame:
        ep = ep[ep["cin_start"].notna()]
        return pd.DataFrame({"child_id": ep["child_id"], "cin_id": ep["cin_id"],
                             "start_date": ep["cin_start"], "end_date": ep["cin_end"]})

    def _reviews(self, plans: pd.DataFrame) -> pd.DataFrame:
        """First review by 3 months after the start, then every 6 months, until the plan ends.

        Most are held a little before they are due, and one due in a school holiday is
        usually brought forward to the last term-time day before it; a few
        (:data:`REVIEW_LATE_SHARE`) are late.
        """
        rows = []
        current = plans[["child_id", "plan_id", "start_date", "end_date"]].assign(
            last=plans["start_date"])
        limit = current["end_date"].fillna(pd.Timestamp(self.ref) + pd.Timedelta(days=1))
        months = 3
        while len(current):
            n = len(current)
            due = (current["last"] + pd.DateOffset(months=months)).astype("datetime64[s]")
            late = self.rng.random(n) < REVIEW_LATE_SHARE
            shift = np.where(late, self.rng.integers(1, 21, n), -self.rng.integers(0, 28, n))
            held = (due + pd.to_timedelta(shift, unit="D")).astype("datetime64[s]")
            rolled = np.busday_offset(held.to_numpy().astype("datetime64[D]"), 0, roll="backward")
            held = pd.Series(rolled, index=held.index).astype("datetime64[s]")
            holiday, term_day = self.sim.calendar.before_holiday(held)
            earlier = np.busday_offset(term_day.to_numpy().astype("datetime64[D]"),
                                       -self.rng.integers(0, 10, n), roll="backward")
            earlier = pd.Series(earlier, index=held.index).astype("datetime64[s]")
            move = holiday & ~late & (self.rng.random(n) < 0.4) & (
                earlier > current["last"] + pd.Timedelta(days=30))
            held = held.where(~move, earlier)
            held = held.where(~late | (held > due), due + pd.Timedelta(days=1))
            alive = held < limit.loc[current.index]
            rows.append(pd.DataFrame({"child_id": current["child_id"],
                                      "plan_id": current["plan_id"], "review_date": held})[alive])
            current = current[alive].assign(last=held[alive])
            months = 6
        return pd.concat(rows, ignore_index=True)


def _iso(dates: pd.Series) -> pd.Series:
    return pd.Series(dates).dt.strftime("%Y-%m-%d").astype("string")


def _censor(name: str, frame: pd.DataFrame, ref: np.datetime64) -> pd.DataFrame:
    """Blank dates after the reference date that may be pending (ends, closures); the
    events themselves were simulated only up to it."""
    ref = pd.Timestamp(ref)
    pending = {"referrals": ["closure_date"], "assessments": ["authorised_date"],
               "cp_plans": ["end_date"], "cin_plans": ["end_date"]}
    out = frame
    for column in pending.get(name, []):
        after = out[column] > ref
        out = out.assign(**{column: out[column].mask(after)})
        if name == "referrals":
            out = out.assign(closure_reason=out["closure_reason"].mask(after))
    starts = {"reviews": "review_date", "cin_plans": "start_date", "s47s": "s47_start_date",
              "assessments": "start_date", "cp_plans": "start_date"}
    if name in starts:
        out = out[out[starts[name]] <= ref]
    if name == "s47s":
        out = out.assign(icpc_date=out["icpc_date"].mask(out["icpc_date"] > ref))
    if name == "assessments":  # factors are recorded at authorisation
        out = out.assign(factors=out["factors"].where(out["authorised_date"].notna()))
    return out.reset_index(drop=True)
