"""The public API: `cpstats.Study`, its documented surface, and comparisons with intervals."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import cpstats
from cpstats.errors import ParameterError

API_DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _documented_signatures() -> dict[str, str]:
    """``name(signature)`` lines in docs/api.md's code blocks headed ``# signature``."""
    text = API_DOC.read_text(encoding="utf-8")
    block = re.search(r"```python\n# signatures\n(.*?)```", text, re.DOTALL)
    assert block, "docs/api.md has no '# signatures' block"
    return {line.split("(")[0]: line for line in block.group(1).strip().splitlines()}


def _actual(name: str) -> str:
    import cpstats.notebook  # noqa: F401 -- documented: notebook.setup

    owner, _, attribute = name.partition(".")
    target = getattr(cpstats, owner)
    if attribute:
        member = inspect.getattr_static(target, attribute)
        if isinstance(member, property):
            return f"{name}()"
        target = getattr(target, attribute)
    signature = str(inspect.signature(target)).replace("(self, ", "(").replace("(self)", "()")
    return f"{name}{signature}"


def test_every_documented_name_exists_with_its_signature():
    documented = _documented_signatures()
    assert {"Study", "Study.compare", "Study.theme", "Study.measures", "Study.facts"} <= set(documented)
    for name, line in documented.items():
        assert _actual(name) == line, name


def test_the_public_surface_is_what_is_documented():
    public = {n for n in dir(cpstats.Study) if not n.startswith("_")}
    documented = {n.split(".", 1)[1] for n in _documented_signatures() if n.startswith("Study.")}
    assert public == documented


def test_bad_parameters_are_refused_as_the_report_refuses_them():
    with pytest.raises(ParameterError, match="--year"):
        cpstats.Study(year="2016/17")
    with pytest.raises(ParameterError, match="--dfe-dir"):
        cpstats.Study(dfe_dir="no/such/folder")
    with pytest.raises(KeyError, match="not in the registry"):
        cpstats.Study().compare("no_such_measure")


def test_surrey_s_rate_beside_england_region_and_neighbours(cin_2022):
    study = cpstats.Study(la="Surrey", year=2017, dfe_dir=cin_2022)
    table = study.compare("cp_rate_per_10k").set_index("geography_code")
    assert table.loc["936", "role"] == "la"
    assert set(table["role"]) == {"la", "england", "region", "neighbour"}
    assert (table["role"] == "neighbour").sum() == 10
    surrey = table.loc["936"]
    assert surrey["lower_95"] < surrey["value"] < surrey["upper_95"]
    assert table.loc["E92000001", "value"] == 43.3


def test_buckinghamshire_differs_from_england_where_the_counts_say_so():
    study = cpstats.Study()
    repeat = study.compare("cp_second_or_subsequent_pct", against=["england"]).set_index("role")
    assert repeat.loc["england", "z"] == pytest.approx(-3.0, abs=0.1)
    rate = study.compare("cp_rate_per_10k", against=["england"]).set_index("role")
    assert rate.loc["england", "p_value"] > 0.05  # 45.2 against 43.3: within chance
    assert round(rate.loc["la", "lower_95"], 1) == 41.5


def test_facts_hold_the_la_and_its_comparators_up_to_the_year():
    facts = cpstats.Study().facts
    assert {"825", "E92000001", "E12000008"} <= set(facts["geography_code"])
    assert facts["period"].str[:4].astype(int).max() <= 2017
    assert "local" not in set(facts["source"]) and "report" in set(facts["source"])


def test_measures_is_the_registry():
    measures = cpstats.Study.measures()
    assert {"measure", "label", "unit", "definition", "dfe_table"} <= set(measures.columns)
    assert "cp_rate_per_10k" in set(measures["measure"])


def test_the_deep_dive_uses_only_the_documented_api_and_stays_short():
    import nbformat

    path = Path(__file__).resolve().parents[1] / "notebooks" / "deep_dive.ipynb"
    code = [line.strip() for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "code" for line in cell.source.splitlines()]
    code = [line for line in code if line and not line.startswith("#")]
    assert len(code) < 150
    imports = {line for line in code if line.startswith(("import ", "from "))}
    assert imports == {"import pandas as pd", "import cpstats", "from cpstats.notebook import setup"}
