"""The records-handover package (归档移交): one ZIP of the archived reports a selection holds, built by a job.

Per report, under ``<unit code>/<report id>/``: ``summary.pdf``, ``answers.json``
(the frozen answers) and the files the frozen answers refer to, byte for
byte as stored; at the root, ``manifest.json`` lists every entry with its
size and SHA-256, the filters and the count. The request fixes the
selection — the viewer's reach, the filters and the newest snapshot then —
so the job, a retry or a second request with the same filters writes the
same bytes: entries in one order (unit code, report id, name; the manifest
last), every entry dated by the newest archiving it holds. Nothing in it
carries a clear ID number: answers go through the same masking as a reader
outside the submitting unit sees, and a file whose stored bytes no longer
match the checksum frozen with the report is left out and named in the
manifest instead.
"""
import hashlib
import io
import json
import re
import zipfile
from pathlib import PurePosixPath

from weasyprint.text.fonts import FontConfiguration
from sqlalchemy import func, select

from ... import pdf
from ...extensions import db
from ...filling import personal_data, uploads
from ...jobs import NOTHING_TO_BUILD, JobError, enqueue, job_kind
from ...models import FormVersion, Snapshot, StoredFile, Submission, Unit
from .selection import Filters, FORM_KEY, campaign_labels, conditions, count, district_units, newest_snapshot_id, \
    state_labels
from .summary import FILE_TYPES, summary_html

JOB_KIND = "archive_package"
FORMAT = "wenming-archive-package/1"
CHUNK = 100
# About the city's archive of a year (8,600 reports at the notice's scale, ~30 minutes on two cores).
MAX_REPORTS = 10_000
# Progress is committed at most this many times, whatever the number of reports.
PROGRESS_STEPS = 50
# JPEG and PNG are compressed already: deflating them again costs time and saves nothing.
STORED_AS_IS = ("image/jpeg", "image/png")


class TooMany(Exception):
    """The selection holds more reports than one package may: (selected, the limit)."""


def request_package(user, paths, filters, lang):
    """Add the package's job to the current transaction; None when the selection holds no report.

    Raises TooMany above MAX_REPORTS: a package that large would outlast its job's timeout.
    """
    upto = newest_snapshot_id()
    districts = district_units(paths)
    selected = count(paths, filters, districts, upto)
    if not selected:
        return None
    if selected > MAX_REPORTS:
        raise TooMany(selected, MAX_REPORTS)
    unit = next((d for d in districts if d.id == filters.district), None)
    if unit is None and len(paths) == 1:
        unit = db.session.get(Unit, _unit_id(paths[0]))
    return enqueue(JOB_KIND, {"paths": list(paths), "filters": filters.as_params(), "upto": upto, "lang": lang},
                   requested_by=user, unit=unit)


def _unit_id(path):
    return int(path.strip("/").split("/")[-1])


def _folder(code):
    # Unit codes are letters, digits, "-", "_" and "."; "." and ".." alone would climb out of the folder.
    code = re.sub(r"[^A-Za-z0-9._-]", "_", code)
    return f"_{code}" if code.strip(".") == "" else code


def _entry(archive, name, data, stamp, stored=False):
    info = zipfile.ZipInfo(name, date_time=stamp)
    # ZipInfo takes these from the platform it runs on; the bytes must not depend on it.
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
    return {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _json(value):
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


@job_kind(JOB_KIND, timeout=7200)
def build_package(ctx, paths, filters, upto, lang):
    filters = Filters(**filters)
    districts = district_units(paths)
    where = conditions(paths, filters, districts, upto)
    # Sorted here, not by the database: a collation must not decide the order of the entries.
    rows = sorted(db.session.execute(select(Submission.id, Unit.code).join(Unit, Unit.id == Submission.unit_id)
                                     .where(*where)).all(), key=lambda r: (r.code, r.id))
    if not rows:
        raise JobError(NOTHING_TO_BUILD, f"archive package: nothing selected by {filters.as_params()}")
    newest = db.session.execute(select(func.max(Snapshot.created_at)).join(
        Submission, Submission.id == Snapshot.submission_id).join(Unit, Unit.id == Submission.unit_id)
        .where(Snapshot.id <= upto, *where)).scalar()
    stamp = (max(newest.year, 1980), newest.month, newest.day, newest.hour, newest.minute, newest.second)
    target = ctx.result_file(_result_name(paths, filters, districts), "application/zip")
    book = _Book(lang, upto)
    manifest_files, reports, missing = [], [], []
    every = max(1, len(rows) // PROGRESS_STEPS)
    done = 0
    with zipfile.ZipFile(target, "w") as archive:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            for report in book.reports([r.id for r in chunk]):
                folder = f"{_folder(report['unit_code'])}/{report['id']}/"
                entries, files, problems = book.files_of(report, folder)
                answers = book.answers_of(report, files)
                summary = io.BytesIO()
                pdf.render_pdf(summary_html(book.facts(report), report["spec"], answers, files, lang), summary,
                               font_config=book.fonts)
                entries += [("answers.json", _json(book.record(report, answers)), "application/json"),
                            ("summary.pdf", summary.getvalue(), "application/pdf")]
                manifest_files += [_entry(archive, folder + path, data, stamp, stored=mimetype in STORED_AS_IS)
                                   for path, data, mimetype in sorted(entries, key=lambda e: e[0])]
                missing += problems
                reports.append(book.listing(report, folder))
                done += 1
                if done % every == 0:
                    ctx.progress(99 * done / len(rows))
        district = next((d for d in districts if d.id == filters.district), None)
        manifest = {"format": FORMAT, "form": FORM_KEY, "filters": filters.as_params(),
                    "district": {"code": district.code, "name": district.name} if district else None,
                    "scope": book.scope_codes(paths), "count": len(reports),
                    "archived_up_to": newest.isoformat(timespec="seconds"), "reports": reports,
                    "files": manifest_files, "missing": missing}
        _entry(archive, "manifest.json", _json(manifest), stamp)


def _result_name(paths, filters, districts):
    district = next((d for d in districts if d.id == filters.district), None)
    if district is not None:
        code = district.code
    elif len(paths) == 1:
        code = db.session.get(Unit, _unit_id(paths[0])).code
    else:
        code = "archive"
    return f"{_folder(code)}-archive{'-' + str(filters.year) if filters.year else ''}.zip"


class _Book:
    """What the job reads, a chunk of reports at a time, as plain values (the progress commits expire objects)."""

    def __init__(self, lang, upto):
        self.lang = lang
        self.upto = upto
        self.fonts = FontConfiguration()  # one font lookup for the whole package
        self.specs = {}
        self.campaigns = campaign_labels(lang)
        self.states = state_labels(lang)

    def spec_of(self, key, version):
        if (key, version) not in self.specs:
            self.specs[(key, version)] = db.session.execute(select(FormVersion).where(
                FormVersion.key == key, FormVersion.version == version)).scalar_one().spec
        return self.specs[(key, version)]

    def reports(self, ids):
        frozen = {}
        # The newest snapshot of each report up to the request: a later freeze is not part of this package.
        for row in db.session.execute(select(
                Snapshot.submission_id, Snapshot.answers, Snapshot.files, Snapshot.form_key, Snapshot.form_version,
                Snapshot.form_sha256, Snapshot.workflow_key, Snapshot.workflow_version, Snapshot.sha256,
                Snapshot.created_at).where(Snapshot.submission_id.in_(ids), Snapshot.id <= self.upto)
                .order_by(Snapshot.id)):
            frozen[row.submission_id] = row
        facts = {row.id: row for row in db.session.execute(select(
            Submission.id, Submission.state, Submission.period, Submission.campaign, Submission.title,
            Unit.code.label("unit_code"), Unit.name.label("unit_name")).join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.id.in_(ids)))}
        specs = {i: self.spec_of(frozen[i].form_key, frozen[i].form_version) for i in ids}
        tokens = [ref.get("id") for i in ids for f in specs[i].fields if f.type in FILE_TYPES
                  for ref in frozen[i].answers.get(f.name) or [] if isinstance(ref, dict)]
        stored = {row.token: row for row in db.session.execute(select(
            StoredFile.token, StoredFile.submission_id, StoredFile.storage_name, StoredFile.mimetype,
            StoredFile.sha256).where(StoredFile.token.in_(tokens)))} if tokens else {}
        for i in ids:
            yield {"id": i, "row": facts[i], "snapshot": frozen[i], "spec": specs[i], "stored": stored,
                   "unit_code": facts[i].unit_code}

    def files_of(self, report, folder):
        """(entries [(path, bytes, mimetype)], file descriptions for the answers, problems for the manifest)."""
        snapshot = report["snapshot"]
        frozen_sums = {f.get("id"): f.get("sha256") for f in snapshot.files or [] if isinstance(f, dict)}
        entries, files, problems = [], [], []
        for spec_field in report["spec"].fields:
            if spec_field.type not in FILE_TYPES:
                continue
            for index, ref in enumerate(snapshot.answers.get(spec_field.name) or [], start=1):
                if not isinstance(ref, dict):
                    continue
                token = ref.get("id")
                stored = report["stored"].get(token)
                # A token another report holds is not this report's file, whatever the answers say.
                if stored is not None and stored.submission_id != report["id"]:
                    stored = None
                suffix = PurePosixPath(stored.storage_name if stored else str(ref.get("name") or "")).suffix
                path = f"{spec_field.name}/{index:02d}{re.sub(r'[^A-Za-z0-9.]', '', suffix)[:9]}"
                expected = frozen_sums.get(token) or ref.get("sha256") or (stored.sha256 if stored else None)
                problem, data = None, None
                if stored is None:
                    problem = "missing"
                else:
                    try:
                        data = uploads.path_of(stored).read_bytes()
                    except OSError:
                        problem = "missing"
                    else:
                        if hashlib.sha256(data).hexdigest() != expected:
                            problem, data = "changed", None
                if data is not None:
                    entries.append((path, data, stored.mimetype))
                else:
                    problems.append({"path": folder + path, "reason": problem, "sha256": expected})
                files.append({"field": spec_field.name, "path": path, "name": ref.get("name"),
                              "type": ref.get("type") or (stored.mimetype if stored else None),
                              "size": len(data) if data is not None else ref.get("size"), "sha256": expected,
                              "missing": problem})
        return entries, files, problems

    def answers_of(self, report, files):
        """The frozen answers as a reader outside the unit sees them; file references point into the package."""
        spec = report["spec"]
        answers = personal_data.masked(spec, report["snapshot"].answers or {}, submitting_unit=False)
        for spec_field in spec.fields:
            if spec_field.type in FILE_TYPES and spec_field.name in answers:
                answers[spec_field.name] = [{k: v for k, v in f.items() if k != "field"} for f in files
                                            if f["field"] == spec_field.name]
        return answers

    def _held_on(self, report, answers):
        summary = report["spec"].schema.summary
        return answers.get(summary.date) if summary and summary.date else None

    def _title(self, report, answers):
        summary = report["spec"].schema.summary
        title = answers.get(summary.title) if summary and summary.title else None
        return title or report["row"].title or f"#{report['id']}"

    def _campaign(self, report, answers):
        summary = report["spec"].schema.summary
        name = summary.campaign if summary else None
        value = answers.get(name) if name else None
        if value is None:
            return None
        pinned = (answers.get("_labels") or {}).get(name)
        if pinned:
            return pinned.get("en" if self.lang.startswith("en") else "zh") or pinned.get("zh")
        return self.campaigns.get(value, value)

    def facts(self, report):
        answers = report["snapshot"].answers or {}
        snapshot = report["snapshot"]
        return {"id": report["id"], "title": self._title(report, answers), "unit_name": report["row"].unit_name,
                "unit_code": report["row"].unit_code, "held_on": self._held_on(report, answers),
                "campaign": self._campaign(report, answers), "state": self.states.get(report["row"].state),
                "archived_at": snapshot.created_at.strftime("%Y-%m-%d %H:%M"), "sha256": snapshot.sha256,
                "form_version": snapshot.form_version}

    def record(self, report, answers):
        snapshot = report["snapshot"]
        row = report["row"]
        return {"submission": report["id"], "unit": {"code": row.unit_code, "name": row.unit_name},
                "state": row.state, "archived_at": snapshot.created_at.isoformat(timespec="seconds"),
                "form": {"key": snapshot.form_key, "version": snapshot.form_version, "sha256": snapshot.form_sha256},
                "workflow": {"key": snapshot.workflow_key, "version": snapshot.workflow_version},
                "frozen_sha256": snapshot.sha256, "answers": answers}

    def listing(self, report, folder):
        answers = report["snapshot"].answers or {}
        row = report["row"]
        return {"id": report["id"], "folder": folder, "unit": row.unit_code, "title": self._title(report, answers),
                "held_on": self._held_on(report, answers), "campaign": row.campaign, "state": row.state,
                "archived_at": report["snapshot"].created_at.isoformat(timespec="seconds"),
                "frozen_sha256": report["snapshot"].sha256}

    def scope_codes(self, paths):
        ids = [_unit_id(p) for p in paths]
        return sorted(db.session.execute(select(Unit.code).where(Unit.id.in_(ids))).scalars())
