"""文号: 阜文明办〔2026〕12号 — the issuing office's prefix, the year, the next number of that office's year.

The number is taken inside the signing transaction from a counter row per office and year
(``INSERT … ON CONFLICT DO NOTHING`` then ``UPDATE … RETURNING``): the update's row lock makes a
second signing at the same moment wait for the first to commit or roll back, so numbers are unique
and without gaps — a signing that fails gives its number back with its transaction. Never
``MAX()+1``, which two transactions read alike.
"""
from sqlalchemy import select, update

from ...extensions import db
from ...models import CircularOffice, CircularSequence
from ...volunteers.registry import insert_ignore


def prefix_of(office):
    return db.session.execute(select(CircularOffice.prefix).where(CircularOffice.unit_id == office.id)).scalar()


def set_prefix(office, prefix):
    row = db.session.get(CircularOffice, office.id)
    if row is None:
        db.session.add(CircularOffice(unit_id=office.id, prefix=prefix))
    else:
        row.prefix = prefix


def take_number(office, year):
    """The next sequence number of ``office`` in ``year`` (1, 2, …), inside the current transaction."""
    insert_ignore(CircularSequence, {"unit_id": office.id, "year": year, "last_value": 0}, ["unit_id", "year"])
    return db.session.execute(
        update(CircularSequence).where(CircularSequence.unit_id == office.id, CircularSequence.year == year)
        .values(last_value=CircularSequence.last_value + 1)
        .returning(CircularSequence.last_value)).scalar_one()


def doc_number(prefix, year, sequence):
    # GB/T 9704: the year in 〔〕 and the number without leading zeros.
    return f"{prefix}〔{year}〕{sequence}号"
