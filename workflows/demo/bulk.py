"""Bulk writes for the generated data: Core inserts in chunks, and PostgreSQL's id sequences caught up."""
from sqlalchemy import insert

from ..extensions import db

BATCH = 2_000


def bulk_insert(table, rows, chunk=BATCH):
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(table), rows[start:start + chunk])


def sync_sequences(*tables):
    """Rows inserted with explicit ids leave PostgreSQL's sequences behind: move them past the largest id."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(db.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM \"{table.name}\"))"))
