"""The measure registry: well formed, and complete for what the reports record."""

from __future__ import annotations

import pandas as pd

from cpstats import registry
from cpstats.facts import UNITS


def test_every_measure_once_with_a_label_unit_and_precision():
    table = registry.measures()
    assert table["measure"].is_unique
    assert table["measure"].str.fullmatch(r"[a-z0-9_]+").all()
    assert table["label"].str.len().gt(0).all()
    assert table["unit"].isin(UNITS).all()
    assert table["decimals"].between(0, 3).all()
    assert table["definition"].str.len().gt(10).all()


def test_labels_are_plain_english_not_code_names():
    labels = registry.measures()["label"]
    assert not labels.str.contains(r"_").any()
    assert labels.str.match(r"[A-Z]").all()


def test_published_precision_follows_the_unit_unless_stated():
    assert registry.decimals("cp_plans_at_31_march") == 0
    assert registry.decimals("cp_rate_per_10k") == 1
    assert registry.decimals("correlation_pearson") == 2
    assert registry.better("cp_reviews_in_timescale_pct") == "higher"
    assert registry.entry("cp_plans_at_31_march")["dfe_column"] == "CPP_At31"


def test_every_measure_of_the_shipped_facts_is_registered():
    from cpstats.io.local import read_report_figures
    from cpstats.reference import load_reference

    facts = pd.concat([load_reference(), read_report_figures()])
    missing = sorted(set(facts["measure"]) - set(registry.measures()["measure"]))
    assert missing == []
