"""Star volunteers (星级志愿者): the level follows certified hours, by thresholds from configuration.

The thresholds are ``STAR_THRESHOLDS`` (default 100, 300, 600, 1000, 1500
hours for 1★ … 5★); places differ, so nothing here hard-codes them.
"""
from decimal import Decimal

from flask import current_app


def star_level(hours, thresholds=None):
    """0 below the first threshold, else the number of thresholds reached."""
    thresholds = thresholds if thresholds is not None else current_app.config["STAR_THRESHOLDS"]
    hours = Decimal(str(hours or 0))
    return sum(1 for threshold in thresholds if hours >= Decimal(threshold))


def volunteer_stars(volunteer):
    return star_level(volunteer.hours_total)
