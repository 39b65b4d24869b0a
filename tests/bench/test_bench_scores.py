"""Recomputing unit scores at the notice's scale: one month and a whole year for every unit, per backend.

Seeds ``seed_scale`` (1,000 units and 12,000 reports a year; a tenth at
small scale), then recomputes under the built-in rules — facts gathered,
every line written, the old table replaced — inside one transaction,
rolled back after each run so every run does the same work. Target: under
2 s for the year. Printed, never asserted; the asserts check that real work
was done (every participating unit has a row for every month).
"""
import statistics
import time

from sqlalchemy import func, select

from tests.bench.conftest import FULL, scale
from workflows.assessment import scores
from workflows.assessment.periods import Month
from workflows.demo.scale import seed_scale
from workflows.extensions import db
from workflows.models import ScoreLine, UnitScore


def test_recomputing_scores_at_scale(app, backend, report):
    size = scale(0.1, 1)
    runs = scale(3, 5)
    with app.app_context():
        started = time.perf_counter()
        seeded = seed_scale(size=size)
        seed_s = time.perf_counter() - started
        if backend == "postgresql":
            db.session.execute(db.text("ANALYZE"))
        version = scores.current_version()
        db.session.commit()
        rows = []
        for label, months in (("one month (2017-03)", [Month(2017, 3)]),
                              ("the year 2017", [Month(2017, m) for m in range(1, 13)])):
            samples, written = [], None
            for _ in range(runs):
                began = time.perf_counter()
                written = scores.recompute(months)
                db.session.flush()
                samples.append(time.perf_counter() - began)
                stored = db.session.execute(select(func.count()).select_from(UnitScore).where(
                    UnitScore.scoring_version_id == version.id)).scalar()
                lines = db.session.execute(select(func.count()).select_from(ScoreLine)).scalar()
                db.session.rollback()
            assert written["scores"] == stored and stored == len(scores.participating_units(
                scores.load_scoring(version.source))) * len(months)
            assert lines > 0
            rows.append((backend, label, written["scores"], lines, f"{statistics.median(samples):.3f}",
                         f"{max(samples):.3f}", "< 2 s (year)" if len(months) == 12 else ""))
    report(f"unit scores, {backend}", ["backend", "recompute", "unit-months", "lines", "median s", "max s",
                                       "target"], rows)
    report(f"seed for the scores benchmark, {backend}", ["backend", "units", "reports", "seconds", "scale"],
           [(backend, seeded["units"], seeded["reports"], f"{seed_s:.1f}", "full" if FULL else f"× {size:g}")])
