"""Months as the assessment counts them, and deadlines in official working days.

A monthly obligation is due by the N-th working day of the next month
(chinese-calendar's holidays and make-up Saturdays, as everywhere else).
"""
from dataclasses import dataclass
from datetime import date, timedelta

from ..engine.deadlines import is_working_day


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text):
        """``YYYY-MM`` → Month; ValueError on anything else."""
        year, _, month = (text or "").partition("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
            raise ValueError(f"not a month: {text!r}")
        value = cls(int(year), int(month))
        if not 1 <= value.month <= 12:
            raise ValueError(f"not a month: {text!r}")
        return value

    @classmethod
    def of(cls, day):
        return cls(day.year, day.month)

    def __str__(self):
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self):
        return date(self.year, self.month, 1)

    @property
    def last(self):
        return self.next().first - timedelta(days=1)

    def next(self):
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self):
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def months_of(year):
    return [Month(year, m) for m in range(1, 13)]


def nth_working_day(month, n):
    """The ``n``-th working day of ``month`` (n ≥ 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, counted = month.first, 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == n:
                return day
        day += timedelta(days=1)


def due_for(month, working_days):
    """When an obligation of ``month`` is due: the ``working_days``-th working day of the next month."""
    return nth_working_day(month.next(), working_days)
