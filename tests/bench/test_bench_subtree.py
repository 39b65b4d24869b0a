"""Subtree query time on a 10,000-unit tree (1,000 at small scale), per backend."""
import random
import time

from sqlalchemy import insert, select

from tests.bench.conftest import median_ms, p95_ms, scale
from workflows.extensions import db
from workflows.models import Unit


def build_tree(total, fanout=(12, 10)):
    """City → districts → units → teams, inserted in bulk; returns all (id, path)."""
    rows, next_id = [], 1

    def add(parent, kind, depth):
        nonlocal next_id
        uid = next_id
        next_id += 1
        path = f"{parent['path'] if parent else '/'}{uid}/"
        row = {"id": uid, "parent_id": parent["id"] if parent else None, "kind": kind,
               "code": f"B{uid:06d}", "name": f"基准单位{uid}", "path": path, "depth": depth, "active": True}
        rows.append(row)
        return row

    city = add(None, "office", 0)
    districts = [add(city, "office", 1) for _ in range(fanout[0])]
    units = []
    while len(rows) < total:
        for district in districts:
            if len(rows) >= total:
                break
            unit = add(district, "civilized_unit", 2)
            units.append(unit)
            for _ in range(fanout[1]):
                if len(rows) >= total:
                    break
                add(unit, "team", 3)
    db.session.execute(insert(Unit), rows)
    db.session.commit()
    return city, districts, units


def test_subtree_query(app, backend, report):
    total = scale(1_000, 10_000)
    runs = scale(30, 300)
    with app.app_context():
        city, districts, units = build_tree(total)
        if backend == "postgresql":
            db.session.execute(db.text("ANALYZE unit"))
        rng = random.Random(7)
        rows = []
        for label, pool in (("city (whole tree)", [city]), ("district", districts), ("unit + teams", units)):
            samples, sizes = [], []
            for _ in range(runs):
                path = rng.choice(pool)["path"]
                started = time.perf_counter()
                ids = db.session.execute(select(Unit.id).where(Unit.in_subtree(path))).scalars().all()
                samples.append(time.perf_counter() - started)
                sizes.append(len(ids))
            assert all(sizes)
            rows.append((backend, total, label, round(sum(sizes) / len(sizes)), f"{median_ms(samples):.3f}",
                         f"{p95_ms(samples):.3f}"))
        plan = _plan(backend, districts[0]["path"])
    report(f"subtree query, {backend}", ["backend", "units", "subtree", "rows", "median ms", "p95 ms"], rows)
    report(f"query plan, {backend}", ["plan"], [(plan,)])
    assert "ix_unit_path" in plan  # the subtree is an index range scan, not a table walk


def _plan(backend, path):
    low, high = Unit.subtree_range(path)
    prefix = "EXPLAIN QUERY PLAN" if backend == "sqlite" else "EXPLAIN"
    rows = db.session.execute(db.text(f"{prefix} SELECT id FROM unit WHERE path >= :low AND path < :high"),
                              {"low": low, "high": high}).all()
    return " | ".join(str(r[-1]) for r in rows)
