"""Ethnicity across sources: CIN Census codes, Census 2011 groups, school census labels.

The CIN Census records 18 ethnic groups (plus REFU refused and NOBT not yet
obtained); the 2011 Census (DC2101EW) has 18 groups too, but not the same 18:

* CIN has ``WIRT`` (Traveller of Irish heritage) and ``WROM`` (Gypsy/Roma);
  the census has one "Gypsy or Irish Traveller" group, and Roma ticked
  "Other White" there. Both CIN codes map to one comparison group
  ``gypsy_roma_irish_traveller``, whose census denominator misses Roma
  children (so its rate is overstated), and ``white_other``'s denominator
  holds them (so its rate is slightly understated).
* The census has "Arab"; CIN has no Arab code (Arab children are recorded as
  ``OOTH``). Census Arab + "Any other ethnic group" map to ``other``.
* ``CHNE`` Chinese is its own comparison group; its *broad* group depends on
  the publication: Asian in the census and in DfE's CIN tables of the 2022
  release (back series included), "Other ethnic group" in older DfE
  publications. Broad groups are therefore built with a named scheme
  (:data:`BROAD_SCHEMES`).

That leaves 17 comparison groups that both sides can be summed into exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpstats.errors import InputError, Problem

#: The 17 groups both CIN Census and Census 2011 can be summed into, in display order.
COMPARISON_GROUPS: dict[str, str] = {
    "white_british": "White British",
    "white_irish": "White Irish",
    "gypsy_roma_irish_traveller": "Gypsy, Roma or Irish Traveller",
    "white_other": "Any other White background",
    "mixed_white_black_caribbean": "White and Black Caribbean",
    "mixed_white_black_african": "White and Black African",
    "mixed_white_asian": "White and Asian",
    "mixed_other": "Any other Mixed background",
    "asian_indian": "Indian",
    "asian_pakistani": "Pakistani",
    "asian_bangladeshi": "Bangladeshi",
    "asian_other": "Any other Asian background",
    "black_caribbean": "Caribbean",
    "black_african": "African",
    "black_other": "Any other Black background",
    "chinese": "Chinese",
    "other": "Any other ethnic group (incl. Arab)",
}
#: Groups for records without an ethnicity: reported apart, never in known-ethnicity shares.
UNKNOWN_GROUPS: dict[str, str] = {"refused": "Refused", "not_obtained": "Information not yet obtained"}

#: CIN Census code -> comparison group (all 20 codes).
CIN_TO_GROUP: dict[str, str] = {
    "WBRI": "white_british",
    "WIRI": "white_irish",
    "WIRT": "gypsy_roma_irish_traveller",
    "WROM": "gypsy_roma_irish_traveller",
    "WOTH": "white_other",
    "MWBC": "mixed_white_black_caribbean",
    "MWBA": "mixed_white_black_african",
    "MWAS": "mixed_white_asian",
    "MOTH": "mixed_other",
    "AIND": "asian_indian",
    "APKN": "asian_pakistani",
    "ABAN": "asian_bangladeshi",
    "AOTH": "asian_other",
    "BCRB": "black_caribbean",
    "BAFR": "black_african",
    "BOTH": "black_other",
    "CHNE": "chinese",
    "OOTH": "other",
    "REFU": "refused",
    "NOBT": "not_obtained",
}

#: Census 2011 (DC2101EW / QS201EW) group label, as nomis prints it -> comparison group.
CENSUS2011_TO_GROUP: dict[str, str] = {
    "White: English/Welsh/Scottish/Northern Irish/British": "white_british",
    "White: Irish": "white_irish",
    "White: Gypsy or Irish Traveller": "gypsy_roma_irish_traveller",
    "White: Other White": "white_other",
    "Mixed/multiple ethnic group: White and Black Caribbean": "mixed_white_black_caribbean",
    "Mixed/multiple ethnic group: White and Black African": "mixed_white_black_african",
    "Mixed/multiple ethnic group: White and Asian": "mixed_white_asian",
    "Mixed/multiple ethnic group: Other Mixed": "mixed_other",
    "Asian/Asian British: Indian": "asian_indian",
    "Asian/Asian British: Pakistani": "asian_pakistani",
    "Asian/Asian British: Bangladeshi": "asian_bangladeshi",
    "Asian/Asian British: Chinese": "chinese",
    "Asian/Asian British: Other Asian": "asian_other",
    "Black/African/Caribbean/Black British: African": "black_african",
    "Black/African/Caribbean/Black British: Caribbean": "black_caribbean",
    "Black/African/Caribbean/Black British: Other Black": "black_other",
    "Other ethnic group: Arab": "other",
    "Other ethnic group: Any other ethnic group": "other",
}

#: DfE school census label (spc_pupils_ethnicity_and_language) -> comparison group.
SCHOOL_CENSUS_TO_GROUP: dict[str, str] = {
    "White - White British": "white_british",
    "White - Irish": "white_irish",
    "White - Traveller of Irish heritage": "gypsy_roma_irish_traveller",
    "White - Gypsy/Roma": "gypsy_roma_irish_traveller",
    "White - Any other White background": "white_other",
    "Mixed - White and Black Caribbean": "mixed_white_black_caribbean",
    "Mixed - White and Black African": "mixed_white_black_african",
    "Mixed - White and Asian": "mixed_white_asian",
    "Mixed - Any other Mixed background": "mixed_other",
    "Asian - Indian": "asian_indian",
    "Asian - Pakistani": "asian_pakistani",
    "Asian - Bangladeshi": "asian_bangladeshi",
    "Asian - Any other Asian background": "asian_other",
    "Asian - Chinese": "chinese",
    "Black - Black Caribbean": "black_caribbean",
    "Black - Black African": "black_african",
    "Black - Any other Black background": "black_other",
    "Any other ethnic group": "other",
    "Unclassified": "not_obtained",
}

_BROAD_BASE: dict[str, str] = {
    **dict.fromkeys(["white_british", "white_irish", "gypsy_roma_irish_traveller", "white_other"],
                    "White"),
    **dict.fromkeys(["mixed_white_black_caribbean", "mixed_white_black_african",
                     "mixed_white_asian", "mixed_other"], "Mixed"),
    **dict.fromkeys(["asian_indian", "asian_pakistani", "asian_bangladeshi", "asian_other"],
                    "Asian or Asian British"),
    **dict.fromkeys(["black_caribbean", "black_african", "black_other"], "Black or Black British"),
    "other": "Other ethnic group",
}
#: Comparison group -> broad group, per scheme. ``dfe``: DfE's CIN tables of the 2022
#: release (:data:`cpstats.codes.ETHNIC_GROUP_OF`), Chinese under Asian as in the census;
#: ``dfe_chinese_other``: older DfE publications, Chinese under Other.
BROAD_SCHEMES: dict[str, dict[str, str]] = {
    "dfe": {**_BROAD_BASE, "chinese": "Asian or Asian British"},
    "dfe_chinese_other": {**_BROAD_BASE, "chinese": "Other ethnic group"},
    "census": {**_BROAD_BASE, "chinese": "Asian or Asian British"},
}
BROAD_GROUPS = ("White", "Mixed", "Asian or Asian British", "Black or Black British",
                "Other ethnic group")

#: Where a comparison group is not one-to-one between the sources.
MAPPING_CAVEATS: dict[str, str] = {
    "gypsy_roma_irish_traveller": (
        "CIN WIRT + WROM against census 'Gypsy or Irish Traveller'; Roma ticked 'Other White' "
        "in 2011, so the denominator misses Roma children and the rate is overstated."),
    "white_other": "Census 'Other White' includes Roma children, whom CIN records as WROM.",
    "chinese": "Asian in the census, the school census and DfE's 2022-release CIN tables; "
               "'Other' in older DfE publications.",
    "other": "Census 'Arab' + 'Any other ethnic group'; CIN records Arab children as OOTH.",
}


def comparison_group(codes: pd.Series, file: str = "(ethnicity codes)") -> pd.Series:
    """Map CIN Census ethnicity codes to comparison groups.

    Parameters
    ----------
    codes
        CIN Census codes (``WBRI`` ... ``OOTH``, ``REFU``, ``NOBT``); case and
        surrounding spaces are ignored.
    file
        Named in the error for an unknown code.

    Returns
    -------
    pandas.Series
        Comparison group ids (keys of :data:`COMPARISON_GROUPS` or
        :data:`UNKNOWN_GROUPS`), same index, string dtype.

    Raises
    ------
    InputError
        Listing every code that is neither an ethnicity code nor blank.
        Blank codes map to ``not_obtained``.
    """
    clean = codes.astype("string").str.strip().str.upper().fillna("NOBT").replace("", "NOBT")
    mapped = clean.map(CIN_TO_GROUP)
    bad = mapped.isna()
    if bad.any():
        raise InputError([
            Problem(file=file, row=int(i) + 2 if isinstance(i, (int, np.integer)) else None,
                    column="ethnicity",
                    value=str(codes.loc[i]), expected=f"a CIN ethnicity code {sorted(CIN_TO_GROUP)}")
            for i in codes.index[bad.to_numpy()]
        ])
    return mapped.astype("string")


def broad_group(groups: pd.Series, scheme: str = "dfe") -> pd.Series:
    """Broad group (White, Mixed, Asian, Black, Other) of comparison groups under ``scheme``.

    Unknown groups (``refused``, ``not_obtained``) stay as they are.
    """
    if scheme not in BROAD_SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(BROAD_SCHEMES)}, not {scheme!r}")
    return groups.astype("string").replace(BROAD_SCHEMES[scheme])


def is_known(groups: pd.Series) -> pd.Series:
    """True where a comparison group is an ethnicity (not refused / not obtained)."""
    return groups.isin(list(COMPARISON_GROUPS))


def mapping_table() -> pd.DataFrame:
    """Every CIN code and census / school-census label beside its comparison group.

    One row per (source, code or label), sorted by comparison-group order, with
    ``broad_dfe``, ``broad_census`` and any ``caveat``: the table in the docs
    and notebook 03.
    """
    parts = [
        pd.DataFrame({"source": "cin_census", "code_or_label": list(CIN_TO_GROUP),
                      "group": list(CIN_TO_GROUP.values())}),
        pd.DataFrame({"source": "census_2011", "code_or_label": list(CENSUS2011_TO_GROUP),
                      "group": list(CENSUS2011_TO_GROUP.values())}),
        pd.DataFrame({"source": "school_census", "code_or_label": list(SCHOOL_CENSUS_TO_GROUP),
                      "group": list(SCHOOL_CENSUS_TO_GROUP.values())}),
    ]
    table = pd.concat(parts, ignore_index=True)
    labels = {**COMPARISON_GROUPS, **UNKNOWN_GROUPS}
    order = {g: i for i, g in enumerate(labels)}
    table["group_label"] = table["group"].map(labels)
    table["broad_dfe"] = table["group"].map(BROAD_SCHEMES["dfe"])
    table["broad_census"] = table["group"].map(BROAD_SCHEMES["census"])
    table["caveat"] = table["group"].map(MAPPING_CAVEATS).fillna("")
    table["_order"] = table["group"].map(order)
    table = table.sort_values(["_order", "source", "code_or_label"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True).astype("string")

