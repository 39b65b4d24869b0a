"""Certificates of volunteer service (志愿服务记录证明) and their public check at ``/verify/CODE``.

A certifier at a unit the volunteer serves with asks for one over a period
(``POST /volunteers/NUMBER/certificates``): the request fixes everything the
document says — the records counted (ids and versions), the hours, the
issuing unit and its people, the number and the date — on a ``Certificate``
row, and the ``volunteer_certificate`` job renders the PDF from that row
alone, so rendering again gives the same bytes (their SHA-256 is kept on the
row). The PDF carries a random verification code and a QR code of the check
page's address; that page, open to anyone and rate-limited per address,
shows the masked name, hours, period, issuer and date, and whether the
certificate still stands: a later amendment or revocation of a counted
record supersedes it.
"""
import hashlib
import re
import secrets
import threading
import time
from collections import deque
from datetime import date
from decimal import Decimal

import segno
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import pdf
from ..access import has_role_at
from ..extensions import db
from ..jobs import QueueUnavailable, enqueue, job_kind
from ..models import Role, ServiceRecord, Unit, Volunteer, VolunteerMembership
from ..models.volunteers import Certificate
from .certification import _plain

bp = Blueprint("certificates", __name__)

JOB_KIND = "volunteer_certificate"
CODE = re.compile(r"[A-Za-z0-9_-]{16,64}")
ID_TYPE = "居民身份证"
RATE_KEY = "wenming_verify_hits"
CODE_PLACEHOLDER = "CODE"


# --- what a certificate says ------------------------------------------------------------------------

def masked_name(name):
    """张三 → 张*: the family name stays, the rest is starred."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def masked_id(volunteer):
    """The ID number with only its last four digits readable."""
    return "*" * 14 + volunteer.id_masked[-4:]


def records_in_period(volunteer_id, period_from, period_to):
    """The volunteer's current, active service records held within the period, in date order."""
    return db.session.execute(select(ServiceRecord).where(
        ServiceRecord.volunteer_id == volunteer_id, ServiceRecord.is_current.is_(True),
        ServiceRecord.status == "active", ServiceRecord.held_on >= period_from, ServiceRecord.held_on <= period_to)
        .order_by(ServiceRecord.held_on, ServiceRecord.id)).scalars().all()


def counted_records(certificate):
    """The record versions the certificate counted, as they were then, in date order."""
    ids = [entry[0] for entry in certificate.records]
    rows = db.session.execute(select(ServiceRecord).where(ServiceRecord.id.in_(ids))).scalars().all()
    return sorted(rows, key=lambda r: (r.held_on, r.id))


def still_valid(certificate):
    """False once a counted record has been amended (other hours) or revoked since the certificate."""
    counted = {r.record_key: r for r in counted_records(certificate)}
    if len(counted) != len(certificate.records):
        return False
    current = db.session.execute(select(ServiceRecord).where(
        ServiceRecord.record_key.in_(list(counted)), ServiceRecord.is_current.is_(True))).scalars().all()
    for row in current:
        then = counted[row.record_key]
        if row.version != then.version and (row.status != "active" or Decimal(row.hours) != Decimal(then.hours)):
            return False
    return len(current) == len(counted)


def number_base(unit, year):
    """(prefix, how many this unit numbered this year): unit code + year + a sequence, DA-1-2017-00001.

    The unit's row is locked first, so two requests at once number one after the other.
    """
    db.session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    prefix = f"{unit.code}-{year}-"
    used = db.session.execute(select(func.count()).select_from(Certificate).where(
        Certificate.unit_id == unit.id, Certificate.number.startswith(prefix, autoescape=True))).scalar()
    return prefix, used


def new_certificate(volunteer_id, unit, actor, records, number, period_from, period_to, issued_on, person_in_charge,
                    officer, contact, remarks, batch_id=None):
    """The certificate row (added, not committed) counting ``records``, the volunteer's active records."""
    certificate = Certificate(
        number=number, code=secrets.token_urlsafe(18), volunteer_id=volunteer_id, unit_id=unit.id,
        period_from=period_from, period_to=period_to, issued_on=issued_on,
        hours=sum((Decimal(r.hours) for r in records), Decimal("0")),
        records=[[r.id, r.record_key, r.version] for r in records], person_in_charge=person_in_charge,
        officer=officer, contact=contact, remarks=remarks or None, requested_by_id=actor.id, batch_id=batch_id)
    db.session.add(certificate)
    return certificate


def issue(volunteer, unit, actor, period_from, period_to, person_in_charge, officer, contact, remarks,
          issued_on=None):
    """Add the certificate row (not committed); None when the period holds no certified service."""
    records = records_in_period(volunteer.id, period_from, period_to)
    if not records:
        return None
    issued_on = issued_on or date.today()
    prefix, used = number_base(unit, issued_on.year)
    certificate = new_certificate(volunteer.id, unit, actor, records, f"{prefix}{used + 1:05d}", period_from,
                                  period_to, issued_on, person_in_charge, officer, contact, remarks)
    db.session.flush()
    return certificate


def qr_data_uri(url):
    """The QR code of ``url`` as a PNG data: URI (the PDF renderer fetches nothing)."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=4, border=4)


def verify_url_of(base, certificate):
    """The public check's address: ``base`` is that address for the code ``CODE``."""
    return base.replace(CODE_PLACEHOLDER, certificate.code)


def certificate_html(certificate, verify_url, lang):
    volunteer = db.session.get(Volunteer, certificate.volunteer_id)
    unit = db.session.get(Unit, certificate.unit_id)
    records = counted_records(certificate)
    organisers = {u.id: u.name for u in db.session.execute(select(Unit).where(
        Unit.id.in_({r.organising_unit_id for r in records}))).scalars()}
    rows = [{"held_on": r.held_on, "activity": r.activity_name, "organiser": organisers.get(r.organising_unit_id, ""),
             "hours": _plain(r.hours)} for r in records]
    with force_locale(lang):
        return render_template(
            "pdf/certificate.html", certificate=certificate, volunteer=volunteer, unit=unit, rows=rows,
            hours=_plain(certificate.hours), id_type=ID_TYPE, id_number=masked_id(volunteer),
            verify_url=verify_url, qr=qr_data_uri(verify_url), fonts=pdf.font_context(current_app), lang=lang)


@job_kind(JOB_KIND)
def build_certificate(ctx, certificate_id, verify_url, lang):
    certificate = db.session.get(Certificate, certificate_id)
    html = certificate_html(certificate, verify_url, lang)
    ctx.progress(30)
    target = ctx.result_file(f"{certificate.number}.pdf", "application/pdf")
    pdf.render_pdf(html, target)
    certificate.sha256 = hashlib.sha256(target.read_bytes()).hexdigest()


# --- asking for one ---------------------------------------------------------------------------------

class CertificateForm(FlaskForm):
    period_from = DateField(_l("Period from"), validators=[DataRequired()])
    period_to = DateField(_l("Period to"), validators=[DataRequired()])
    unit_id = IntegerField(_l("Issuing unit"), validators=[Optional()])
    person_in_charge = StringField(_l("Person in charge of the issuing unit"), validators=[DataRequired(), Length(max=50)])
    officer = StringField(_l("Handling officer"), validators=[DataRequired(), Length(max=50)])
    contact = StringField(_l("Officer's contact"), validators=[DataRequired(), Length(max=64)])
    remarks = TextAreaField(_l("Remarks on the certificate"), validators=[Optional(), Length(max=500)])


def _refuse(code, message):
    return render_template("error.html", code=code, title=_("Certificate not issued"), message=message), code


def issuing_units(volunteer, user):
    """The units the volunteer serves with where ``user`` may certify (a certifier there or above)."""
    units = db.session.execute(select(Unit).join(VolunteerMembership, VolunteerMembership.unit_id == Unit.id)
                               .where(VolunteerMembership.volunteer_id == volunteer.id)
                               .order_by(VolunteerMembership.id)).scalars().all()
    return [u for u in units if has_role_at(user, Role.CERTIFIER.value, u)]


@bp.post("/volunteers/<number>/certificates")
@login_required
def request_certificate(number):
    volunteer = db.session.execute(select(Volunteer).where(Volunteer.number == number)).scalar_one_or_none()
    if volunteer is None:
        abort(404)
    units = issuing_units(volunteer, current_user)
    if not units:
        abort(403)
    form = CertificateForm()
    if not form.validate():
        problems = "; ".join(f"{form[name].label.text}: {' '.join(map(str, errors))}"
                             for name, errors in form.errors.items())
        return _refuse(422, problems)
    if form.period_from.data > form.period_to.data:
        return _refuse(422, _("The period must not end before it begins."))
    unit = units[0]
    if form.unit_id.data is not None:
        unit = next((u for u in units if u.id == form.unit_id.data), None)
        if unit is None:
            abort(403)
    certificate = issue(volunteer, unit, current_user, form.period_from.data, form.period_to.data,
                        form.person_in_charge.data.strip(), form.officer.data.strip(), form.contact.data.strip(),
                        (form.remarks.data or "").strip())
    if certificate is None:
        db.session.rollback()
        return _refuse(422, _("There is no certified service in this period."))
    verify_url = url_for("certificates.verify", code=certificate.code, _external=True)
    try:
        run = enqueue(JOB_KIND, {"certificate_id": certificate.id, "verify_url": verify_url,
                                 "lang": str(get_locale())}, requested_by=current_user, unit=unit)
    except QueueUnavailable:
        db.session.rollback()
        return _refuse(503, _("The job queue cannot be reached right now; nothing was started. "
                              "Please try again later."))
    certificate.job_run_id = run.id
    db.session.commit()
    return redirect(url_for("home.job", run_id=run.id))


# --- the public check -------------------------------------------------------------------------------

_rate_lock = threading.Lock()


def _too_many(address):
    """A sliding one-minute window per client address, kept in this process's memory."""
    limit = current_app.config.get("VERIFY_MAX_PER_MINUTE", 30)
    hits = current_app.extensions.setdefault(RATE_KEY, {})
    now = time.monotonic()
    with _rate_lock:
        seen = hits.setdefault(address, deque())
        while seen and now - seen[0] > 60:
            seen.popleft()
        if len(seen) >= limit:
            return True
        seen.append(now)
        if len(hits) > 10_000:  # forget idle addresses rather than grow without end
            for key in [k for k, v in hits.items() if not v or now - v[-1] > 60]:
                del hits[key]
        return False


@bp.get("/verify/<code>")
def verify(code):
    if _too_many(request.remote_addr or "-"):
        return render_template("error.html", code=429, title=_("Too many requests"),
                               message=_("Too many checks from your address; please wait a minute and try again.")
                               ), 429
    if not CODE.fullmatch(code):
        abort(404)
    certificate = db.session.execute(select(Certificate).where(Certificate.code == code)).scalar_one_or_none()
    if certificate is None or certificate.sha256 is None:
        abort(404)
    volunteer = db.session.get(Volunteer, certificate.volunteer_id)
    unit = db.session.get(Unit, certificate.unit_id)
    return render_template("volunteers/verify.html", certificate=certificate, name=masked_name(volunteer.name),
                           hours=_plain(certificate.hours), issuer=unit.name, valid=still_valid(certificate))


def init_app(app):
    app.register_blueprint(bp)
