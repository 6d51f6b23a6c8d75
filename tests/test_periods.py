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
