"""The kinds of circular: which template renders it, what it is called, what its prose starts as.

A kind is its template in ``templates/pdf/`` plus the facts it reads (``facts.gather`` gathers them
all for the office and month; each template shows its own part). ``covers`` says whether signing
moves the month's archived reports to 已通报; ``names`` which units it is distributed to (签收).
"""
from dataclasses import dataclass
from typing import Callable

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    key: str
    label: object
    template: str
    title: Callable
    opening: Callable
    requirements: str
    covers: bool
    names: Callable


def _month(facts):
    return f"{facts['year']}年{facts['month']}月"


def _all_units(facts):
    return [u["id"] for u in facts["units"]]


KINDS = {k.key: k for k in (
    Kind("monthly", _l("Monthly volunteer-service circular (月度通报)"), "pdf/circular_monthly.html",
         lambda f: f"关于{_month(f)}志愿服务工作开展情况的通报",
         lambda f: (f"为深入推进志愿服务制度化、常态化，根据《关于开展“我们的节日”主题志愿服务活动的通知》要求，"
                    f"现将{_month(f)}全市志愿服务活动开展和月度报送任务完成情况通报如下。"),
         "各单位要对照通报查漏补缺，按时报送活动信息和典型推荐，确保每月至少开展一次主题志愿服务活动。",
         True, _all_units),
    Kind("commendation", _l("Commendation of the monthly top ten (表扬通报)"), "pdf/circular_commendation.html",
         lambda f: f"关于表扬{_month(f)}志愿服务“十佳”典型的通报",
         lambda f: (f"{_month(f)}，各地各单位积极开展主题志愿服务活动，涌现出一批先进典型。经各区县推荐、"
                    f"市文明办评选，决定对以下典型予以通报表扬。"),
         "希望受到表扬的单位和个人珍惜荣誉、再接再厉；各单位要以先进典型为榜样，推动志愿服务深入开展。",
         False, lambda f: sorted({t["unit_id"] for t in f["top_ten"] if "unit_id" in t})),
    Kind("criticism", _l("Criticism of units missing their obligations (通报批评)"), "pdf/circular_criticism.html",
         lambda f: f"关于{_month(f)}未完成志愿服务月度报送任务单位的通报",
         lambda f: (f"根据月度报送任务要求，截至规定时间，以下单位未完成{_month(f)}志愿服务报送任务，"
                    f"现予以通报批评。"),
         "被通报单位要认真分析原因，限期整改，于下月截止日前补报相关材料；连续两个月被通报的，"
         "在文明单位动态管理中予以黄牌警告。",
         False, lambda f: [m["id"] for m in f["missed"]]),
)}


def kind_of(key):
    return KINDS.get(key)
