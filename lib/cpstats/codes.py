"""Codes used across sources: ethnicity, category of abuse, gender, age bands.

LA codes and their reorganisations live in :mod:`cpstats.geography`.
"""

from __future__ import annotations

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

#: DfE's bands for the length of a CP plan (open at 31 March, or at its end).
DURATION_BANDS = (
    ("3_months_or_less", "3 months or less"),
    ("3_to_6_months", "More than 3 months, up to 6 months"),
    ("6_months_to_1_year", "More than 6 months, under 1 year"),
    ("1_to_2_years", "1 year, under 2 years"),
    ("2_years_or_more", "2 years or more"),
)


def breakdown(**parts: str) -> str:
    """Format a facts ``breakdown``: ``breakdown(category="neglect")`` -> ``"category=neglect"``."""
    return ";".join(f"{key}={value}" for key, value in parts.items())
