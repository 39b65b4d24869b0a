"""Archiving: the ``freeze`` effect keeps the record as it was decided."""
import hashlib
import json

from sqlalchemy import select

from ..engine.effects import effect
from ..extensions import db
from ..models import Snapshot, StoredFile


@effect("freeze")
def freeze(context):
    """An immutable snapshot: the answers, each file's checksum, the form and workflow versions."""
    submission = context.submission
    files = [{"id": f.token, "name": f.original_name, "sha256": f.sha256, "size": f.size}
             for f in db.session.execute(select(StoredFile).where(StoredFile.submission_id == submission.id)
                                         .order_by(StoredFile.id)).scalars()]
    record = {"answers": submission.answers, "files": files, "form": [submission.form_key, submission.form_version,
                                                                       submission.form_sha256],
              "workflow": [context.workflow.key, context.workflow.version]}
    digest = hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    db.session.add(Snapshot(submission_id=submission.id, answers=submission.answers, files=files,
                            form_key=submission.form_key, form_version=submission.form_version,
                            form_sha256=submission.form_sha256, workflow_key=context.workflow.key,
                            workflow_version=context.workflow.version, sha256=digest))
