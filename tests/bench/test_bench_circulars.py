"""The monthly circular for the whole city, 1,000 units in its annex (400 at small scale: enough to be
rendered in parts).

Measured: the app's pipeline in one piece (sandboxed template, locked-down fetcher, WeasyPrint); the
same in parts on two processes at once, merged and numbered as a worker renders it
(documents/circulars/parts.py); and bare WeasyPrint on the same HTML with the same fetcher. The
facts are synthetic (the shape ``facts.gather`` returns), not seeded.
"""
import io
import random
import time
from datetime import date

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from tests.bench.conftest import scale
from workflows import pdf
from workflows.documents.circulars import rendering
from workflows.documents.circulars.composing import ADDRESSEE, CLOSING
from workflows.documents.circulars.kinds import kind_of

OFFICE = "阜阳市精神文明建设委员会办公室"
DOC_NUMBER = "阜文明办〔2017〕12号"
ISSUED = date(2017, 4, 6)
DISTRICTS = ["颍州区", "颍东区", "颍泉区", "阜合园区", "开发区", "临泉县", "太和县", "阜南县", "颍上县", "界首市",
             "市直"]
OBLIGATIONS = [{"key": "activity", "label": "活动报送"}, {"key": "nomination", "label": "典型推荐"}]
SUFFIXES = ["社区居委会", "小学", "中学", "人民医院", "供电公司", "税务局", "街道办事处", "镇人民政府", "农商银行",
            "文化馆"]


def synthetic_facts(units, seed=11):
    """What ``facts.gather`` returns, for ``units`` units spread over 11 districts."""
    rng = random.Random(seed)
    rows, tallies = [], {d: {"units": 0, "active": 0, "reports": 0, "met": 0} for d in DISTRICTS}
    for i in range(units):
        district = DISTRICTS[i * len(DISTRICTS) // units]  # tree order: a district's units together
        reports = rng.choice([0, 1, 1, 2, 3, 5])
        status = {"activity": "met" if reports else rng.choice(["missing", "late"]),
                  "nomination": rng.choice(["met", "met", "pending", "missing"])}
        name = f"{district}第{i // len(DISTRICTS) + 1}{SUFFIXES[i % 10]}"
        rows.append({"id": 1000 + i, "code": f"U{i:04d}", "name": name,
                     "district": district, "reports": reports, "hours": f"{rng.randint(0, 400) / 2:g}",
                     "points": f"{rng.randint(40, 100)}.5" if rng.random() > 0.1 else None, "status": status})
        tally = tallies[district]
        tally["units"] += 1
        tally["active"] += 1 if reports else 0
        tally["reports"] += reports
        tally["met"] += 1 if status["activity"] == "met" else 0
    districts = [{"name": d, "units": t["units"], "active": t["active"],
                  "participation": round(100 * t["active"] / max(1, t["units"]), 1), "reports": t["reports"],
                  "met": {"activity": round(100 * t["met"] / max(1, t["units"]), 1),
                          "nomination": round(60 + rng.random() * 40, 1)}} for d, t in tallies.items()]
    missed = [{"id": r["id"], "name": r["name"], "district": r["district"],
               "obligations": [o["label"] for o in OBLIGATIONS if r["status"][o["key"]] == "missing"]} for r in rows]
    missed = [m for m in missed if m["obligations"]]
    return {
        "period": "2017-03", "year": 2017, "month": 3, "office": {"id": 1, "name": OFFICE},
        "obligations": OBLIGATIONS, "districts": districts, "units": rows, "missed": missed,
        "met_all": [r["name"] for r in rows if all(v == "met" for v in r["status"].values())],
        "exemplary": [{"id": i, "title": f"“我们的节日·清明”文明祭扫志愿服务活动{i}", "unit": rows[i]["name"],
                       "campaign": "qingming"} for i in range(min(10, units))],
        "top_ten": [],
        "totals": {"units": units, "reports": sum(r["reports"] for r in rows),
                   "hours": f"{sum(float(r['hours']) for r in rows):g}", "missed": len(missed)},
        "covered": [],
    }


def answers_for(facts):
    kind = kind_of("monthly")
    return {"title": kind.title(facts), "addressee": ADDRESSEE, "opening": kind.opening(facts),
            "assessment": "总体看，各地各单位志愿服务工作扎实推进，月度报送总体及时。\n个别单位重视不够，报送滞后。",
            "requirements": kind.requirements, "closing": CLOSING}


OPTIONS = {"doc_number": DOC_NUMBER, "issued_on": ISSUED, "public_url": "https://wm.example/notices/12"}

def warm_up(app):
    """A small circular first, so the fonts are loaded before any clock runs."""
    facts = synthetic_facts(10)
    with app.test_request_context():
        rendering.render_pdf("monthly", facts, answers_for(facts), OFFICE, io.BytesIO(), **OPTIONS)


def test_monthly_circular_pdf(app, backend, report):
    if backend != "sqlite":
        pytest.skip("rendering does not depend on the database; measured once, on SQLite")
    total = scale(400, 1_000)
    rounds = scale(1, 3)
    facts = synthetic_facts(total)
    answers = answers_for(facts)
    warm_up(app)
    ours, parts, bare = [], [], []
    with app.test_request_context():
        html = rendering.render_html("monthly", facts, answers, OFFICE, **OPTIONS)
        for _ in range(rounds):
            # Ours: the sandboxed template and the app's renderer, in one piece.
            started = time.perf_counter()
            out = io.BytesIO()
            pages = rendering.render_pdf("monthly", facts, answers, OFFICE, out, **OPTIONS)
            ours.append(time.perf_counter() - started)
            whole = out.getvalue()
            # The same in parts on two processes, merged and numbered — as a worker renders it.
            started = time.perf_counter()
            out = io.BytesIO()
            merged_pages = rendering.render_pdf("monthly", facts, answers, OFFICE, out, processes=2, **OPTIONS)
            parts.append(time.perf_counter() - started)
            merged = out.getvalue()
            # Bare: WeasyPrint alone on the same HTML, with the same fetcher.
            started = time.perf_counter()
            HTML(string=html, base_url=pdf.STATIC_BASE, url_fetcher=pdf.url_fetcher_for(app)).write_pdf(io.BytesIO())
            bare.append(time.perf_counter() - started)
    ours_s, parts_s, bare_s = min(ours), min(parts), min(bare)
    ratio = ours_s / bare_s
    report("monthly circular PDF (target: under 5 s, ratio to bare WeasyPrint ≤ 1.15)",
           ["way", "units", "pages", "seconds", "pages/s", "note"],
           [("ours, one process", total, pages, f"{ours_s:.2f}", f"{pages / ours_s:.1f}",
             f"{'meets' if ours_s < 5 else 'misses'} 5 s"),
            ("ours, two processes (parts merged)", total, merged_pages, f"{parts_s:.2f}",
             f"{merged_pages / parts_s:.1f}",
             f"{'meets' if parts_s < 5 else 'misses'} 5 s; speed-up {ours_s / parts_s:.2f}×"),
            ("bare WeasyPrint, same HTML", total, pages, f"{bare_s:.2f}", f"{pages / bare_s:.1f}",
             f"ratio ours/bare {ratio:.2f} ({'meets' if ratio <= 1.15 else 'misses'} 1.15)")])
    assert whole.startswith(b"%PDF") and merged.startswith(b"%PDF")
    assert pages > total // 50
    assert len(PdfReader(io.BytesIO(merged)).pages) == merged_pages >= pages
