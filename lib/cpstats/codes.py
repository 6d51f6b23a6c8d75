"""Codes used across sources: ethnicity, category of abuse, gender, age bands.

LA codes and their reorganisations live in :mod:`cpstats.geography`.
"""

from __future__ import annotations

import pandas as pd

#: The 18 CIN Census ethnicity codes (plus refused / not obtained), with labels.
ETHNICITY_LABELS: dict[str, str] = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish Heritage",
    "WOTH": "Any other White background",
    "WROM": "Gypsy/Roma",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other Mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Caribbean",
    "BAFR": "African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}
#: Codes that are not an ethnicity: reported apart, excluded from known-ethnicity shares.
ETHNICITY_UNKNOWN = ("REFU", "NOBT")

#: DfE's five groups as in the CIN tables of the 2022 release, whose back series put
#: Chinese under Asian (a7's Asian total includes it; tests/test_dfe.py checks this).
#: Older DfE publications put Chinese under Other: see ``ethnicity_map.BROAD_SCHEMES``.
ETHNIC_GROUP_OF: dict[str, str] = {
    **dict.fromkeys(["WBRI", "WIRI", "WIRT", "WOTH", "WROM"], "White"),
    **dict.fromkeys(["MWBC", "MWBA", "MWAS", "MOTH"], "Mixed"),
    **dict.fromkeys(["AIND", "APKN", "ABAN", "CHNE", "AOTH"], "Asian or Asian British"),
    **dict.fromkeys(["BCRB", "BAFR", "BOTH"], "Black or Black British"),
    "OOTH": "Other ethnic group",
    "REFU": "Refused",
    "NOBT": "Not obtained",
}
ETHNIC_GROUPS = ("White", "Mixed", "Asian or Asian British", "Black or Black British",
                 "Other ethnic group")

#: Category of abuse: CIN Census code -> breakdown value used in facts.
CATEGORY_OF: dict[str, str] = {
    "NEG": "neglect",
    "PHY": "physical_abuse",
    "SAB": "sexual_abuse",
    "EMO": "emotional_abuse",
    "MUL": "multiple",
}
CATEGORIES = tuple(CATEGORY_OF.values())

#: Gender/sex values used in facts breakdowns.
GENDERS = ("male", "female", "unborn", "unknown")

#: DfE's age bands at a date, in order; the lower bound in whole years (None: unborn).
AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("unborn", None),
    ("under_1", 0),
    ("1_4", 1),
    ("5_9", 5),
    ("10_15", 10),
    ("16_plus", 16),
)
AGE_BAND_LABELS = {
    "unborn": "Unborn", "under_1": "Under 1", "1_4": "1-4", "5_9": "5-9",
    "10_15": "10-15", "16_plus": "16+",
}
#: Age bands harmonised across a change of banding: the coarsest partition both DfE's bands and
#: the report's earlier local bands (ONS quinary bands, probably) can be mapped onto.
HARMONISED_AGE_BANDS: dict[str, str] = {"unborn": "unborn", "under_1": "0_4", "1_4": "0_4",
                                        "5_9": "5_9", "10_15": "10_17", "16_plus": "10_17"}
HARMONISED_AGE_LABELS = {"unborn": "Unborn", "0_4": "0-4", "5_9": "5-9", "10_17": "10-17"}


def harmonise_age_bands(counts: pd.Series) -> pd.Series:
    """Counts by DfE age band summed into :data:`HARMONISED_AGE_BANDS`, in order.

    Parameters
    ----------
    counts
        Counts indexed by DfE age band (``unborn``, ``under_1``, ... ``16_plus``).

    Returns
    -------
    pandas.Series
        Counts indexed by harmonised band (``unborn``, ``0_4``, ``5_9``, ``10_17``).

    Raises
    ------
    KeyError
        For a band it does not know (rather than dropping children).
    """
    unknown = set(counts.index) - set(HARMONISED_AGE_BANDS)
    if unknown:
        raise KeyError(f"age bands without a harmonised band: {sorted(unknown)}")
    order = list(dict.fromkeys(HARMONISED_AGE_BANDS.values()))
    return counts.groupby(counts.index.map(HARMONISED_AGE_BANDS)).sum().reindex(order, fill_value=0)


#: DfE's bands for the length of a CP plan (open at 31 March, or at its end).
DURATION_BANDS = (
    ("3_months_or_less", "3 months or less"),
    ("3_to_6_months", "More than 3 months, up to 6 months"),
    ("6_months_to_1_year", "More than 6 months, under 1 year"),
    ("1_to_2_years", "1 year, under 2 years"),
    ("2_years_or_more", "2 years or more"),
)


#: The facts measure of a population of children aged 0-17 (ONS estimates, Census 2011 counts).
POPULATION_MEASURE = "population_0_17"
#: Measure names a generic rule would give -> the contract's name for the same figure (the
#: DfE reader and derived rates both name figures through it).
MEASURE_RENAMES = {
    "cp_plans_at_31_march_rate_per_10k": "cp_rate_per_10k",
    "children_in_need_at_31_march_rate_per_10k": "cin_rate_per_10k",
    "cp_plans_second_or_subsequent_pct": "cp_second_or_subsequent_pct",
}


def breakdown(**parts: str) -> str:
    """Format a facts ``breakdown``: ``breakdown(category="neglect")`` -> ``"category=neglect"``."""
    return ";".join(f"{key}={value}" for key, value in parts.items())
