"""A whole unit's certificates (志愿服务记录证明) as one ZIP, built by one job with progress.

The request fixes every certificate before the job starts: one row per
active volunteer serving with the unit who has certified service in the
period, numbered in one run of the unit's sequence and tied to one
``CertificateBatch``. The job renders them in number order from those rows
alone, each exactly as a single certificate is rendered (its own
verification code and QR code, its SHA-256 kept on its row), and writes the
ZIP with the issue date as every entry's time — so a retried or repeated
job gives the same bytes.
"""
import hashlib
import io
import zipfile
from datetime import date

from flask import abort, render_template, request, redirect, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import exists, select
from weasyprint.text.fonts import FontConfiguration
from wtforms import SelectField
from wtforms.validators import DataRequired

from .. import pdf
from ..access import grant_paths, has_role_at
from ..extensions import db
from ..jobs import QueueUnavailable, enqueue, job_kind
from ..models import Role, ServiceRecord, Unit, Volunteer, VolunteerMembership
from ..models.volunteers import Certificate, CertificateBatch
from ..org.scope import unit_choices
from .certificates import (CODE_PLACEHOLDER, CertificateForm, bp, certificate_html, new_certificate, number_base,
                           verify_url_of)

JOB_KIND = "volunteer_certificates_zip"
# Progress is committed at most this many times, whatever the number of certificates.
PROGRESS_STEPS = 50


def records_by_volunteer(unit, period_from, period_to):
    """{volunteer id: [current active records in the period]} for the active volunteers serving with ``unit``,
    in volunteer-number order, each list in date order; one query."""
    members = (select(VolunteerMembership.volunteer_id).join(Volunteer, Volunteer.id == VolunteerMembership.volunteer_id)
               .where(VolunteerMembership.unit_id == unit.id, Volunteer.status == "active"))
    rows = db.session.execute(
        select(ServiceRecord).join(Volunteer, Volunteer.id == ServiceRecord.volunteer_id)
        .where(ServiceRecord.volunteer_id.in_(members), ServiceRecord.is_current.is_(True),
               ServiceRecord.status == "active", ServiceRecord.held_on >= period_from,
               ServiceRecord.held_on <= period_to)
        .order_by(Volunteer.number, ServiceRecord.volunteer_id, ServiceRecord.held_on, ServiceRecord.id)).scalars()
    grouped = {}
    for record in rows:
        grouped.setdefault(record.volunteer_id, []).append(record)
    return grouped


def issue_batch(unit, actor, period_from, period_to, person_in_charge, officer, contact, remarks, issued_on=None):
    """Add the batch and one certificate per volunteer with service in the period (not committed);
    None when nobody of the unit has certified service then."""
    grouped = records_by_volunteer(unit, period_from, period_to)
    if not grouped:
        return None
    issued_on = issued_on or date.today()
    batch = CertificateBatch(unit_id=unit.id, period_from=period_from, period_to=period_to, issued_on=issued_on,
                             count=len(grouped), requested_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    prefix, used = number_base(unit, issued_on.year)
    for offset, (volunteer_id, records) in enumerate(grouped.items(), start=1):
        new_certificate(volunteer_id, unit, actor, records, f"{prefix}{used + offset:05d}", period_from, period_to,
                        issued_on, person_in_charge, officer, contact, remarks, batch_id=batch.id)
    db.session.flush()
    return batch


def zip_name(batch, unit):
    return f"{unit.code}-certificates-{batch.period_from.isoformat()}-{batch.period_to.isoformat()}.zip"


@job_kind(JOB_KIND, timeout=3600)
def build_batch(ctx, batch_id, verify_base, lang):
    batch = db.session.get(CertificateBatch, batch_id)
    unit = db.session.get(Unit, batch.unit_id)
    certificates = db.session.execute(select(Certificate).where(Certificate.batch_id == batch.id)
                                      .order_by(Certificate.number)).scalars().all()
    target = ctx.result_file(zip_name(batch, unit), "application/zip")
    stamp = (batch.issued_on.year, batch.issued_on.month, batch.issued_on.day, 0, 0, 0)
    # One font lookup for the whole batch: certificates share their faces.
    fonts = FontConfiguration()
    every = max(1, len(certificates) // PROGRESS_STEPS)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, certificate in enumerate(certificates, start=1):
            html = certificate_html(certificate, verify_url_of(verify_base, certificate), lang)
            buffer = io.BytesIO()
            pdf.render_pdf(html, buffer, font_config=fonts)
            data = buffer.getvalue()
            certificate.sha256 = hashlib.sha256(data).hexdigest()
            archive.writestr(zipfile.ZipInfo(f"{certificate.number}.pdf", date_time=stamp), data,
                             compress_type=zipfile.ZIP_DEFLATED)
            if done % every == 0:
                ctx.progress(100 * done / len(certificates))


# --- asking for one -----------------------------------------------------------------------------------------

class BatchForm(CertificateForm):
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[], validate_choice=False, validators=[DataRequired()])


def batch_units(user):
    """Units with volunteers where ``user`` is a certifier (there or above), in tree order."""
    paths = grant_paths(user, Role.CERTIFIER)
    if not paths:
        return []
    has_members = exists().where(VolunteerMembership.unit_id == Unit.id)
    return db.session.execute(select(Unit).where(Unit.in_any_subtree(paths), Unit.active.is_(True), has_members)
                              .order_by(Unit.path)).scalars().all()


@bp.route("/volunteers/certificates/batch", methods=["GET", "POST"])
@login_required
def request_batch():
    if not grant_paths(current_user, Role.CERTIFIER):
        abort(403)
    units = batch_units(current_user)
    form = BatchForm()
    form.unit_id.choices = unit_choices(units) if units else []
    if request.method == "GET" and request.args.get("unit", type=int):
        form.unit_id.data = request.args.get("unit", type=int)
    status = 200
    if form.validate_on_submit():
        unit = next((u for u in units if u.id == form.unit_id.data), None)
        if unit is None or not has_role_at(current_user, Role.CERTIFIER, unit):
            form.unit_id.errors = [_("You can only issue certificates for a unit where you certify.")]
            status = 403
        elif form.period_from.data > form.period_to.data:
            form.period_to.errors = [_("The period must not end before it begins.")]
            status = 422
        else:
            batch = issue_batch(unit, current_user, form.period_from.data, form.period_to.data,
                                form.person_in_charge.data.strip(), form.officer.data.strip(),
                                form.contact.data.strip(), (form.remarks.data or "").strip())
            if batch is None:
                db.session.rollback()
                form.period_from.errors = [_("Nobody of this unit has certified service in this period.")]
                status = 422
            else:
                verify_base = url_for("certificates.verify", code=CODE_PLACEHOLDER, _external=True)
                try:
                    run = enqueue(JOB_KIND, {"batch_id": batch.id, "verify_base": verify_base,
                                             "lang": str(get_locale())}, requested_by=current_user, unit=unit)
                except QueueUnavailable:
                    db.session.rollback()
                    form.unit_id.errors = [_("The job queue cannot be reached right now; nothing was started. "
                                             "Please try again later.")]
                    status = 503
                else:
                    batch.job_run_id = run.id
                    db.session.commit()
                    return redirect(url_for("home.job", run_id=run.id))
    elif request.method == "POST":
        status = 422
    recent = db.session.execute(select(CertificateBatch).where(CertificateBatch.requested_by_id == current_user.id)
                                .order_by(CertificateBatch.id.desc()).limit(10)).scalars().all()
    return render_template("volunteers/certificate_batch.html", form=form, recent=recent), status
