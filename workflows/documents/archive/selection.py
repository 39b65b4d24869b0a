"""Which archived activity reports a viewer and a set of filters select: one query for the page and the package.

A report is in the archive once the ``archive`` transition has frozen it:
it is an ``activity_report`` in ``archived`` or ``published`` with a
snapshot. The viewer's reach is the subtrees where they hold the office or
administrator role; every filter narrows inside it, and a district or unit
outside it selects nothing rather than raising. The list reads the summary
columns the row keeps (title, campaign, period, state, unit), never the
answers.
"""
from dataclasses import asdict, dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...access import grant_paths
from ...engine.definition import load_workflow
from ...extensions import db
from ...filling.form_versions import newest_released
from ...models import Role, Snapshot, Submission, Unit, UnitKind, WorkflowVersion

FORM_KEY = "activity_report"
STATES = ("archived", "published")
ARCHIVE_ROLES = (Role.OFFICE, Role.ADMIN)
PAGE = 50
YEARS = (2000, 2100)
MAX_TEXT = 100


def archive_paths(user):
    """The subtrees whose archive ``user`` may read: where they hold the office or administrator role."""
    return grant_paths(user, *ARCHIVE_ROLES)


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    campaign: str | None = None
    district: int | None = None
    unit: str | None = None        # text matched against the unit's name or code
    state: str | None = None
    q: str | None = None           # text matched against the title

    @classmethod
    def from_values(cls, values):
        """Filters from a query string or a posted form; returns (filters, {name: message}) for bad values."""
        errors = {}

        def text(name):
            value = (values.get(name) or "").strip()
            if len(value) > MAX_TEXT:
                errors[name] = _("At most %(n)d characters.", n=MAX_TEXT)
                return None
            return value or None

        year = text("year")
        if year is not None:
            if year.isdigit() and YEARS[0] <= int(year) <= YEARS[1]:
                year = int(year)
            else:
                errors["year"] = _("Give the year as four digits, e.g. 2017.")
                year = None
        district = text("district")
        if district is not None:
            if district.isdigit() and int(district) < 2 ** 62:
                district = int(district)
            else:
                errors["district"] = _("Choose a district from the list.")
                district = None
        state = text("state")
        if state is not None and state not in STATES:
            errors["state"] = _("Choose archived or published.")
            state = None
        return cls(year=year, campaign=text("campaign"), district=district, unit=text("unit"), state=state,
                   q=text("q")), errors

    def as_params(self):
        """The filters as plain values, for a job's row and the package's manifest."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def as_args(self):
        return {k: str(v) for k, v in self.as_params().items()}


def district_units(paths):
    """The offices below the top of the tree within ``paths``, in tree order: what the district filter offers."""
    if not paths:
        return []
    return db.session.execute(select(Unit).where(
        Unit.in_any_subtree(paths), Unit.kind == UnitKind.OFFICE.value, Unit.depth >= 1, Unit.active.is_(True))
        .order_by(Unit.path)).scalars().all()


def conditions(paths, filters, districts=None, upto=None):
    """The WHERE clauses of the selection (Submission joined with Unit)."""
    where = [Submission.form_key == FORM_KEY, Submission.state.in_(STATES), Unit.in_any_subtree(paths)]
    frozen = select(Snapshot.id).where(Snapshot.submission_id == Submission.id)
    if upto is not None:
        # Reports frozen after the package was asked for are not part of it, whenever the job runs.
        frozen = frozen.where(Snapshot.id <= upto)
    where.append(frozen.correlate_except(Snapshot).exists())
    if filters.year is not None:
        where += [Submission.period >= f"{filters.year:04d}-01", Submission.period <= f"{filters.year:04d}-12"]
    if filters.campaign:
        where.append(Submission.campaign == filters.campaign)
    if filters.state:
        where.append(Submission.state == filters.state)
    if filters.district is not None:
        chosen = next((d for d in (districts if districts is not None else district_units(paths))
                       if d.id == filters.district), None)
        # Another district's id lies outside the viewer's reach: it selects nothing.
        where.append(Unit.in_subtree(chosen.path) if chosen else db.false())
    if filters.unit:
        where.append(db.or_(Unit.name.icontains(filters.unit, autoescape=True),
                            Unit.code.icontains(filters.unit, autoescape=True)))
    if filters.q:
        where.append(Submission.title.icontains(filters.q, autoescape=True))
    return where


ROW_COLUMNS = (Submission.id, Submission.title, Submission.campaign, Submission.period, Submission.state,
               Submission.state_since, Submission.unit_id, Unit.name.label("unit_name"), Unit.code.label("unit_code"))


def page(paths, filters, before=None, districts=None, limit=PAGE):
    """One page of the selection, newest report first, and the id to continue from (keyset: ``id < before``)."""
    stmt = (select(*ROW_COLUMNS).join(Unit, Unit.id == Submission.unit_id)
            .where(*conditions(paths, filters, districts)).order_by(Submission.id.desc()).limit(limit + 1))
    if before is not None:
        stmt = stmt.where(Submission.id < before)
    rows = db.session.execute(stmt).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def count(paths, filters, districts=None, upto=None):
    return db.session.execute(select(func.count()).select_from(Submission).join(Unit, Unit.id == Submission.unit_id)
                              .where(*conditions(paths, filters, districts, upto))).scalar()


def newest_snapshot_id():
    """The newest snapshot's id: a package asked for now contains what is frozen up to it."""
    return db.session.execute(select(func.max(Snapshot.id))).scalar() or 0


def campaign_labels(lang):
    """{campaign value: readable name} from the activity form's theme, the planned campaigns included."""
    form = newest_released(FORM_KEY)
    summary = form.spec.schema.summary if form else None
    field = form.spec.field(summary.campaign) if summary and summary.campaign else None
    return {choice.value: choice.label.get(lang) for choice in (field.choices or [])} if field else {}


def state_labels(lang):
    """{state: label} for the archive's states, as the activity report's workflows name them."""
    labels = {}
    form = newest_released(FORM_KEY)
    if form is None:
        return {state: state for state in STATES}
    for version in db.session.execute(select(WorkflowVersion).where(WorkflowVersion.form_key == FORM_KEY)
                                      .order_by(WorkflowVersion.version.desc())).scalars():
        workflow = load_workflow(version.source, form.spec)
        for state in STATES:
            if state not in labels and workflow.state(state) is not None:
                labels[state] = workflow.state(state).label.get(lang)
    return {state: labels.get(state, state) for state in STATES}
