from datetime import date

import pytest

from cpstats import periods
from cpstats.errors import ParameterError


@pytest.mark.parametrize("text", ["2017", 2017, "2016-17"])
def test_year_forms_agree(text):
    assert periods.parse_year(text) == 2017


@pytest.mark.parametrize("text", ["2016-18", "17", "twenty"])
def test_bad_year_is_a_parameter_error(text):
    with pytest.raises(ParameterError, match="--year"):
        periods.parse_year(text)


def test_financial_quarters():
    assert periods.quarter_of(date(2017, 1, 15)) == (2017, 4)
    assert periods.quarter_of(date(2016, 4, 1)) == (2017, 1)
    assert periods.quarter_bounds(2017, 3) == (date(2016, 10, 1), date(2016, 12, 31))
    assert periods.quarter_label(2017, 4) == "2016-17 Q4"
    assert periods.year_label(2017) == "2016-17"


@pytest.mark.parametrize("label, kind", [
    ("2016-17", "year"), ("2011-12", "year"), ("2017-03", "month"), ("2017-12", "month"),
    ("2016-17 Q4", "quarter"), ("2017-03-31", "date"),
    ("2017", None), ("2016-18", None), ("2017-13", None), ("2016-18 Q1", None), ("", None)])
def test_period_kind_reads_a_label_once_for_every_module(label, kind):
    assert periods.period_kind(label) == kind


def test_quarter_and_month_parts():
    assert periods.parse_quarter("2016-17 Q4") == (2017, 4)
    assert periods.parse_month("2017-03") == (2017, 3)
    with pytest.raises(ParameterError):
        periods.parse_month("2011-12")  # a year ending March 2012, not December 2011
    with pytest.raises(ParameterError):
        periods.parse_quarter("2016-17")


def test_no_other_module_writes_a_period_pattern():
    """Period patterns live in periods.py alone (facts.py's schema check is the one other
    reader of labels, and says which it accepts)."""
    import re

    from cpstats.paths import PROJECT_ROOT

    pattern = re.compile(r"\\d\{4\}-")  # a regex for "YYYY-..." written in source
    allowed = {"periods.py", "facts.py", "notebook_env.py"}
    found = [f"{path.relative_to(PROJECT_ROOT)}:{number}"
             for path in sorted((PROJECT_ROOT / "lib" / "cpstats").rglob("*.py"))
             if path.name not in allowed and "io" not in path.parent.name
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert not found, f"period patterns outside periods.py: {found}"
