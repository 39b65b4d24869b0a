"""The volunteer registry: one row per person, whatever unit or year, keyed by the ID number's keyed hash.

A person is created by ``INSERT … ON CONFLICT (id_hash) DO NOTHING`` and
then locked, so two transactions registering the same number meet on the
unique index and the second one finds the first's row: never two people
for one number. A new person's number (志愿者编号) comes from the city's
counter row, incremented in the same transaction (UPDATE … RETURNING), so
a rolled-back registration gives its number back and the sequence has no
gaps. Locks are always taken in one order — people by hash, then the
counter — so concurrent certifications cannot deadlock.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update

from forms import idcard

from ..engine.effects import effect
from ..engine.perform import Invalid
from ..extensions import db
from ..filling.personal_data import protect_number, reveal_number
from ..models import Unit, Volunteer, VolunteerMembership, VolunteerNumberSequence
from ..models.units import utcnow

GUARDIAN_AGE = 14  # PIPL: under-14s need a guardian's consent


@dataclass
class Person:
    """What a registration or a roster row says about one person; ``number`` is the plain ID number."""
    number: str
    name: str
    phone: str | None = None
    skills: list = field(default_factory=list)
    guardian_name: str | None = None
    guardian_phone: str | None = None
    guardian_consent: bool = False
    id_hash: str = ""
    envelope: dict = field(default_factory=dict)

    def __post_init__(self):
        self.number = idcard.normalise(self.number)
        self.envelope = protect_number(self.number)
        self.id_hash = self.envelope["hash"]


def sex_of(number):
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "male" if int(number[16]) % 2 else "female"


def birth_month_of(number):
    return f"{number[6:10]}-{number[10:12]}"


def age_on(number, day):
    born = idcard.birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def city_of(unit):
    """The root of the unit's tree: the city whose counter numbers its volunteers."""
    return db.session.get(Unit, int(unit.path.strip("/").split("/")[0]))


def valid_number(envelope):
    """The plain ID number in a stored envelope, or None when it cannot be read or no longer validates."""
    number = reveal_number(envelope) if isinstance(envelope, dict) else None
    if not number or idcard.problem(number) is not None:
        return None
    return idcard.normalise(number)


def insert_ignore(model, values, index_elements, returning=None):
    """``INSERT … ON CONFLICT DO NOTHING`` on either database; a concurrent duplicate waits, then does nothing."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=index_elements)
    if returning is not None:
        stmt = stmt.returning(returning)
    return db.session.execute(stmt)


def take_numbers(city, count):
    """``count`` consecutive volunteer numbers of ``city``, from its counter row, inside this transaction."""
    if count <= 0:
        return []
    insert_ignore(VolunteerNumberSequence, {"city_id": city.id, "prefix": city.code, "last_value": 0},
                  ["city_id"])
    last, prefix = db.session.execute(
        update(VolunteerNumberSequence).where(VolunteerNumberSequence.city_id == city.id)
        .values(last_value=VolunteerNumberSequence.last_value + count)
        .returning(VolunteerNumberSequence.last_value, VolunteerNumberSequence.prefix)).one()
    return [f"{prefix}{value:08d}" for value in range(last - count + 1, last + 1)]


def ensure_people(people, unit, submission=None):
    """The volunteers for ``people`` (created when new), locked for this transaction.

    Returns ``{id_hash: (volunteer, created)}``. New people join ``unit`` and get
    the next numbers of its city.
    """
    city = city_of(unit)
    now = utcnow()
    created = set()
    by_hash = {}
    for person in sorted(people, key=lambda p: p.id_hash):
        if person.id_hash in by_hash:
            continue
        by_hash[person.id_hash] = person
        inserted = insert_ignore(Volunteer, {
            "id_hash": person.id_hash, "id_enc": person.envelope["enc"], "id_masked": person.envelope["masked"],
            "name": person.name, "sex": sex_of(person.number), "birth_month": birth_month_of(person.number),
            "phone": person.phone, "skills": list(person.skills or []), "city_id": city.id,
            "guardian_name": person.guardian_name, "guardian_phone": person.guardian_phone,
            "guardian_consent": bool(person.guardian_consent),
            "guardian_consent_at": now if person.guardian_consent else None,
            "status": "active", "registered_by_submission_id": submission.id if submission else None,
            "created_at": now, "updated_at": now,
        }, ["id_hash"], returning=Volunteer.id).first()
        if inserted is not None:
            created.add(person.id_hash)
    volunteers = db.session.execute(
        select(Volunteer).where(Volunteer.id_hash.in_(list(by_hash))).order_by(Volunteer.id_hash)
        .with_for_update().execution_options(populate_existing=True)).scalars().all()
    found = {v.id_hash: v for v in volunteers}
    fresh = [found[h] for h in sorted(created)]
    for volunteer, number in zip(fresh, take_numbers(city, len(fresh))):
        volunteer.number = number
    for volunteer in fresh:
        join(volunteer, unit, now)
    db.session.flush()
    return {h: (found[h], h in created) for h in by_hash}


def join(volunteer, unit, now=None):
    """Make ``unit`` one of the volunteer's units (nothing when it already is)."""
    insert_ignore(VolunteerMembership, {"volunteer_id": volunteer.id, "unit_id": unit.id, "since": now or utcnow()},
                  ["volunteer_id", "unit_id"])


@effect("register_volunteer")
def register_volunteer(context):
    """Approving a registration creates the person, or updates the one already registered under that number."""
    submission = context.submission
    answers = submission.answers or {}
    number = valid_number(answers.get("id_number"))
    if number is None:
        raise Invalid(_("The ID number of this registration does not validate; return it to be corrected."),
                      field="id_number")
    minor = age_on(number, date.today()) < GUARDIAN_AGE
    consent = bool(answers.get("guardian_consent"))
    if minor and not consent:
        raise Invalid(_("A volunteer under 14 can only be registered with the guardian's consent."),
                      field="guardian_consent")
    person = Person(number=number, name=(answers.get("name") or "").strip(), phone=answers.get("phone"),
                    skills=answers.get("skills") or [],
                    guardian_name=answers.get("guardian_name") if minor else None,
                    guardian_phone=answers.get("guardian_phone") if minor else None,
                    guardian_consent=minor and consent)
    volunteer, created = ensure_people([person], submission.unit, submission)[person.id_hash]
    if created:
        return
    # The same person again: this registration brings their data up to date and adds the unit.
    volunteer.name = person.name or volunteer.name
    volunteer.phone = person.phone or volunteer.phone
    volunteer.skills = sorted(set(volunteer.skills or []) | set(person.skills))
    if minor:
        volunteer.guardian_name, volunteer.guardian_phone = person.guardian_name, person.guardian_phone
        volunteer.guardian_consent, volunteer.guardian_consent_at = True, utcnow()
    volunteer.status = "active"
    volunteer.updated_at = utcnow()
    join(volunteer, submission.unit)
