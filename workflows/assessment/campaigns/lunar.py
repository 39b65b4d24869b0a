"""Lunar (农历) dates, 1950–2100, in China Standard Time (UTC+8, as the calendar is reckoned since 1929).

``lunardate`` holds the official tables for lunar years 1900–2099, so lunar
year 2100 (which starts in February 2100) is beyond it. For that year the
months are computed from the astronomy: new moons by Meeus' series
(Astronomical Algorithms, ch. 49), the major solar terms (中气) from
chinese_calendar (which has them up to 2100), and the usual rule that a
year with 13 months leaps the first month lacking a major term. The same
computation is checked against ``lunardate`` for every year 1950–2099 in
tests/test_campaigns.py, so the fallback is proven where tables exist.
"""
import math
from datetime import date, datetime, timedelta, timezone

import chinese_calendar
import lunardate

FIRST_YEAR, LAST_YEAR = 1950, 2100
_TABLE_END = 2100  # lunardate: lunar years [1900, 2100)
_MAJOR_TERMS = {"雨水", "春分", "谷雨", "小满", "夏至", "大暑", "处暑", "秋分", "霜降", "小雪", "冬至", "大寒"}
_CST = timezone(timedelta(hours=8))
_J2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)  # JD 2451545.0


def to_solar(year, month, day):
    """The Gregorian date of lunar ``year``-``month``-``day`` (never a leap month)."""
    if year < _TABLE_END:
        return lunardate.LunarDate(year, month, day).to_solar_date()
    return computed_to_solar(year, month, day)


def computed_to_solar(year, month, day):
    """The same as ``to_solar`` from the astronomy alone (any year chinese_calendar has terms for)."""
    starts = _month_starts(year)
    return starts[month - 1] + timedelta(days=day - 1)


# --- new moons ---------------------------------------------------------------------------------

def _new_moon_jde(k):
    """Julian Ephemeris Day of the new moon of lunation ``k`` (0 = 2000-01-06), Meeus 49.1 with corrections."""
    t = k / 1236.85
    jde = (2451550.09766 + 29.530588861 * k + 0.00015437 * t ** 2 - 0.000000150 * t ** 3
           + 0.00000000073 * t ** 4)
    e = 1 - 0.002516 * t - 0.0000074 * t ** 2
    rad = math.radians
    m = rad(2.5534 + 29.10535670 * k - 0.0000014 * t ** 2 - 0.00000011 * t ** 3)
    mp = rad(201.5643 + 385.81693528 * k + 0.0107582 * t ** 2 + 0.00001238 * t ** 3 - 0.000000058 * t ** 4)
    f = rad(160.7108 + 390.67050284 * k - 0.0016118 * t ** 2 - 0.00000227 * t ** 3 + 0.000000011 * t ** 4)
    om = rad(124.7746 - 1.56375588 * k + 0.0020672 * t ** 2 + 0.00000215 * t ** 3)
    sin = math.sin
    jde += (-0.40720 * sin(mp) + 0.17241 * e * sin(m) + 0.01608 * sin(2 * mp) + 0.01039 * sin(2 * f)
            + 0.00739 * e * sin(mp - m) - 0.00514 * e * sin(mp + m) + 0.00208 * e * e * sin(2 * m)
            - 0.00111 * sin(mp - 2 * f) - 0.00057 * sin(mp + 2 * f) + 0.00056 * e * sin(2 * mp + m)
            - 0.00042 * sin(3 * mp) + 0.00042 * e * sin(m + 2 * f) + 0.00038 * e * sin(m - 2 * f)
            - 0.00024 * e * sin(2 * mp - m) - 0.00017 * sin(om) - 0.00007 * sin(mp + 2 * m)
            + 0.00004 * sin(2 * mp - 2 * f) + 0.00004 * sin(3 * m) + 0.00003 * sin(mp + m - 2 * f)
            + 0.00003 * sin(2 * mp + 2 * f) - 0.00003 * sin(mp + m + 2 * f) + 0.00003 * sin(mp - m + 2 * f)
            - 0.00002 * sin(mp - m - 2 * f) - 0.00002 * sin(3 * mp + m) + 0.00002 * sin(4 * mp))
    # The largest planetary arguments (Meeus table 49.B); the rest are below 10 seconds.
    for coefficient, angle in ((0.000325, 299.77 + 0.107408 * k - 0.009173 * t ** 2),
                               (0.000165, 251.88 + 0.016321 * k), (0.000164, 251.83 + 26.651886 * k),
                               (0.000126, 349.42 + 36.412478 * k), (0.000110, 84.66 + 18.206239 * k),
                               (0.000062, 141.74 + 53.303771 * k), (0.000060, 207.14 + 2.453732 * k),
                               (0.000056, 154.84 + 7.306860 * k), (0.000047, 34.52 + 27.261239 * k),
                               (0.000042, 207.19 + 0.121824 * k), (0.000040, 291.34 + 1.844379 * k),
                               (0.000037, 161.72 + 24.198154 * k), (0.000035, 239.56 + 25.513099 * k),
                               (0.000023, 331.55 + 3.592518 * k)):
        jde += coefficient * sin(rad(angle))
    return jde


def _delta_t_seconds(year):
    """TT − UT, Espenak–Meeus' polynomials (a few seconds off at most in this range)."""
    if year < 2005:
        t = year - 2000
        return 63.86 + 0.3345 * t - 0.060374 * t ** 2 + 0.0017275 * t ** 3 + 0.000651814 * t ** 4
    if year < 2050:
        t = year - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t ** 2
    return -20 + 32 * ((year - 1820) / 100) ** 2 - 0.5628 * (2150 - year)


def _new_moon_day(k):
    """The calendar day (China Standard Time) of new moon ``k``."""
    jde = _new_moon_jde(k)
    approx_year = 2000 + (jde - 2451545.0) / 365.25
    moment = _J2000 + timedelta(days=jde - 2451545.0, seconds=-_delta_t_seconds(approx_year))
    return moment.astimezone(_CST).date()


def _first_new_moon_on_or_after(day):
    k = math.floor((day.year + (day.timetuple().tm_yday - 1) / 365.25 - 2000) * 12.3685) - 2
    while _new_moon_day(k) < day:
        k += 1
    return k


# --- months ------------------------------------------------------------------------------------

def _winter_solstice(year):
    return next(d for d, name in chinese_calendar.get_solar_terms(date(year, 12, 1), date(year, 12, 31))
                if name == "冬至")


def _month_eleven_k(year):
    """The lunation that starts month 11 of ``year``: the one holding the winter solstice."""
    solstice = _winter_solstice(year)
    k = _first_new_moon_on_or_after(solstice - timedelta(days=31))
    while _new_moon_day(k + 1) <= solstice:
        k += 1
    return k


def _has_major_term(k):
    start, end = _new_moon_day(k), _new_moon_day(k + 1) - timedelta(days=1)
    return any(name in _MAJOR_TERMS for _, name in chinese_calendar.get_solar_terms(start, end))


def _month_starts(year):
    """First days of lunar months 1–12 of lunar ``year`` (leap months left out)."""
    # Months 11 of year-1 .. 11 of year (the 岁) decide whether a month of it is leapt.
    k11 = _month_eleven_k(year - 1)
    leap_sui = _month_eleven_k(year) - k11 == 13
    numbered, number, leapt = [], 11, False
    for k in range(k11, k11 + 16):
        if k > k11 and leap_sui and not leapt and not _has_major_term(k):
            leapt = True
            continue
        if k > k11:
            number = number % 12 + 1
        numbered.append((number, k))
    # Month 1 of ``year`` is the first month numbered 1 after month 11 of year-1.
    first = next(i for i, (n, _) in enumerate(numbered) if n == 1)
    months = numbered[first:first + 12]
    # Past this sui (month 11 of ``year`` on) another leap could come; the nodes need months 1–8 only.
    return [_new_moon_day(k) for _, k in months]
