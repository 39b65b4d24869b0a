"""Months and monthly deadlines in official working days (the assessment's calendar)."""
from datetime import date

import pytest

from workflows.assessment.periods import Month, due_for, months_of, nth_working_day


def test_months_step_across_years_and_know_their_last_day():
    assert Month(2017, 12).next() == Month(2018, 1) and Month(2017, 1).previous() == Month(2016, 12)
    assert Month(2016, 2).last == date(2016, 2, 29) and Month(2017, 2).last == date(2017, 2, 28)
    assert [str(m) for m in months_of(2017)][::11] == ["2017-01", "2017-12"]
    assert Month.parse("2017-03") == Month(2017, 3)
    for bad in ("2017-13", "2017-3", "17-03", "", None, "2017/03"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_the_fifth_working_day_counts_holidays_and_make_up_saturdays():
    # April 2017: Saturday the 1st was a make-up working day; the 3rd and 4th were the Qingming holiday.
    assert nth_working_day(Month(2017, 4), 1) == date(2017, 4, 1)
    assert due_for(Month(2017, 3), 5) == date(2017, 4, 10)
    # October 2026: the 1st to the 7th are off, Saturday the 10th is worked.
    assert due_for(Month(2026, 9), 1) == date(2026, 10, 8)
    assert due_for(Month(2026, 9), 3) == date(2026, 10, 10)
