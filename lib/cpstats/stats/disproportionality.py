"""Ethnic disproportionality: rates per 10,000 children, relative rates, share ratios.

Methods (docs/ethnicity_and_correlation.md):

* **Rate** per 10,000 children aged 0-17 in the group, with the PHE/OHID
  Fingertips interval for a count: exact (chi-square) when the count is under
  10, Byar's approximation from 10 up.
* **Relative rate (RR)**: the group's rate over the reference group's rate
  (White British by default) and over the rate of all *other* children of known
  ethnicity. Interval: statsmodels ``confint_poisson_2indep(compare="ratio")``
  with ``method="score"``, solved in closed form (:func:`score_ratio_interval`; the
  conditional-binomial score interval, equal to a
  Wilson interval on count1 / (count1 + count2) transformed to the ratio scale);
  below 10 children in the group (zero included) the exact conditional interval
  (Clopper-Pearson on count1 / (count1 + count2), mapped the same way), since the
  score interval is too narrow for small counts. The log-RR Wald interval, SE = sqrt(1/a + 1/c), is given
  beside it for comparison; it is undefined for a zero count.
* **Share ratio** (disproportionality index): the group's share of children
  with a known ethnicity over its share of the child population. Bounded above
  by 1/population share, so RR is the headline measure.
* **Chi-square goodness of fit** of the counts against population shares, with
  Cohen's w = sqrt(chi2 / n) as effect size and a Monte Carlo p-value when
  expected counts are small.

Records with ethnicity refused or not obtained are reported apart and are in no
share or rate. Groups with counts under ``small`` (10) are flagged, never dropped;
counts of 1-5 are marked for suppression when the result is published.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cpstats import measures
from cpstats.childlevel import CinData
from cpstats.codes import ETHNICITY_UNKNOWN
from cpstats.defaults import SUPPRESS_MAX
from cpstats.ethnicity_map import (
    CIN_TO_GROUP,
    COMPARISON_GROUPS,
    UNKNOWN_GROUPS,
    comparison_group,
)
from cpstats.periods import year_label
from cpstats.stats.intervals import exact_ratio_interval

PER = 10_000
#: Flag counts below this (PHE: rates on fewer than 10 events are unreliable).
SMALL_COUNT = 10
RR_METHOD = "score"
#: Below :data:`SMALL_COUNT` children in the group: the exact conditional interval.
RR_METHOD_SMALL = "exact-cond"


def rate_interval(count: np.ndarray | float, population: np.ndarray | float,
                  alpha: float = 0.05, per: float = PER) -> tuple[np.ndarray, np.ndarray]:
    """Confidence interval of a crude rate per ``per``, PHE/OHID Fingertips method.

    Exact Poisson limits (chi-square) for counts under 10, Byar's approximation
    for 10 and over.

    Parameters
    ----------
    count, population
        Observed count(s) and population(s) at risk.
    alpha
        1 - coverage.
    per
        Rate multiplier (10,000 children).

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits of the rate.
    """
    o = np.asarray(count, dtype=float)
    pop = np.asarray(population, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact_low = np.where(o > 0, stats.chi2.ppf(alpha / 2, 2 * o) / 2, 0.0)
        exact_up = stats.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
        byar_low = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        byar_up = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    low = np.where(o < 10, exact_low, byar_low)
    up = np.where(o < 10, exact_up, byar_up)
    return low / pop * per, up / pop * per


def rate_ratio_interval(count1: float, exposure1: float, count2: float, exposure2: float,
                        alpha: float = 0.05) -> tuple[float, float, str]:
    """Interval for the ratio of two Poisson rates, and the method used: one pair of counts
    of :func:`rate_ratio_intervals`."""
    low, up, method = rate_ratio_intervals(*(np.array([v], dtype=float) for v in
                                             (count1, exposure1, count2, exposure2)), alpha)
    return float(low[0]), float(up[0]), str(method[0])


def rate_ratio_intervals(count1: np.ndarray, exposure1: np.ndarray, count2: np.ndarray,
                         exposure2: np.ndarray, alpha: float = 0.05
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intervals for ratios of two Poisson rates (element-wise), and the method of each.

    The score interval (statsmodels' ``confint_poisson_2indep(..., compare="ratio",
    method="score")``, :func:`score_ratio_interval`); the exact conditional interval
    (:func:`~cpstats.stats.intervals.exact_ratio_interval`) where ``count1`` is below
    :data:`SMALL_COUNT`; NaN limits and method ``none`` where the reference count or an
    exposure is zero (no ratio exists).
    """
    a, e1, c, e2 = (np.asarray(v, dtype=float) for v in (count1, exposure1, count2, exposure2))
    none = (e1 <= 0) | (e2 <= 0) | (c == 0)
    small = ~none & (a < SMALL_COUNT)
    method = np.where(none, "none", np.where(small, RR_METHOD_SMALL, RR_METHOD)).astype(object)
    with np.errstate(divide="ignore", invalid="ignore"):
        score_low, score_up = score_ratio_interval(a, e1, c, e2, alpha)
        exact_low, exact_up = exact_ratio_interval(a, e1, c, e2, alpha)
    low = np.where(none, np.nan, np.where(small, exact_low, score_low))
    up = np.where(none, np.nan, np.where(small, exact_up, score_up))
    return low, up, method


def score_ratio_interval(count1: np.ndarray, exposure1: np.ndarray, count2: np.ndarray,
                         exposure2: np.ndarray, alpha: float = 0.05
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The score interval for a ratio of two Poisson rates (Gu et al. 2008, test W2A), in
    closed form and element-wise.

    The score statistic for ratio ``r`` is (y1 - y2 x) / sqrt((y1 + y2) x) with
    x = r e1 / e2; the limits are where it equals -/+ z, the roots of
    y2^2 x^2 - (2 y1 y2 + z^2 (y1 + y2)) x + y1^2 = 0. statsmodels'
    ``confint_poisson_2indep(method="score", compare="ratio")`` finds the same roots one
    pair at a time with Nelder-Mead (to 1e-8, about 30 ms each); this solves them at once.
    Needs both counts above 0.

    >>> low, up = score_ratio_interval(np.array([30.0]), np.array([1000.0]),
    ...                                np.array([100.0]), np.array([10000.0]))
    >>> round(float(low[0]), 3), round(float(up[0]), 3)
    (2.0, 4.499)
    """
    y1, y2 = np.asarray(count1, dtype=float), np.asarray(count2, dtype=float)
    z2 = stats.norm.isf(alpha / 2) ** 2
    b = 2 * y1 * y2 + z2 * (y1 + y2)
    upper = (b + np.sqrt(b * b - 4 * (y1 * y2) ** 2)) / (2 * y2 * y2)
    lower = y1 * y1 / (y2 * y2 * upper)  # the product of the roots, not b - sqrt: no cancelling
    scale = np.asarray(exposure2, dtype=float) / np.asarray(exposure1, dtype=float)
    return lower * scale, upper * scale


def wald_log_interval(count1: np.ndarray, exposure1: np.ndarray, count2: np.ndarray,
                      exposure2: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Log-RR Wald interval: exp(ln RR -/+ z sqrt(1/a + 1/c)); NaN where a count is zero."""
    a, c = np.asarray(count1, float), np.asarray(count2, float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (a / np.asarray(exposure1, float)) / (c / np.asarray(exposure2, float))
        se = np.sqrt(1 / a + 1 / c)
        ok = (a > 0) & (c > 0)
        return (np.where(ok, rr * np.exp(-z * se), np.nan),
                np.where(ok, rr * np.exp(z * se), np.nan))


def _ratio_columns(count: np.ndarray, pop: np.ndarray, count_ref: np.ndarray,
                   pop_ref: np.ndarray, alpha: float) -> pd.DataFrame:
    """RR, its statsmodels interval and method, and the Wald interval, for aligned arrays."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (count / pop) / (count_ref / pop_ref)
    lower, upper, method = rate_ratio_intervals(count, pop, count_ref, pop_ref, alpha)
    wald_low, wald_up = wald_log_interval(count, pop, count_ref, pop_ref, alpha)
    return pd.DataFrame({
        "rr": rr,
        "lower": lower,
        "upper": upper,
        "method": method,
        "wald_lower": wald_low,
        "wald_upper": wald_up,
    })


def _aligned(counts: pd.Series, population: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Known-group counts and populations on one index (population's groups, canonical order),
    plus the unknown-ethnicity counts."""
    order = [g for g in COMPARISON_GROUPS if g in population.index]
    order += [g for g in population.index if g not in COMPARISON_GROUPS and g not in UNKNOWN_GROUPS]
    extra = set(counts.index) - set(order) - set(UNKNOWN_GROUPS)
    if extra:
        raise ValueError(f"counts for groups without a population: {sorted(extra)}")
    known = counts.reindex(order, fill_value=0).astype(float)
    pop = population.reindex(order).astype(float)
    unknown = counts.reindex(list(UNKNOWN_GROUPS), fill_value=0).astype(float)
    return known, pop, unknown


def disproportionality(counts: pd.Series, population: pd.Series, *,
                       population_basis: str, reference: str = "white_british",
                       alpha: float = 0.05, small: int = SMALL_COUNT,
                       labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Rates, relative rates and share ratios by ethnic group.

    Parameters
    ----------
    counts
        Children (or events) by group id; may include ``refused`` and
        ``not_obtained``, which are reported apart (rows at the end, no rates).
    population
        Children aged 0-17 by group id (the denominator); every group with a
        count must have a population.
    population_basis
        Name of the denominator (e.g. "Census 2011 0-17 shares x ONS mid-2016
        0-17"), copied into every row.
    reference
        Group the relative rate compares against (``white_british``; ``White``
        for broad groups).
    alpha
        1 - coverage of every interval.
    small
        Counts below this are flagged ``small_count`` (kept, not dropped).
    labels
        Display labels; defaults to :data:`COMPARISON_GROUPS` names.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group, label, count, population, rate_per_10k,
        rate_lower, rate_upper, share_of_known_pct, population_share_pct,
        share_ratio, rr_vs_reference, rr_lower, rr_upper, rr_method,
        rr_wald_lower, rr_wald_upper, rr_vs_rest, rr_rest_lower,
        rr_rest_upper, small_count, suppress, population_basis, reference``.
        ``suppress`` marks counts 1-5 for publication.
    """
    known, pop, unknown = _aligned(counts, population)
    if reference not in known.index:
        raise ValueError(f"reference group {reference!r} is not in the population")
    labels = {**COMPARISON_GROUPS, **UNKNOWN_GROUPS, **(labels or {})}
    n, total_pop = known.sum(), pop.sum()
    c, p = known.to_numpy(), pop.to_numpy()
    low, up = rate_interval(c, p, alpha)
    vs_ref = _ratio_columns(c, p, np.full_like(c, known[reference]),
                            np.full_like(p, pop[reference]), alpha)
    vs_rest = _ratio_columns(c, p, n - c, total_pop - p, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = c / n
        table = pd.DataFrame({
            "group": known.index,
            "count": c,
            "population": p,
            "rate_per_10k": c / p * PER,
            "rate_lower": low,
            "rate_upper": up,
            "share_of_known_pct": 100 * share,
            "population_share_pct": 100 * p / total_pop,
            "share_ratio": share / (p / total_pop),
        })
    table = table.assign(
        rr_vs_reference=vs_ref["rr"].to_numpy(), rr_lower=vs_ref["lower"].to_numpy(),
        rr_upper=vs_ref["upper"].to_numpy(), rr_method=vs_ref["method"].to_numpy(),
        rr_wald_lower=vs_ref["wald_lower"].to_numpy(), rr_wald_upper=vs_ref["wald_upper"].to_numpy(),
        rr_vs_rest=vs_rest["rr"].to_numpy(), rr_rest_lower=vs_rest["lower"].to_numpy(),
        rr_rest_upper=vs_rest["upper"].to_numpy(),
    )
    apart = pd.DataFrame({"group": unknown.index, "count": unknown.to_numpy()})
    table = pd.concat([table, apart], ignore_index=True)
    table.loc[table["group"] == reference, ["rr_lower", "rr_upper", "rr_wald_lower",
                                            "rr_wald_upper"]] = np.nan
    table.loc[table["group"] == reference, "rr_method"] = "reference"
    table.insert(1, "label", table["group"].map(labels).fillna(table["group"]))
    table["small_count"] = table["count"] < small
    table["suppress"] = table["count"].between(1, SUPPRESS_MAX)
    table["population_basis"] = population_basis
    table["reference"] = reference
    return table


def goodness_of_fit(counts: pd.Series, population: pd.Series, *, simulations: int = 20_000,
                    seed: int = 20170331, design_effect: float = 1.0) -> dict[str, float]:
    """Chi-square test of known-ethnicity counts against population shares.

    Parameters
    ----------
    counts, population
        As for :func:`disproportionality`; refused / not obtained are left out.
    simulations
        Multinomial draws for the Monte Carlo p-value (used when expected
        counts are small and the chi-square approximation is doubtful).
    seed
        Fixed, so the Monte Carlo p-value is reproducible.
    design_effect
        Children who come in sibling groups are not independent draws: the statistic is
        divided by this (Rao and Scott's first-order correction, :func:`sibling_design_effect`)
        before both p-values; Cohen's w, an effect size, is not.

    Returns
    -------
    dict
        ``n, groups, chi2, df, p_value, p_monte_carlo, cohens_w, min_expected,
        share_expected_below_5, design_effect`` (``chi2`` as adjusted). Cohen's w: 0.1 small,
        0.3 medium, 0.5 large.
    """
    known, pop, _ = _aligned(counts, population)
    keep = pop > 0
    observed, shares = known[keep].to_numpy(), (pop[keep] / pop[keep].sum()).to_numpy()
    n = observed.sum()
    expected = n * shares
    raw = float(stats.chisquare(observed, expected)[0])
    chi2 = raw / design_effect
    p_value = float(stats.chi2.sf(chi2, len(observed) - 1))
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(n), shares, size=simulations)
    simulated = ((draws - expected) ** 2 / expected).sum(axis=1)
    return {
        "n": float(n),
        "groups": float(len(observed)),
        "chi2": float(chi2),
        "df": float(len(observed) - 1),
        "p_value": float(p_value),
        "p_monte_carlo": float((1 + (simulated >= chi2 - 1e-9).sum()) / (simulations + 1)),
        "cohens_w": float(np.sqrt(raw / n)),
        "min_expected": float(expected.min()),
        "share_expected_below_5": float((expected < 5).mean()),
        "design_effect": float(design_effect),
    }


def aggregate(counts: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Sum counts or populations indexed by group into ``mapping``'s targets
    (e.g. :data:`cpstats.ethnicity_map.BROAD_SCHEMES` ``["dfe"]``); unmapped
    groups (refused, not obtained) keep their own id."""
    keys = counts.index.map(lambda g: mapping.get(g, g))
    return counts.groupby(keys, sort=False).sum()


#: Decision points in pipeline order, with their display labels.
DECISION_POINTS: dict[str, str] = {
    "referral": "Referred",
    "s47": "Section 47 enquiry",
    "icpc": "Initial conference (ICPC)",
    "plan_start": "Plan started",
    "plan_at_31_march": "On a plan at 31 March",
}


def decision_point_counts(cin: CinData, year: int) -> pd.DataFrame:
    """Children at each decision point in the year ending 31 March ``year``, by group.

    A child counts once per decision point however many events they had:
    referred (referral date in the year), section 47 enquiry started, ICPC
    held, plan started, and on a plan at 31 March (started by then, not ended
    by then).

    Parameters
    ----------
    cin
        Child-level records (real or synthetic).
    year
        Year ending 31 March.

    Returns
    -------
    pandas.DataFrame
        ``decision_point, group, count``: every decision point times every
        comparison and unknown group (zeros included), in pipeline order.
    """
    # The measures module owns the definitions (in a period, open at a date, one ICPC).
    period = measures.parse_period(year_label(year))
    plans = cin.cp_plans
    icpcs = measures.icpc_table(cin)
    children = {
        "referral": cin.referrals.loc[measures.in_period(cin.referrals["referral_date"], period),
                                      "child_id"],
        "s47": cin.s47s.loc[measures.in_period(cin.s47s["s47_start_date"], period), "child_id"],
        "icpc": icpcs.loc[measures.in_period(icpcs["icpc_date"], period), "child_id"],
        "plan_start": plans.loc[measures.in_period(plans["start_date"], period), "child_id"],
        "plan_at_31_march": plans.loc[measures.open_at(plans, period.end).fillna(False)
                                      .astype(bool), "child_id"],
    }
    group_of = pd.Series(comparison_group(cin.children["ethnicity"]).to_numpy(),
                         index=cin.children["child_id"].to_numpy())
    groups = list(COMPARISON_GROUPS) + list(UNKNOWN_GROUPS)
    frames = [
        pd.DataFrame({"decision_point": point,
                      "group": groups,
                      "count": group_of.reindex(ids.drop_duplicates().to_numpy())
                      .value_counts().reindex(groups, fill_value=0).to_numpy()})
        for point, ids in children.items()
    ]
    return pd.concat(frames, ignore_index=True)


#: The measure the report-wide suppression pass knows :func:`decision_point_counts` by.
DECISION_POINT_MEASURE = "children_at_decision_point"
#: Groups of ethnicity values whose sum at a decision point is public (children of known
#: ethnicity, the base of every share and test; so, by difference, those of unknown ethnicity).
KNOWN_AND_UNKNOWN = (tuple(COMPARISON_GROUPS), tuple(UNKNOWN_GROUPS))


def decision_point_facts(cin: CinData, year: int) -> pd.DataFrame:
    """:func:`decision_point_counts` as child-level count facts, for the report-wide
    suppression pass (:func:`cpstats.disclosure.report_mask`): measure
    :data:`DECISION_POINT_MEASURE`, breakdown ``decision_point=...;ethnicity=...`` and each
    point's total ``decision_point=...`` (the grid's total row).

    Parameters
    ----------
    cin
        Child-level records (real or synthetic).
    year
        Year ending 31 March.

    Returns
    -------
    pandas.DataFrame
        Facts, exact: publish them only through the pass.
    """
    from cpstats.facts import make_facts

    counts = decision_point_counts(cin, year)
    totals = counts.groupby("decision_point", sort=False)["count"].sum()
    rows = [{"breakdown": f"decision_point={point};ethnicity={group}", "value": float(count)}
            for point, group, count in counts.itertuples(index=False)]
    rows += [{"breakdown": f"decision_point={point}", "value": float(count)}
             for point, count in totals.items()]
    return make_facts(rows, measure=DECISION_POINT_MEASURE, period=year_label(year),
                      unit="count", source=cin.source, geography_level="local_authority",
                      geography_code=cin.la_code, geography_name=cin.la_code)


def by_decision_point(counts: pd.DataFrame, population: pd.Series, *, population_basis: str,
                      reference: str = "white_british", alpha: float = 0.05) -> pd.DataFrame:
    """:func:`disproportionality` at each decision point, plus progression from the last one.

    Parameters
    ----------
    counts
        ``decision_point, group, count`` as from :func:`decision_point_counts`.
    population, population_basis, reference, alpha
        As for :func:`disproportionality`.

    Returns
    -------
    pandas.DataFrame
        The :func:`disproportionality` columns with ``decision_point`` first,
        and, from the second point on, ``progression`` (children at this point
        per child at the previous one) and ``progression_rr`` (that over the
        reference group's) with its Poisson score interval
        (``progression_lower``, ``progression_upper``): where in the pipeline a
        difference opens. Children at a point need not have passed the previous
        one in the same year, so ``progression`` is a ratio of counts, not a
        proportion.
    """
    tables, previous = [], None
    for point in [p for p in DECISION_POINTS if p in set(counts["decision_point"])]:
        here = counts[counts["decision_point"] == point].set_index("group")["count"]
        table = disproportionality(here, population, population_basis=population_basis,
                                   reference=reference, alpha=alpha)
        if previous is not None:
            before = previous.reindex(table["group"]).fillna(0).to_numpy(dtype=float)
            now = table["count"].to_numpy(dtype=float)
            ref = table["group"].to_numpy() == reference
            with np.errstate(divide="ignore", invalid="ignore"):
                table["progression"] = now / before
            ratio = _ratio_columns(now, before, np.full_like(now, now[ref][0]),
                                   np.full_like(before, before[ref][0]), alpha)
            table["progression_rr"] = ratio["rr"].to_numpy()
            table["progression_lower"] = ratio["lower"].to_numpy()
            table["progression_upper"] = ratio["upper"].to_numpy()
            table.loc[ref, ["progression_lower", "progression_upper"]] = np.nan
        tables.append(table.assign(decision_point=point))
        previous = here
    out = pd.concat(tables, ignore_index=True)
    return out[["decision_point"] + [c for c in out.columns if c != "decision_point"]]


def partial_comparison(printed: pd.Series, total: float, population: pd.Series, *,
                       population_basis: str, reference: str = "white_british",
                       alpha: float = 0.05) -> tuple[pd.DataFrame, dict[str, float]]:
    """Compare a published list of counts by ethnicity that does not add up to its total.

    A report may print some ethnic codes and leave the rest out (the 2016-17
    report printed 489 of 564 children). Each printed code's count is exact;
    the ``total - sum(printed)`` missing children belong to the codes *not*
    printed, split unknown. So:

    * a group whose codes were all printed has an exact count (status ``exact``);
    * a group with some codes printed has at least the printed count
      (``lower bound``);
    * groups with no code printed share the missing children (``not printed``):
      together they have between 0 and the missing number.

    Parameters
    ----------
    printed
        Counts by CIN code as printed (``WBRI``..., ``NOBT``).
    total
        The total the list should add up to (children on plans at 31 March).
    population, population_basis, reference, alpha
        As for :func:`disproportionality`.

    Returns
    -------
    (pandas.DataFrame, dict)
        Per comparison group in the population: ``group, label, status,
        count, population, rate_per_10k`` (a lower bound unless exact),
        ``rate_lower, rate_upper, rr_vs_reference, rr_lower, rr_upper,
        rr_method`` (exact groups only), ``small_count``; and a summary:
        ``printed, total, missing, known_printed, known_max`` (if no missing
        child was refused), ``not_printed_population``,
        ``not_printed_rate_max`` (all missing children in the unprinted
        groups) and ``not_printed_rr_max`` (against the reference).
    """
    codes_printed = set(printed.index)
    group_of_code = pd.Series(CIN_TO_GROUP)
    printed_groups = group_of_code[group_of_code.index.isin(list(codes_printed))]
    unprinted_groups = group_of_code[~group_of_code.index.isin(list(codes_printed))]
    counts = printed.groupby(printed.index.map(CIN_TO_GROUP)).sum()
    exact = disproportionality(counts, population, population_basis=population_basis,
                               reference=reference, alpha=alpha)
    exact = exact[exact["group"].isin(list(population.index))].copy()
    status = np.where(~exact["group"].isin(list(printed_groups)), "not printed",
                      np.where(exact["group"].isin(list(unprinted_groups)), "lower bound", "exact"))
    exact.insert(2, "status", status)
    not_exact = exact["status"] != "exact"
    exact.loc[not_exact, ["rr_vs_reference", "rr_lower", "rr_upper", "rr_wald_lower",
                          "rr_wald_upper", "rr_vs_rest", "rr_rest_lower", "rr_rest_upper",
                          "share_of_known_pct", "share_ratio"]] = np.nan
    exact.loc[not_exact, "rr_method"] = "not comparable"
    exact.loc[exact["status"] == "not printed", ["count", "rate_per_10k", "rate_lower",
                                                 "rate_upper"]] = np.nan
    exact["small_count"] = exact["count"].lt(SMALL_COUNT).fillna(False).astype(bool)
    known_printed = float(printed.drop(labels=list(ETHNICITY_UNKNOWN), errors="ignore").sum())
    missing = float(total - printed.sum())
    hidden = exact.loc[exact["status"] == "not printed", "population"].sum()
    ref = exact.set_index("group").loc[reference]
    summary = {
        "printed": float(printed.sum()),
        "total": float(total),
        "missing": missing,
        "known_printed": known_printed,
        "known_max": known_printed + missing,
        "not_printed_population": float(hidden),
        "not_printed_rate_max": float(missing / hidden * PER) if hidden else np.nan,
        "not_printed_rr_max": float(missing / hidden / (ref["count"] / ref["population"]))
        if hidden and ref["count"] else np.nan,
    }
    columns = ["group", "label", "status", "count", "population", "rate_per_10k", "rate_lower",
               "rate_upper", "rr_vs_reference", "rr_lower", "rr_upper", "rr_method",
               "small_count", "population_basis"]
    return exact[columns].reset_index(drop=True), summary


#: Denominator bases (see docs/ethnicity_and_correlation.md section 2).
POPULATION_BASES: dict[str, str] = {
    "census2011": "Census 2011 shares",
    "school_census": "school census shares",
}


def sibling_design_effect(groups: pd.Series, attribute: pd.Series) -> dict[str, float]:
    """Kish's design effect for counts of children who come in sibling groups, as a
    chi-square or a rate's variance needs it: ``deff = 1 + (m - 1) rho``.

    ``m`` is the mean size of the group a child is in (sum of squared sizes over children);
    ``rho`` the agreement of ``attribute`` within groups beyond chance (the intraclass
    correlation for a nominal attribute: (share of within-group pairs that agree - sum of
    squared shares) / (1 - sum of squared shares)), floored at 0. Siblings nearly always
    share an ethnicity, so for ethnicity ``deff`` is close to ``m``.

    Parameters
    ----------
    groups
        Each child's sibling group (or its stand-in, see :func:`sibling_groups`).
    attribute
        Each child's value (ethnicity, category...), aligned with ``groups``; missing ones
        are left out.

    Returns
    -------
    dict
        ``deff``, ``mean_size``, ``rho``, ``children``, ``groups``.

    >>> g = pd.Series(["a", "a", "b", "b", "c", "d"])
    >>> sibling_design_effect(g, pd.Series(list("xxyyxy")))["deff"]
    1.6666666666666667
    """
    frame = pd.DataFrame({"g": groups.to_numpy(), "a": attribute.to_numpy()}).dropna()
    sizes = frame.groupby("g").size()
    n = float(sizes.sum())
    mean_size = float((sizes**2).sum() / n) if n else 1.0
    pairs = float((sizes * (sizes - 1) / 2).sum())
    shares = frame["a"].value_counts(normalize=True)
    chance = float((shares**2).sum())
    if pairs == 0 or chance >= 1:
        rho = 0.0
    else:
        cells = frame.groupby(["g", "a"]).size()
        agree = float((cells * (cells - 1) / 2).sum()) / pairs
        rho = max(0.0, (agree - chance) / (1 - chance))
    return {"deff": 1 + (mean_size - 1) * rho, "mean_size": mean_size, "rho": rho,
            "children": n, "groups": float(len(sizes))}


def sibling_groups(cin: CinData, year: int) -> pd.DataFrame:
    """Children whose plans started in the year ending 31 March ``year``, with a stand-in for
    their sibling group: the CIN Census has no family link, and siblings' plans start at the
    same conference, so children whose plans started on the same day are taken as one group.
    The stand-in errs towards too small a design effect, not too large: unrelated families
    conferenced the same day agree only by chance, which leaves ``(m - 1) rho`` about
    unchanged on average, while siblings whose plans start on different days are split and
    their agreement lost, so intervals widened by it may still be too narrow. Columns ``child_id``, ``group``, and the attributes a
    design effect may be measured on: ``ethnicity``, ``gender``, ``category`` (initial) and
    ``age_band`` at the plan's start (``unborn``, ``0_4``, ``5_9``, ``10_17``)."""
    plans = cin.cp_plans
    start = pd.Timestamp(year - 1, 4, 1)
    started = plans[(plans["start_date"] >= start)
                    & (plans["start_date"] < start + pd.DateOffset(years=1))]
    started = started.drop_duplicates("child_id")
    kids = cin.children.drop_duplicates("child_id").set_index("child_id").reindex(
        started["child_id"])
    years = (started["start_date"].to_numpy() - kids["birth_month"].to_numpy()) / np.timedelta64(
        1, "D") / 365.25
    # No birth date yet, or born after the plan started (a pre-birth plan): unborn.
    band = pd.cut(pd.Series(years), [0, 5, 10, np.inf], right=False,
                  labels=["0_4", "5_9", "10_17"]).astype(object)
    band = band.where(pd.Series(years) >= 0, "unborn")
    return pd.DataFrame({"child_id": started["child_id"].to_numpy(),
                         "group": started["start_date"].astype(str).to_numpy(),
                         "ethnicity": kids["ethnicity"].to_numpy(),
                         "gender": kids["gender"].to_numpy(),
                         "category": started["initial_category"].to_numpy(),
                         "age_band": band.to_numpy()})


def widen(table: pd.DataFrame, deff: float, pairs: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """Intervals widened by a design effect on the log scale, about each estimate:
    ``estimate x (limit / estimate) ^ sqrt(deff)`` for each (estimate, lower, upper) column
    triple (a log-scale standard error times sqrt(deff)). An estimate of 0 keeps its lower
    limit of 0 and has its upper one times ``deff`` (its effective number of children is
    divided by ``deff``)."""
    out = table.copy()
    root = float(np.sqrt(deff))
    with np.errstate(divide="ignore", invalid="ignore"):
        for value, lower, upper in pairs:
            if value not in out:
                continue
            est = out[value].astype(float)
            low, high = out[lower].astype(float), out[upper].astype(float)
            out[lower] = np.where((low > 0) & (est > 0), est * (low / est) ** root, low)
            out[upper] = np.where(est > 0, est * (high / est) ** root, high * deff)
    return out
