"""Deadlines as ISO 8601 durations; ``P5WD`` counts official Chinese working days.

Working days come from the ``chinese-calendar`` package (holidays and the
make-up working Saturdays); outside the years it knows, Monday to Friday.
"""
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

_PARTS = re.compile(r"^P(?:(\d+)WD|(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?)$")


@lru_cache(maxsize=4096)
def is_working_day(day):
    # The package's calendar is fixed data: a day's answer never changes in a process.
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start, days):
    """The day on which the ``days``-th working day after ``start``'s day ends."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def due_at(start, duration):
    """When something started at ``start`` (a datetime) with ``duration`` is due."""
    match = _PARTS.match(duration or "")
    if not match:
        raise ValueError(f"not a duration: {duration!r}")
    working, weeks, days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    if match.group(1):
        # Due at the end of the last working day: a reviewer has the whole day.
        return datetime.combine(add_working_days(start.date(), working), time(23, 59, 59))
    return start + timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def is_overdue(due, now):
    return due is not None and now > due


def today():
    return date.today()
