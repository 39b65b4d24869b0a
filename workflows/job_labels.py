"""What each job kind makes, in words for the person waiting on its page.

A job's kind is an identifier; the page says what is being made instead.
tests/test_job_page.py checks that every kind the packages register has a label.
"""
from flask_babel import lazy_gettext as _l

JOB_LABELS = {
    "archive_package": _l("The handover package of archived reports"),
    "circular_pdf": _l("The circular's PDF"),
    "circular_preview": _l("A preview of the circular"),
    "obligation_reminders": _l("Reminders of the monthly reports due"),
    "overdue_reminders": _l("Reminders of overdue reviews"),
    "purge_unattached_uploads": _l("Clearing away unused uploads"),
    "recompute_scores": _l("The units' scores, recalculated"),
    "unit_directory": _l("The unit directory"),
    "volunteer_certificate": _l("A volunteer service certificate"),
    "volunteer_certificates_zip": _l("A unit's volunteer service certificates (ZIP)"),
}


def job_label(kind):
    return str(JOB_LABELS.get(kind, _l("A file being prepared")))
