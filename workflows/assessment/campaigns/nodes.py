"""The year's campaign nodes (节点), computed for any year 1950–2100: never a festival date typed in.

Each node has a default window of a week either side (node − 7 … node + 7
days), so units may prepare and report around the day. 高考 spans two days
(June 7–8): its window runs from a week before the first day to a week
after the second (May 31 … June 15).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from . import lunar
from ...models import UnitKind

FIRST_YEAR, LAST_YEAR = lunar.FIRST_YEAR, lunar.LAST_YEAR
WINDOW_DAYS = 7

# The activity_report form's topic values (workflows/definitions/forms/activity_report.yaml).
TOPICS = ("warmth", "remembrance", "exam_care", "environment", "elderly", "other")
# The kinds of unit that file activity reports (the form's available_to).
REPORTING_KINDS = [UnitKind.CIVILIZED_UNIT.value, UnitKind.COMMUNITY.value, UnitKind.VOLUNTEER_ORG.value,
                   UnitKind.TEAM.value]
FORMS = ["activity_report"]


class YearOutOfRange(ValueError):
    pass


@dataclass(frozen=True)
class Node:
    key: str
    name_zh: str
    name_en: str
    node_on: date
    window_start: date
    window_end: date
    theme: str
    topics: list = field(default_factory=list)
    unit_kinds: list = field(default_factory=lambda: list(REPORTING_KINDS))
    forms: list = field(default_factory=lambda: list(FORMS))
    lead_unit_ids: list = field(default_factory=list)


def _qingming(year):
    """The solar term 清明 (chinese_calendar holds the terms for 1900–2100)."""
    return next(day for day, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10))
                if name == "清明")


def _node(key, zh, en, day, theme, topics, last_day=None):
    week = timedelta(days=WINDOW_DAYS)
    return Node(key, zh, en, day, day - week, (last_day or day) + week, theme, list(topics))


def nodes_for(year):
    """The generated nodes of ``year``, sorted by date; YearOutOfRange outside 1950–2100."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise YearOutOfRange(f"year must be between {FIRST_YEAR} and {LAST_YEAR}")
    gaokao = date(year, 6, 7)
    nodes = [
        _node("lantern", "元宵节", "Lantern Festival", lunar.to_solar(year, 1, 15),
              "我们的节日·元宵：邻里守望、送温暖献爱心", ["warmth"]),
        _node("leifeng", "学雷锋纪念日", "Learn from Lei Feng Day", date(year, 3, 5),
              "学雷锋志愿服务月：关爱他人、关爱社会、关爱自然", ["warmth", "elderly", "environment"]),
        _node("qingming", "清明节", "Qingming", _qingming(year),
              "我们的节日·清明：文明祭扫、绿色祭祀", ["remembrance", "environment"]),
        _node("dragon_boat", "端午节", "Dragon Boat Festival", lunar.to_solar(year, 5, 5),
              "我们的节日·端午：传承文化、关爱老人", ["warmth", "elderly"]),
        _node("gaokao", "高考", "Gaokao", gaokao,
              "爱心护考：为考生服务、为家长解忧", ["exam_care"], last_day=gaokao + timedelta(days=1)),
        _node("mid_autumn", "中秋节", "Mid-Autumn Festival", lunar.to_solar(year, 8, 15),
              "我们的节日·中秋：团圆守望、送温暖献爱心", ["warmth", "elderly"]),
    ]
    return sorted(nodes, key=lambda n: (n.node_on, n.key))


def calendar_lines(year):
    """``flask campaigns calendar``: one node a line, ``YYYY-MM-DD KEY NAME START..END``."""
    return [f"{n.node_on.isoformat()} {n.key} {n.name_zh} {n.window_start.isoformat()}..{n.window_end.isoformat()}"
            for n in nodes_for(year)]
