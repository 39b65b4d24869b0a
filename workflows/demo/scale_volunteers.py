"""The notice's volunteers, generated fast: 300,000 registered people and a year's 1,000,000 service records.

``seed_volunteers`` tops the seeded city up to ``volunteers`` registered
people and ``records`` current service records held in the year of the
reports, and writes them as the app itself would.

People. Each has a valid, unique ID number issued in one of the city's
regions, protected by ``personal_data.protect_number`` exactly as a form
stores it (so lookups by the keyed hash find them); sex and birth month come
from the number through the registry's own ``sex_of`` and ``birth_month_of``;
the volunteer number comes from the city's counter row through
``registry.take_numbers``, in the transaction that inserts the people, so the
sequence stays gap-free and the app's next registration continues it. Each
serves with one or two reporting units — units that report more have more
volunteers — the second one mostly in the same district. The seed writes no
registration forms: the people count as registered in the four years before
the year of the reports (``created_at`` in number order,
``registered_by_submission_id`` empty).

Records. They are attached to the activity reports already seeded rather
than to reports of their own: every certified, archived or published report
of the year that has no record yet gets a new roster drawn from the
registered people — most from the organising unit's own volunteers, the rest
from its district, then from the whole city — and one record per roster row,
with that row's hours, certified by the actor and at the time of the
report's ``certify`` event. The stored answers are rewritten to that roster
(with the volunteer count, the total hours and the sentence that gives the
count), and so is the archive snapshot with its digest, so that what a
certifier, the export or a certificate reads agrees with the ledger. This
keeps one generator of reports for both ``volunteers=True`` and ``False``,
and lets a city seeded without volunteers be topped up later. Roster sizes
are skewed — many small activities, a few big ones, at most the form's
``max_rows`` — and add up exactly to the target. Reports still in flight
keep the small rosters of unregistered people they were generated with:
certifying one later registers those people, as the app does.

The certification effect's rules hold by construction: nobody twice in one
activity (a roster is drawn without repetition) and nobody over 24 hours on
one day (reports are taken in date order, with each person's hours of that
day, an earlier run's records included). The counters — all-time on the
volunteer, per year in ``volunteer_year_total`` — are then rebuilt from the
records in SQL, to what the ledger's ``count`` makes of them one record at a
time; they are rebuilt as well whenever they are found out of step with the
records (an interrupted run). Every chunk commits on its own, people with
their numbers and memberships, reports with their records, so a run stopped
half-way leaves consistent data that the next run tops up.
"""
import random
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import JSON, Integer, and_, bindparam, case, cast, delete, exists, extract, func, insert, select, update

from ..extensions import db
from ..filling.personal_data import protect_number
from ..models import AuditEvent, ServiceRecord, Snapshot, Submission, Unit, Volunteer, VolunteerMembership, \
    VolunteerYearTotal
from ..volunteers.ledger import DAY_LIMIT
from ..volunteers.registry import birth_month_of, city_of, sex_of, take_numbers
from .bulk import bulk_insert, sync_sequences
from .people import REGION_CODES, id_number, person_name, phone_number

VOLUNTEERS = 300_000
RECORDS = 1_000_000

CERTIFIED = ("certified", "archived", "published")  # states whose roster has been certified
ARCHIVED = ("archived", "published")  # … and frozen in a snapshot by ``archive``
REGISTER_CHUNK = 5_000
RECORD_CHUNK = 20_000
FETCH_CHUNK = 5_000  # ids in one IN list: well within SQLite's limit on bound parameters

SECOND_UNIT = 0.3  # share of people serving with a second unit
AWAY = 0.15  # share of those second units outside the person's district
OTHER_REGION = 0.1  # share of people whose ID number was issued in another district than the one they serve in
FROM_UNIT = 0.6  # share of a roster drawn from the organising unit's own volunteers
ROSTER_SPREAD = 0.8  # sigma of the lognormal roster sizes
PHONE_ON_ROSTER = 0.8
WITH_SKILLS = 0.3
SKILLS = ("medical", "teaching", "legal", "arts", "it", "driving", "languages")  # volunteer_registration's choices
AGES = (16, 75, 30)  # low, high, mode: nobody needs a guardian's consent
REGISTERED_YEARS = 4

DAY_HALF_HOURS = int(DAY_LIMIT * 2)
HALF_HOURS = [Decimal(n) / 2 for n in range(DAY_HALF_HOURS + 1)]
COUNT_SENTENCE = re.compile(r"组织\d+名志愿者")


def seed_volunteers(generator, volunteers, records):
    """Top up to ``volunteers`` people and ``records`` current records held in ``generator.year``; returns counts.

    ``generator`` is the reports' ``scale._Generator``: its year, random
    source, form, districts, reporting units and snapshot digest.
    """
    seeder = _Seeder(generator)
    registered = seeder.register(volunteers - _count(Volunteer))
    written = seeder.certify(records - seeder.records_of_year())
    if written or seeder.out_of_step():
        seeder.recount()
    return {"volunteers": _count(Volunteer), "volunteers_added": registered,
            "records": seeder.records_of_year(), "records_added": written}


def plan_sizes(rng, reports, records, most):
    """Roster sizes of ``reports`` activities adding up to ``records`` (or as near as ``most`` a roster allows)."""
    records = min(records, reports * most)
    if records <= 0:
        return [0] * reports
    if records < reports:
        sizes = [1] * records + [0] * (reports - records)
        rng.shuffle(sizes)
        return sizes
    weights = [rng.lognormvariate(0, ROSTER_SPREAD) for _ in range(reports)]
    factor = records / sum(weights)
    sizes = [min(most, max(1, round(w * factor))) for w in weights]
    # Rounding and the bounds leave a small difference: spread it one row at a time.
    missing = records - sum(sizes)
    while missing:
        index, step = rng.randrange(reports), (1 if missing > 0 else -1)
        if 1 <= sizes[index] + step <= most:
            sizes[index] += step
            missing -= step
    return sizes


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def _next_id(model):
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


class _UnitPicker:
    """A reporting unit drawn by weight, in the whole city or in one district."""

    def __init__(self, rng, units):
        self.rng = rng
        self.all = self._cumulative(units)
        by_district = {}
        for unit in units:
            by_district.setdefault(unit[1], []).append(unit)
        self.by_district = {code: self._cumulative(members) for code, members in by_district.items()}

    @staticmethod
    def _cumulative(units):
        total, ids, cumulative = 0.0, [], []
        for unit_id, _district, weight in units:
            total += weight
            ids.append(unit_id)
            cumulative.append(total)
        return ids, cumulative

    def pick(self, district=None):
        ids, cumulative = self.by_district[district] if district else self.all
        return self.rng.choices(ids, cum_weights=cumulative)[0]


class _Seeder:
    def __init__(self, generator):
        self.generator = generator
        self.year = generator.year
        self.rng = random.Random(generator.rng.random())
        self.district_of = self._districts_of_units()
        self.city = city_of(next(iter(generator.districts.values())).office)
        roster = next(f for f in generator.spec.fields if f.name == "roster")
        self.most = roster.model.max_rows
        self.first_day, self.last_day = date(self.year, 1, 1), date(self.year, 12, 31)
        self.earlier = False  # whether records of the year were there before this run
        self.next_record = None

    def _districts_of_units(self):
        """{unit id: district code} for every unit below a district office."""
        out = {}
        for unit_id, path in db.session.execute(select(Unit.id, Unit.path)):
            parts = path.strip("/").split("/")
            district = self.generator.districts.get(int(parts[1])) if len(parts) > 1 else None
            if district is not None:
                out[unit_id] = district.code
        return out

    # --- people ---

    def register(self, count):
        """``count`` more people, in chunks that each take their numbers and commit with them."""
        if count <= 0:
            return 0
        picker = _UnitPicker(self.rng, self._unit_weights())
        before = _count(Volunteer)
        taken = set(db.session.execute(select(Volunteer.id_hash)).scalars()) if before else set()
        seen = set()
        next_person, next_membership = _next_id(Volunteer), _next_id(VolunteerMembership)
        start = datetime(self.year - REGISTERED_YEARS, 1, 1)
        span = datetime(self.year, 1, 1) - start
        done = 0
        while done < count:
            people, memberships = [], []
            for number in take_numbers(self.city, min(REGISTER_CHUNK, count - done)):
                registered = start + span * ((before + done + len(people)) / (before + count))
                units = self._units_of_person(picker)
                people.append(self._person(next_person, number, units[0], registered, seen, taken))
                for unit_id in units:
                    memberships.append({"id": next_membership, "volunteer_id": next_person, "unit_id": unit_id,
                                        "since": registered})
                    next_membership += 1
                next_person += 1
            bulk_insert(Volunteer.__table__, people)
            bulk_insert(VolunteerMembership.__table__, memberships)
            sync_sequences(Volunteer.__table__, VolunteerMembership.__table__)
            db.session.commit()
            done += len(people)
        return done

    def _unit_weights(self):
        """(unit id, district, weight) of each reporting unit: units that report more have more volunteers."""
        reports = dict(db.session.execute(
            select(Submission.unit_id, func.count()).where(Submission.form_key == self.generator.form.key)
            .group_by(Submission.unit_id)).all())
        return [(unit[0], unit[1].code, 1 + reports.get(unit[0], 0)) for unit in self.generator.reporting_units()]

    def _units_of_person(self, picker):
        first = picker.pick()
        if self.rng.random() >= SECOND_UNIT:
            return [first]
        home = self.district_of[first]
        second = picker.pick(None if self.rng.random() < AWAY else home)
        return [first] if second == first else [first, second]

    def _person(self, person_id, number, unit_id, registered, seen, taken):
        rng = self.rng
        district = self.district_of[unit_id]
        region = REGION_CODES[district] if rng.random() >= OTHER_REGION else rng.choice(list(REGION_CODES.values()))
        plain, envelope = self._new_id_number(region, seen, taken)
        skills = sorted(rng.sample(SKILLS, rng.randint(1, 2))) if rng.random() < WITH_SKILLS else []
        return {"id": person_id, "id_hash": envelope["hash"], "id_enc": envelope["enc"],
                "id_masked": envelope["masked"], "name": person_name(rng), "sex": sex_of(plain),
                "birth_month": birth_month_of(plain), "phone": phone_number(rng), "skills": skills,
                "number": number, "city_id": self.city.id, "guardian_name": None, "guardian_phone": None,
                "guardian_consent": False, "guardian_consent_at": None, "status": "active",
                "hours_total": Decimal("0"), "person_times": 0, "registered_by_submission_id": None,
                "created_at": registered, "updated_at": registered}

    def _new_id_number(self, region, seen, taken):
        """A valid number nobody has yet, and its protected form; ``taken`` holds the hashes already registered."""
        rng = self.rng
        while True:
            born = date(self.year, 1, 1) - timedelta(days=int(rng.triangular(*AGES) * 365.25))
            plain = id_number(region, born, rng.randrange(1000))
            if plain in seen:
                continue
            seen.add(plain)
            envelope = protect_number(plain)
            if envelope["hash"] not in taken:
                return plain, envelope

    # --- records ---

    def records_of_year(self):
        return _count(ServiceRecord, ServiceRecord.is_current.is_(True), ServiceRecord.held_on >= self.first_day,
                      ServiceRecord.held_on <= self.last_day)

    def certify(self, count):
        """Records for up to ``count`` roster rows, on the certified reports of the year that have none."""
        if count <= 0:
            return 0
        reports = self._reports()
        if not reports:
            return 0
        self.earlier = self.records_of_year() > 0
        self.next_record = _next_id(ServiceRecord)
        pools = self._pools()
        written, pending, pending_rows, short = 0, [], 0, 0
        day, that_day = None, {}
        for report, size in zip(reports, plan_sizes(self.rng, len(reports), count, self.most)):
            if not size:
                continue
            if report.held_on != day:
                day, that_day = report.held_on, self._hours_on(report.held_on)
            wanted = min(self.most, size + short)
            picked = self._roster(report, wanted, that_day, pools)
            short = size + short - len(picked)  # a roster that came out short hands its rows on
            if not picked:
                continue
            pending.append((report, picked))
            pending_rows += len(picked)
            if pending_rows >= RECORD_CHUNK:
                written += self._write(pending)
                pending, pending_rows = [], 0
        return written + self._write(pending)

    def _reports(self):
        """The certified reports of the year without any record, with their certify event, in date order."""
        form_key = self.generator.form.key
        waiting = (Submission.form_key == form_key, Submission.state.in_(CERTIFIED),
                   Submission.period.like(f"{self.year}-%"),
                   ~exists().where(ServiceRecord.submission_id == Submission.id))
        certified = {sid: (actor, at) for sid, actor, at in db.session.execute(
            select(AuditEvent.submission_id, AuditEvent.actor_id, AuditEvent.at)
            .where(AuditEvent.action == "certify", AuditEvent.submission_id.in_(select(Submission.id).where(*waiting)))
            .order_by(AuditEvent.submission_id, AuditEvent.seq))}
        out = []
        for row in db.session.execute(select(
                Submission.id, Submission.unit_id, Submission.state, Submission.answers, Submission.title,
                Submission.form_version_id, Submission.form_version).where(*waiting)):
            try:
                held_on = date.fromisoformat(str((row.answers or {}).get("held_on")))
            except ValueError:
                continue
            if held_on.year != self.year or row.id not in certified:
                continue
            certifier, certified_at = certified[row.id]
            out.append(SimpleNamespace(**row._asdict(), held_on=held_on, certifier=certifier,
                                       certified_at=certified_at))
        out.sort(key=lambda r: (r.held_on, r.id))
        return out

    def _pools(self):
        """The active people to draw rosters from: by unit served, by district, and the whole city."""
        by_unit, by_district = {}, {}
        for person, unit_id in db.session.execute(
                select(VolunteerMembership.volunteer_id, VolunteerMembership.unit_id)
                .join(Volunteer, Volunteer.id == VolunteerMembership.volunteer_id)
                .where(Volunteer.status == "active").order_by(VolunteerMembership.id)):
            by_unit.setdefault(unit_id, []).append(person)
            district = self.district_of.get(unit_id)
            if district:
                by_district.setdefault(district, set()).add(person)
        everyone = db.session.execute(select(Volunteer.id).where(Volunteer.status == "active")
                                      .order_by(Volunteer.id)).scalars().all()
        return SimpleNamespace(unit=by_unit, district={k: sorted(v) for k, v in by_district.items()}, city=everyone)

    def _hours_on(self, day):
        """{person: half-hours already certified on ``day``}; only an earlier run can have left any."""
        if not self.earlier:
            return {}
        return {person: int(Decimal(hours) * 2) for person, hours in db.session.execute(
            select(ServiceRecord.volunteer_id, func.sum(ServiceRecord.hours))
            .where(ServiceRecord.held_on == day, ServiceRecord.is_current.is_(True),
                   ServiceRecord.status == "active").group_by(ServiceRecord.volunteer_id))}

    def _roster(self, report, size, that_day, pools):
        """Up to ``size`` (person, half-hours): the unit's own people first, then its district's, then the city's."""
        rng = self.rng
        picked, seen = [], set()

        def offer(person):
            if person in seen:
                return
            seen.add(person)
            half_hours = min(16, max(1, round(rng.triangular(1, 16, 5))))
            if that_day.get(person, 0) + half_hours > DAY_HALF_HOURS:
                return  # the certifier would refuse more than 24 hours in one day
            that_day[person] = that_day.get(person, 0) + half_hours
            picked.append((person, half_hours))

        own = pools.unit.get(report.unit_id, [])
        for person in rng.sample(own, min(len(own), round(size * FROM_UNIT))):
            offer(person)
        for pool in (pools.district.get(self.district_of.get(report.unit_id), []), pools.city):
            tries = 0
            while len(picked) < size and pool and tries < 3 * size + 50:
                offer(pool[rng.randrange(len(pool))])
                tries += 1
        return picked

    def _write(self, pending):
        """The records of ``pending`` reports, their rewritten answers and snapshots, in one transaction."""
        if not pending:
            return 0
        people = self._people({person for _report, picked in pending for person, _h in picked})
        records, answers, snapshots = [], [], []
        for report, picked in pending:
            new = self._answers(report, picked, people)
            for index, (person, half_hours) in enumerate(picked):
                records.append(self._record(report, new, index, person, HALF_HOURS[half_hours]))
            answers.append({"sid": report.id, "new_answers": new})
            if report.state in ARCHIVED:
                snapshots.append({"sid": report.id, "new_answers": new,
                                  "digest": self.generator.snapshot_digest(new)})
        bulk_insert(ServiceRecord.__table__, records)
        submission, snapshot = Submission.__table__, Snapshot.__table__
        db.session.execute(update(submission).where(submission.c.id == bindparam("sid"))
                           .values(answers=bindparam("new_answers", type_=JSON)), answers)
        if snapshots:
            db.session.execute(update(snapshot).where(snapshot.c.submission_id == bindparam("sid"))
                               .values(answers=bindparam("new_answers", type_=JSON), sha256=bindparam("digest")),
                               snapshots)
        sync_sequences(ServiceRecord.__table__)
        db.session.commit()
        return len(records)

    def _people(self, ids):
        """{id: (name, phone, masked, hash, enc)} of the chosen people, fetched a few thousand at a time."""
        ids, out = sorted(ids), {}
        for start in range(0, len(ids), FETCH_CHUNK):
            for row in db.session.execute(select(
                    Volunteer.id, Volunteer.name, Volunteer.phone, Volunteer.id_masked, Volunteer.id_hash,
                    Volunteer.id_enc).where(Volunteer.id.in_(ids[start:start + FETCH_CHUNK]))):
                out[row[0]] = row[1:]
        return out

    def _answers(self, report, picked, people):
        """The report's answers with the roster of the people picked (the stored form of their ID numbers)."""
        roster = []
        for person, half_hours in picked:
            name, phone, masked, digest, enc = people[person]
            row = {"name": name, "id_number": {"masked": masked, "hash": digest, "enc": enc}}
            if phone and self.rng.random() < PHONE_ON_ROSTER:
                row["phone"] = phone
            row["hours"] = half_hours / 2
            roster.append(row)
        answers = dict(report.answers)
        answers.update(roster=roster, volunteer_count=len(roster),
                       total_hours=sum(h for _p, h in picked) / 2,
                       content=COUNT_SENTENCE.sub(f"组织{len(roster)}名志愿者", answers.get("content") or "", count=1))
        return answers

    def _record(self, report, answers, index, person, hours):
        """What ``certify_service_hours`` writes for one confirmed roster row."""
        record_id = self.next_record
        self.next_record += 1
        return {"id": record_id, "record_key": uuid.uuid4().hex, "version": 1, "is_current": True,
                "volunteer_id": person, "submission_id": report.id, "form_version_id": report.form_version_id,
                "form_version": report.form_version, "roster_row": index,
                "activity_name": (answers.get("title") or report.title or "")[:200], "held_on": report.held_on,
                "place": answers.get("place"), "beneficiaries": answers.get("beneficiaries"),
                "content": answers.get("content"), "person_in_charge": answers.get("person_in_charge"),
                "recorder": answers.get("recorder"), "reported_hours": hours, "hours": hours,
                "organising_unit_id": report.unit_id, "certifier_id": report.certifier,
                "certified_at": report.certified_at, "status": "active", "change": "certify", "reason": None,
                "correction_open": False, "requested_hours": None, "requested_by_unit_id": None,
                "changed_by_id": report.certifier, "changed_at": report.certified_at}

    # --- counters ---

    def out_of_step(self):
        """Whether the counters' sums differ from the records' (a run stopped between records and counters)."""
        record = ServiceRecord.__table__
        active = and_(record.c.is_current, record.c.status == "active")
        hours, times = db.session.execute(select(
            func.coalesce(func.sum(case((active, record.c.hours), else_=0)), 0),
            func.coalesce(func.sum(case((active, 1), else_=0)), 0))).one()
        people = db.session.execute(select(func.coalesce(func.sum(Volunteer.hours_total), 0),
                                           func.coalesce(func.sum(Volunteer.person_times), 0))).one()
        years = db.session.execute(select(func.coalesce(func.sum(VolunteerYearTotal.hours), 0),
                                          func.coalesce(func.sum(VolunteerYearTotal.person_times), 0))).one()
        expected = (Decimal(str(hours)), int(times))
        return any((Decimal(str(h)), int(t)) != expected for h, t in (people, years))

    def recount(self):
        """Every counter from the records: what ``ledger.count`` makes of them, one record at a time.

        The ledger adds a year's row the first time a record of that year is
        counted and keeps it, so every (person, year) with a record has a row.
        """
        record = ServiceRecord.__table__
        active = and_(record.c.is_current, record.c.status == "active")
        hours = func.coalesce(func.sum(case((active, record.c.hours), else_=0)), 0)
        times = func.coalesce(func.sum(case((active, 1), else_=0)), 0)
        per_person = (select(record.c.volunteer_id, hours.label("hours"), times.label("times"))
                      .group_by(record.c.volunteer_id).subquery())
        person = Volunteer.__table__
        db.session.execute(update(person).where(person.c.id == per_person.c.volunteer_id)
                           .values(hours_total=per_person.c.hours, person_times=per_person.c.times))
        year = cast(extract("year", record.c.held_on), Integer)
        db.session.execute(delete(VolunteerYearTotal.__table__))
        db.session.execute(insert(VolunteerYearTotal.__table__).from_select(
            ["volunteer_id", "year", "hours", "person_times"],
            select(record.c.volunteer_id, year, hours, times).group_by(record.c.volunteer_id, year)))
        db.session.commit()
