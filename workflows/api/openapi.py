"""The OpenAPI 3.0.3 description of /api/v1 (served at /api/v1/openapi.json).

Kept by hand next to the endpoints in workflows/api/; tests/test_api.py checks every
operation's answers against it, so a change to one shows in the other.
"""
from flask import jsonify

from .blueprint import bp

MAX_ID = 2 ** 31 - 1


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, example=None):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"application/json": content}


def _nullable(schema):
    return {**schema, "nullable": True}


TIME = {"type": "string", "format": "date-time", "example": "2026-03-05T08:30:00Z"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# Text the databases can store: the server refuses NUL characters with 400.
NO_NUL = "^[^\\x00]*$"
# Numbers beyond ±2^63 are refused with 400 (they fit no database column or sum).
NUMBER = {"type": "number", "minimum": -(2 ** 63), "maximum": 2 ** 63, "exclusiveMinimum": True,
          "exclusiveMaximum": True}
KEY = {"type": "string", "minLength": 1, "maxLength": 63, "pattern": "^[a-z][a-z0-9_]*$"}
COMMENT = {"type": "string", "maxLength": 5000, "pattern": NO_NUL}
# The queue's keyset position: microseconds since 1970 (UTC), "_", a submission id (see api.queue._queue_cursor).
CURSOR_PATTERN = "^([0-9]{1,16}_[0-9]{1,10})?$"  # empty: the first page

ERROR_EXAMPLES = {
    "400": {"error": "BadRequest", "message": "“expected_version” must be a whole number from 0 to 2147483647.",
            "field": "expected_version"},
    "401": {"error": "Unauthorized", "message": "This API token has been revoked."},
    "403": {"error": "Forbidden", "message": "Your roles do not allow “Approve” here."},
    "404": {"error": "NotFound", "message": "No such submission."},
    "409": {"error": "Conflict", "message": "Already decided by Yz.Reviewer: “Approve” at 2026-03-05 08:30.",
            "decided_by": "Yz.Reviewer", "action": "approve", "state": "approved", "row_version": 3},
    "422": {"error": "Invalid", "message": "Please correct the marked fields.",
            "errors": {"title": ["This field is required."], "roster[0].id_number": ["The check digit is wrong."]}},
}

ERROR_TEXT = {
    "400": "The request could not be read: not a JSON object, an unknown key, a value of the wrong type, a bad "
           "query parameter or Idempotency-Key.",
    "401": "No credentials, or a token that is malformed, unknown or revoked, or a deactivated account.",
    "403": "Your roles do not allow this here, or a session-authenticated change came without "
           "“X-Requested-With: fetch” / X-CSRFToken.",
    "404": "No such thing, or not yours to see (another unit's submission is not confirmed to exist).",
    "409": "The submission changed since you read it (stale expected_version), or someone else decided first: "
           "the body says who, what, the state now and the row_version now.",
    "422": "The request is well formed but cannot be done: answers with errors (by path), a missing required "
           "comment, an action not possible in this state, an idempotency key used for another request, "
           "certify row decisions that cannot apply (a row twice, no reason, a row the roster lacks).",
}


def _error(code):
    schema = _ref("Conflict") if code == "409" else _ref("Error")
    response = {"description": ERROR_TEXT[code], "content": _json(schema, ERROR_EXAMPLES[code])}
    if code == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                    "description": 'Bearer realm="wenming"'}}
    return response


def _errors(*codes):
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


_SCALARS = [{"type": "string", "pattern": NO_NUL, "nullable": True}, NUMBER, {"type": "boolean"}]
_OBJECT_OF_SCALARS = {"type": "object", "additionalProperties": {"anyOf": _SCALARS}}
_LIST_ITEM = {"anyOf": _SCALARS + [_OBJECT_OF_SCALARS]}

SUBMISSION_EXAMPLE = {
    "id": 42, "form": {"key": "activity_report", "version": 1, "sha256": "9f2c…"},
    "workflow": {"key": "activity_review", "version": 1}, "unit": {"id": 7, "name": "颍州区文明单位一"},
    "state": "draft", "state_label": "草稿", "row_version": 1, "title": "学雷锋进社区",
    "campaign": "leifeng", "period": "2026-03", "created_at": "2026-03-05T08:30:00Z",
    "updated_at": "2026-03-05T08:30:00Z", "submitted_at": None, "state_since": "2026-03-05T08:30:00Z",
    "due_at": None, "editable": True,
    "answers": {"theme": "leifeng", "title": "学雷锋进社区", "held_on": "2026-03-05",
                "roster": [{"name": "张三", "id_number": "3412**********1234", "hours": 2.5}],
                "volunteer_count": 1, "total_hours": 2.5},
    "actions": [{"action": "submit", "label": "提交", "to": "submitted", "comment": None, "vote": False}],
    "history": [],
}

ACTION_RESULT_EXAMPLE = {"submission": 42, "action": "approve", "from": "submitted", "to": "approved",
                         "row_version": 3, "event": 2, "decided": True}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "BadRequest, Unauthorized, Forbidden, NotFound, Conflict, "
                                                       "Invalid, …"},
            "message": {"type": "string", "description": "In the caller's language (Chinese or English)."},
            "field": {"type": "string", "description": "The key, parameter or header at fault."},
            "errors": {"type": "object", "description": "Answer errors by path: title, roster, roster[3].hours.",
                       "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "additionalProperties": True,
    },
    "Conflict": {
        "allOf": [_ref("Error"), {
            "type": "object",
            "properties": {
                "decided_by": {"type": "string", "description": "Who made the last change."},
                "action": {"type": "string"},
                "state": {"type": "string", "description": "The state now."},
                "row_version": {"type": "integer", "description": "The row_version now: read again, then retry."},
            },
        }],
    },
    "Texts": {"type": "object", "required": ["zh", "en"],
              "properties": {"zh": _nullable({"type": "string"}), "en": _nullable({"type": "string"})}},
    "Unit": {"type": "object", "required": ["id", "name"],
             "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "FormRef": {"type": "object", "required": ["key", "version", "sha256"],
                "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                               "sha256": {"type": "string"}}},
    "FormSummary": {
        "type": "object", "required": ["key", "version", "sha256", "title", "units"],
        "properties": {"key": {"type": "string"}, "version": {"type": "integer"}, "sha256": {"type": "string"},
                       "title": _ref("Texts"),
                       "units": {"type": "array", "items": _ref("Unit"),
                                 "description": "Your filler units this form is open to."}},
    },
    "FormList": {"type": "object", "required": ["forms"],
                 "properties": {"forms": {"type": "array", "items": _ref("FormSummary")}}},
    "FormDefinition": {
        "type": "object", "required": ["key", "version", "sha256", "title", "source"],
        "properties": {"key": {"type": "string"}, "version": {"type": "integer"}, "sha256": {"type": "string"},
                       "title": _ref("Texts"),
                       "source": {"type": "string", "description": "The definition's YAML, as published."}},
    },
    "AnswerValue": {
        "description": "Text (no NUL characters), a number, true/false or null; a list of them (multi_choice, "
                       "file references) or of rows (a repeat: objects of such values); a file reference "
                       "object. Anything deeper fits no field (422).",
        "anyOf": _SCALARS + [{"type": "array", "items": _LIST_ITEM}, _OBJECT_OF_SCALARS],
    },
    "Answers": {
        "type": "object",
        "description": "Field name → value, the shape the web form sends: text, numbers, true/false, ISO dates; "
                       "multi_choice a list of values; a repeat a list of objects (one per row); image and file "
                       "fields a list of references to files already uploaded through the web form ({\"id\": "
                       "token} or the token) — the API takes no uploads. Calculated fields are computed by the "
                       "server; ID numbers are returned masked (send a masked number back unchanged to keep it). "
                       "A name the form has no field for is an error at that name (422).",
        "additionalProperties": _ref("AnswerValue"),
    },
    "AllowedAction": {
        "type": "object", "required": ["action", "label", "to", "comment", "vote"],
        "properties": {"action": {"type": "string"}, "label": {"type": "string"}, "to": {"type": "string"},
                       "comment": {"type": "string", "nullable": True, "enum": ["required", "optional", None]},
                       "vote": {"type": "boolean", "description": "An approval block: send decision."}},
    },
    "HistoryEvent": {
        "type": "object", "required": ["seq", "actor", "action", "from", "to", "comment", "at"],
        "properties": {"seq": {"type": "integer"}, "actor": _nullable({"type": "string"}),
                       "action": {"type": "string"}, "from": _nullable({"type": "string"}),
                       "to": {"type": "string"}, "comment": _nullable({"type": "string"}), "at": TIME},
    },
    "Submission": {
        "type": "object",
        "required": ["id", "form", "workflow", "unit", "state", "state_label", "row_version", "answers", "actions",
                     "history", "editable"],
        "properties": {
            "id": {"type": "integer"},
            "form": _ref("FormRef"),
            "workflow": {"type": "object", "nullable": True, "required": ["key", "version"],
                         "properties": {"key": {"type": "string"}, "version": {"type": "integer"}}},
            "unit": _ref("Unit"),
            "state": {"type": "string"},
            "state_label": {"type": "string"},
            "row_version": {"type": "integer", "description": "Send it back as expected_version."},
            "title": _nullable({"type": "string"}),
            "campaign": _nullable({"type": "string"}),
            "period": _nullable({"type": "string", "description": "YYYY-MM"}),
            "created_at": _nullable(TIME),
            "updated_at": _nullable(TIME),
            "submitted_at": _nullable(TIME),
            "state_since": _nullable(TIME),
            "due_at": _nullable(TIME),
            "editable": {"type": "boolean", "description": "Whether you may PATCH its answers now."},
            "answers": _ref("Answers"),
            "actions": {"type": "array", "items": _ref("AllowedAction"),
                        "description": "What you may do now."},
            "history": {"type": "array", "items": _ref("HistoryEvent"), "description": "The audit trail."},
        },
    },
    "SubmissionCreate": {
        "type": "object", "required": ["form"], "additionalProperties": False,
        "properties": {"form": {**KEY, "description": "A published form's key."},
                       "unit": {**ID, "description": "One of your filler units; default: the first."},
                       "answers": _ref("Answers")},
    },
    "SubmissionUpdate": {
        "type": "object", "required": ["answers", "expected_version"], "additionalProperties": False,
        "properties": {"answers": {**_ref("Answers"),
                                   "description": "Fields sent replace the stored ones; fields left out keep "
                                                  "theirs; null clears one."},
                       "expected_version": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
    },
    "SubmitRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"expected_version": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                       "comment": COMMENT},
    },
    "ActionRequest": {
        "type": "object", "additionalProperties": False,
        "properties": {"expected_version": {"type": "integer", "minimum": 0, "maximum": MAX_ID,
                                            "description": "The row_version you read; 409 when it moved on."},
                       "comment": COMMENT,
                       "decision": {"type": "string", "enum": ["approve", "reject"], "default": "approve",
                                    "description": "Only for actions with an approval block (votes)."},
                       "rows": {"type": "array", "maxItems": 2000, "items": _ref("RowDecision"),
                                "description": "Only for certify (else 422): the certifier's decision on roster "
                                               "rows; rows left out are confirmed as reported. A row twice, a "
                                               "missing reason or corrected hours, or a row the roster does "
                                               "not have is 422 and nothing is written."}},
    },
    "RowDecision": {
        "type": "object", "required": ["row", "decision"], "additionalProperties": False,
        "properties": {
            "row": {"type": "integer", "minimum": 0, "maximum": 1999, "description": "The roster row (0-based)."},
            "decision": {"type": "string", "enum": ["confirm", "correct", "exclude"]},
            "hours": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 24,
                      "description": "correct: the certified hours (at most one decimal, else 422)."},
            "reason": {"type": "string", "maxLength": 500, "pattern": NO_NUL,
                       "description": "Required (not blank) to correct or exclude (else 422)."},
        },
    },
    "VolunteerSummary": {
        "type": "object",
        "required": ["number", "name", "id_number", "hours_total", "hours_this_year", "person_times", "stars"],
        "properties": {
            "number": _nullable({"type": "string", "description": "The volunteer number (志愿者编号)."}),
            "name": {"type": "string"},
            "id_number": {"type": "string", "description": "The last four digits only: **************1234."},
            "hours_total": {"type": "number", "description": "Certified hours, all time."},
            "hours_this_year": {"type": "number", "description": "Certified hours in this calendar year."},
            "person_times": {"type": "integer"},
            "stars": {"type": "integer", "description": "Star level from the configured thresholds."},
        },
    },
    "Campaign": {
        "type": "object",
        "required": ["key", "year", "name", "node_on", "window_start", "window_end", "theme", "topics",
                     "unit_kinds", "forms", "lead_unit_ids", "source"],
        "properties": {
            "key": {"type": "string", "description": "Stored in a report's theme answer."},
            "year": {"type": "integer"},
            "name": {"type": "object", "required": ["zh", "en"],
                     "properties": {"zh": {"type": "string"}, "en": _nullable({"type": "string"})}},
            "node_on": {"type": "string", "format": "date"},
            "window_start": {"type": "string", "format": "date"},
            "window_end": {"type": "string", "format": "date"},
            "theme": {"type": "string"},
            "topics": {"type": "array", "items": {"type": "string"}},
            "unit_kinds": {"type": "array", "items": {"type": "string"}},
            "forms": {"type": "array", "items": {"type": "string"}},
            "lead_unit_ids": {"type": "array", "items": {"type": "integer"}},
            "source": {"type": "string", "enum": ["generated", "office"]},
        },
    },
    "CampaignList": {
        "type": "object", "required": ["year", "campaigns"],
        "properties": {"year": {"type": "integer"}, "campaigns": {"type": "array", "items": _ref("Campaign")}},
    },
    "ObligationCell": {
        "type": "object",
        "required": ["unit", "obligation", "status", "count", "on_time", "pending", "needed", "deadline", "open",
                     "sources"],
        "properties": {
            "unit": _ref("Unit"),
            "obligation": {"type": "string", "description": "The obligation's key in the rules, e.g. activity."},
            "status": {"type": "string", "enum": ["met", "late", "pending", "missing"],
                       "description": "met: enough reached a met state by the deadline; late: enough, but after "
                                      "it; pending: not enough yet, some waiting for review; missing: otherwise."},
            "count": {"type": "integer", "description": "Submissions of the month in a met state."},
            "on_time": {"type": "integer", "description": "Of those, the ones that got there by the deadline."},
            "pending": {"type": "integer", "description": "Submissions waiting for review."},
            "needed": {"type": "integer", "minimum": 1},
            "deadline": {"type": "string", "format": "date",
                         "description": "The N-th working day of the next month (ends 23:59:59)."},
            "open": {"type": "boolean", "description": "true while the deadline has not passed."},
            "sources": {"type": "array", "items": {"type": "integer"},
                        "description": "Submission ids: the met ones, then the pending ones."},
        },
    },
    "ObligationMonth": {
        "type": "object", "required": ["period", "rules", "items"],
        "properties": {
            "period": {"type": "string", "description": "YYYY-MM"},
            "rules": {"type": "object", "required": ["key", "version", "sha256"],
                      "properties": {"key": {"type": "string"}, "version": {"type": "integer"},
                                     "sha256": {"type": "string"}}},
            "items": {"type": "array", "items": _ref("ObligationCell")},
        },
    },
    "VolunteerPage": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("VolunteerSummary")},
                       "next_cursor": _nullable({"type": "string", "description": "Pass as cursor for the next "
                                                                                  "page; null on the last."})},
    },
    "ScoreTable": {
        "type": "object", "required": ["year", "month", "rules_version", "warning_below", "items"],
        "properties": {
            "year": {"type": "integer"}, "month": _nullable({"type": "integer"}),
            "rules_version": {"type": "integer"}, "warning_below": {"type": "number"},
            "items": {"type": "array", "items": {
                "type": "object", "required": ["unit", "rank", "points_year", "warned"],
                "properties": {
                    "unit": _ref("Unit"), "rank": {"type": "integer", "minimum": 1},
                    "points_year": {"type": "number"}, "points_month": {"type": "number"},
                    "warned": {"type": "boolean", "description": "Below warning_below for the year (黄牌警告)."},
                    "lines": {"type": "array", "items": {
                        "type": "object", "required": ["rule", "points", "source", "submission", "obligation"],
                        "properties": {"rule": {"type": "string"}, "points": {"type": "number"},
                                       "source": {"type": "string", "enum": ["submission", "records", "obligation"]},
                                       "submission": _nullable({"type": "integer"}),
                                       "obligation": _nullable({"type": "string"})}}},
                }}},
        },
    },
    "ServiceRecordItem": {
        "type": "object",
        "required": ["held_on", "activity", "place", "submission", "organising_unit", "hours", "status"],
        "properties": {
            "held_on": {"type": "string", "format": "date"},
            "activity": _nullable({"type": "string", "description": "null for another unit's activity."}),
            "place": _nullable({"type": "string"}),
            "submission": _nullable({"type": "integer", "description": "The report; null for another unit's."}),
            "organising_unit": _ref("Unit"),
            "hours": {"type": "number"},
            "status": {"type": "string", "description": "active or revoked."},
        },
    },
    "VolunteerDetail": {
        "allOf": [_ref("VolunteerSummary"), {
            "type": "object", "required": ["records"],
            "properties": {"records": {"type": "array", "items": _ref("ServiceRecordItem"),
                                       "description": "The current service records, newest first."}},
        }],
    },
    "BallotMark": {
        "type": "object", "required": ["member"],
        "properties": {"member": {"type": "string", "description": "The member's display name."},
                       "score": {"type": "integer", "description": "score_sum: the score given (1 … max_score)."},
                       "rank": {"type": "integer", "description": "borda: the rank given (1 … picks)."}},
    },
    "BallotResult": {
        "type": "object", "required": ["submission", "title", "unit", "place", "points", "selected", "marks"],
        "properties": {
            "submission": {"type": "integer"}, "title": {"type": "string"}, "unit": _ref("Unit"),
            "place": _nullable({"type": "integer", "description": "null while the ballot is open."}),
            "points": _nullable({"type": "integer", "description": "score_sum: the sum of the scores; borda: "
                                                                   "rank 1 = picks points … rank picks = 1."}),
            "selected": _nullable({"type": "boolean", "description": "Among the top picks with at least one "
                                                                    "point; null while open."}),
            "marks": {"type": "array", "items": _ref("BallotMark"),
                      "description": "Every member's marks once closed; while open only your own."},
        },
    },
    "Ballot": {
        "type": "object",
        "required": ["id", "month", "status", "rule", "picks", "max_score", "deadline", "tie_break",
                     "row_version", "members", "confirmed_at", "results"],
        "properties": {
            "id": {"type": "integer"}, "month": {"type": "string", "example": "2017-03"},
            "status": {"type": "string", "enum": ["draft", "open", "closed", "confirmed"]},
            "rule": {"type": "string", "enum": ["score_sum", "borda"]},
            "picks": {"type": "integer"}, "max_score": {"type": "integer"}, "deadline": TIME,
            "tie_break": {"type": "string", "description": "earlier_submission_then_id: equal points go to the "
                                                          "earlier submission, then the lower submission id."},
            "row_version": {"type": "integer"},
            "members": {"type": "array", "items": {"type": "object", "required": ["name", "voted"],
                                                   "properties": {"name": {"type": "string"},
                                                                  "voted": {"type": "boolean"}}}},
            "confirmed_at": _nullable(TIME),
            "results": {"type": "array", "items": _ref("BallotResult"), "description": "By place once closed."},
        },
    },
    "ActionResult": {
        "type": "object", "required": ["submission", "action", "from", "to", "row_version", "decided"],
        "properties": {
            "submission": {"type": "integer"}, "action": {"type": "string"}, "from": {"type": "string"},
            "to": {"type": "string"}, "row_version": {"type": "integer"},
            "event": {"type": "integer", "description": "The audit event's seq."},
            "decided": {"type": "boolean", "description": "False when a vote was recorded and more are needed."},
            "votes": {"type": "object", "properties": {"approve": {"type": "integer"},
                                                       "reject": {"type": "integer"},
                                                       "needed": {"type": "integer"},
                                                       "missing": {"type": "integer", "description":
                                                                   "Approving votes still needed."},
                                                       "eligible": {"type": "integer"},
                                                       "unreachable": {"type": "integer", "description":
                                                                       "Of the missing votes, how many no "
                                                                       "eligible voter can give: the "
                                                                       "submission waits."}}},
        },
    },
    "QueueItem": {
        "type": "object",
        "required": ["id", "form", "unit", "state", "state_label", "title", "campaign", "period", "state_since",
                     "due_at", "overdue", "row_version"],
        "properties": {
            "id": {"type": "integer"}, "form": _ref("FormRef"), "unit": _ref("Unit"), "state": {"type": "string"},
            "state_label": {"type": "string"}, "title": _nullable({"type": "string"}),
            "campaign": _nullable({"type": "string"}), "period": _nullable({"type": "string"}),
            "state_since": _nullable(TIME), "due_at": _nullable(TIME), "overdue": {"type": "boolean"},
            "row_version": {"type": "integer"},
        },
    },
    "QueueCounts": {
        "type": "object",
        "description": "How many items each filter value would show (for a filter bar).",
        "properties": {
            "all": {"type": "integer"}, "overdue": {"type": "integer"},
            "state": {"type": "object", "additionalProperties": {"type": "integer"}},
            "campaign": {"type": "object", "additionalProperties": {"type": "integer"}},
            "period": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "QueuePage": {
        "type": "object", "required": ["items", "next_cursor", "counts"],
        "properties": {"items": {"type": "array", "items": _ref("QueueItem")},
                       "next_cursor": _nullable({"type": "string", "description": "Pass as cursor for the next "
                                                                                  "page; null on the last."}),
                       "counts": {"allOf": [_ref("QueueCounts")], "nullable": True,
                                  "description": "With the first page (no cursor) only; null on the pages "
                                                 "after it: keep the first page's counts."}},
    },
}

SUBMISSION_ID = {"name": "id", "in": "path", "required": True, "schema": ID, "example": 42}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "description": "Up to 128 visible ASCII characters. The same key again (same person, submission "
                              "and action) changes nothing and returns the first answer, with "
                              "“Idempotent-Replayed: true”.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x21-\\x7e]+$"},
               "example": "5c0f8a4e-2b1d-4c3e-9f00-7a1b2c3d4e5f"}
REPLAYED = {"Idempotent-Replayed": {"description": "true when this is the stored answer to an earlier request "
                                                  "with the same Idempotency-Key.",
                                   "schema": {"type": "string", "enum": ["true"]}}}


def _query(name, schema, description):
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS = {
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [], "tags": ["meta"],
        "responses": {"200": {"description": "OpenAPI 3.0.3", "content": _json({"type": "object"})}},
    }},
    "/api/v1/forms": {"get": {
        "operationId": "listForms", "summary": "Published forms open to your filler units", "tags": ["forms"],
        "responses": {"200": {"description": "The newest published version of each form you can fill.",
                              "content": _json(_ref("FormList"), {"forms": [{
                                  "key": "activity_report", "version": 1, "sha256": "9f2c…",
                                  "title": {"zh": "节点主题志愿服务活动报送", "en": "Themed volunteer activity report"},
                                  "units": [{"id": 7, "name": "颍州区文明单位一"}]}]})},
                      **_errors("401")},
    }},
    "/api/v1/forms/{key}": {"get": {
        "operationId": "getForm", "summary": "The current published definition of a form", "tags": ["forms"],
        "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "activity_report"}],
        "responses": {"200": {"description": "Key, version, SHA-256 and the YAML source.",
                              "content": _json(_ref("FormDefinition"))},
                      **_errors("401", "404")},
    }},
    "/api/v1/submissions": {"post": {
        "operationId": "createSubmission", "summary": "Start a draft",
        "description": "Only types are checked (as when the web form saves a draft); submit checks everything.",
        "tags": ["submissions"],
        "requestBody": {"required": True, "content": _json(_ref("SubmissionCreate"), {
            "form": "activity_report", "unit": 7,
            "answers": {"theme": "leifeng", "title": "学雷锋进社区", "held_on": "2026-03-05",
                        "roster": [{"name": "张三", "id_number": "34120119900307123X", "hours": "2.5"}],
                        "photos": [{"id": "Xy3…token"}]}})},
        "responses": {"201": {"description": "The new draft.", "content": _json(_ref("Submission"),
                                                                            SUBMISSION_EXAMPLE),
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                      **_errors("400", "401", "403", "404", "422")},
    }},
    "/api/v1/submissions/{id}": {
        "get": {
            "operationId": "getSubmission", "summary": "A submission: answers (ID numbers masked), the actions "
                                                      "open to you, its history", "tags": ["submissions"],
            "parameters": [SUBMISSION_ID],
            "responses": {"200": {"description": "The submission.",
                                  "content": _json(_ref("Submission"), SUBMISSION_EXAMPLE)},
                          **_errors("401", "404")},
        },
        "patch": {
            "operationId": "updateSubmission", "summary": "Change a draft's answers", "tags": ["submissions"],
            "description": "Only while you may edit it (a draft or returned submission of yours). Draft rules: "
                           "only types are checked.",
            "parameters": [SUBMISSION_ID],
            "requestBody": {"required": True, "content": _json(_ref("SubmissionUpdate"), {
                "answers": {"title": "学雷锋进社区志愿服务"}, "expected_version": 1})},
            "responses": {"200": {"description": "The submission after the change.",
                                  "content": _json(_ref("Submission"))},
                          **_errors("400", "401", "403", "404", "409", "422")},
        },
    },
    "/api/v1/submissions/{id}/submit": {"post": {
        "operationId": "submitSubmission", "summary": "Check everything, then submit",
        "description": "422 with the errors by path when a check fails; otherwise the workflow's submit action.",
        "tags": ["submissions"], "parameters": [SUBMISSION_ID, IDEMPOTENCY],
        "requestBody": {"required": False, "content": _json(_ref("SubmitRequest"), {"expected_version": 1})},
        "responses": {"200": {"description": "Submitted.", "headers": REPLAYED,
                              "content": _json(_ref("ActionResult"), {**ACTION_RESULT_EXAMPLE, "action": "submit",
                                                                      "from": "draft", "to": "submitted"})},
                      **_errors("400", "401", "403", "404", "409", "422")},
    }},
    "/api/v1/submissions/{id}/actions/{action}": {"post": {
        "operationId": "performAction", "summary": "Perform a workflow action (approve, return, certify, …)",
        "description": "The actions open to you are listed in the submission's `actions`. A vote (approval "
                       "block) takes `decision`. 409 names who decided first.",
        "tags": ["review"],
        "parameters": [SUBMISSION_ID,
                       {"name": "action", "in": "path", "required": True, "example": "approve",
                        "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,31}$"}},
                       IDEMPOTENCY],
        "requestBody": {"required": False, "content": _json(_ref("ActionRequest"), {
            "expected_version": 2, "comment": "材料齐全，同意。"})},
        "responses": {"200": {"description": "Done (or a vote recorded), or the replay of an earlier request "
                                             "with the same Idempotency-Key.", "headers": REPLAYED,
                              "content": _json(_ref("ActionResult"), ACTION_RESULT_EXAMPLE)},
                      **_errors("400", "401", "403", "404", "409", "422")},
    }},
    "/api/v1/volunteers": {"get": {
        "operationId": "listVolunteers", "summary": "Volunteers serving with your units (any viewing role)",
        "description": "Ordered by id, paged by keyset; empty when you hold no role that sees volunteers.",
        "tags": ["volunteers"],
        "parameters": [
            _query("q", {"type": "string", "maxLength": 50, "pattern": NO_NUL},
                   "Part of a name, or the last 1–4 characters of the ID number."),
            _query("cursor", {"type": "string", "pattern": "^[0-9]{0,10}$", "maxLength": 10},
                   "next_cursor of the previous page."),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
        ],
        "responses": {"200": {"description": "One page.", "content": _json(_ref("VolunteerPage"), {
            "items": [{"number": "FY000001", "name": "张三", "id_number": "**************1234",
                       "hours_total": 12.5, "hours_this_year": 3.0, "person_times": 4, "stars": 0}],
            "next_cursor": None})},
                      **_errors("400", "401")},
    }},
    "/api/v1/volunteers/{number}": {"get": {
        "operationId": "getVolunteer", "summary": "One volunteer, with the current service records",
        "description": "Another unit's activity shows only its date, unit, hours and status. 404 when the "
                       "volunteer does not serve with your units nor has records organised by them.",
        "tags": ["volunteers"],
        "parameters": [{"name": "number", "in": "path", "required": True, "example": "FY000001",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": NO_NUL}}],
        "responses": {"200": {"description": "The volunteer.", "content": _json(_ref("VolunteerDetail"))},
                      **_errors("401", "404")},
    }},
    "/api/v1/scores": {"get": {
        "operationId": "listScores", "summary": "Unit scores for a year (and a month), best first",
        "description": "Offices see the units under them, others the units where they hold a role. With `unit` "
                       "and `month`, that unit's lines: every point with its rule and source.",
        "tags": ["assessment"],
        "parameters": [
            _query("year", {"type": "integer", "minimum": 1950, "maximum": 2100}, "The year (default: this year)."),
            _query("month", {"type": "integer", "minimum": 1, "maximum": 12}, "Also this month's points."),
            _query("unit", ID, "Only this unit (with month: its lines)."),
        ],
        "responses": {"200": {"description": "The table.", "content": _json(_ref("ScoreTable"))},
                      **_errors("400", "401")},
    }},
    "/api/v1/campaigns": {"get": {
        "operationId": "listCampaigns", "summary": "A year's campaigns (节点), by node date",
        "description": "Empty until the year's plan is generated (flask campaigns generate YEAR, or the office's "
                       "page).", "tags": ["campaigns"],
        "parameters": [_query("year", {"type": "integer", "minimum": 1950, "maximum": 2100},
                              "The year (default: this year).")],
        "responses": {"200": {"description": "The year's campaigns.", "content": _json(_ref("CampaignList"), {
            "year": 2026, "campaigns": [{
                "key": "lantern", "year": 2026, "name": {"zh": "元宵节", "en": "Lantern Festival"},
                "node_on": "2026-03-03", "window_start": "2026-02-24", "window_end": "2026-03-10",
                "theme": "我们的节日·元宵", "topics": ["warmth"],
                "unit_kinds": ["civilized_unit", "community", "volunteer_org", "team"],
                "forms": ["activity_report"], "lead_unit_ids": [], "source": "generated"}]})},
                      **_errors("400", "401")},
    }},
    "/api/v1/ballots/{ballot_id}": {"get": {
        "operationId": "getBallot", "summary": "A monthly top-ten ballot: its result and each member's marks",
        "description": "For the office at the ballot's unit and the ballot's panel; anyone else gets 404. A "
                       "ballot past its deadline is closed by this read.",
        "tags": ["ballots"],
        "parameters": [{"name": "ballot_id", "in": "path", "required": True, "schema": ID, "example": 1}],
        "responses": {"200": {"description": "The ballot.", "content": _json(_ref("Ballot"))},
                      **_errors("401", "404")},
    }},
    "/api/v1/obligations": {"get": {
        "operationId": "listObligations", "summary": "One month's obligation cells of your units",
        "description": "Every unit where you hold a role (a filler: their units; an office: its district or the "
                       "city), each obligation the rules ask of its kind, as on the compliance page.",
        "tags": ["assessment"],
        "parameters": [
            {"name": "year", "in": "query", "required": True, "example": 2017,
             "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}},
            {"name": "month", "in": "query", "required": True, "example": 3,
             "schema": {"type": "integer", "minimum": 1, "maximum": 12}},
        ],
        "responses": {"200": {"description": "The month's cells.", "content": _json(_ref("ObligationMonth"), {
            "period": "2017-03", "rules": {"key": "monthly_obligations", "version": 1, "sha256": "9f2c…"},
            "items": [{"unit": {"id": 7, "name": "颍州区文明单位一"}, "obligation": "activity", "status": "met",
                       "count": 1, "on_time": 1, "pending": 0, "needed": 1, "deadline": "2017-04-08",
                       "open": False, "sources": [42]}]})},
                      **_errors("400", "401")},
    }},
    "/api/v1/queue": {"get": {
        "operationId": "queue", "summary": "Your review queue: what your roles may act on now, oldest first",
        "tags": ["review"],
        "parameters": [
            _query("unit", ID, "Only this unit and the units under it."),
            _query("campaign", {"type": "string", "maxLength": 64, "pattern": NO_NUL}, "A campaign (theme) value."),
            _query("month", {"type": "string", "pattern": "^(\\d{4}-(0[1-9]|1[0-2]))?$"}, "YYYY-MM (empty: any)."),
            _query("state", {"type": "string", "maxLength": 32, "pattern": NO_NUL}, "Only this state."),
            _query("overdue", {"type": "string", "enum": ["", "0", "1"]}, "1: only items past their due time."),
            _query("cursor", {"type": "string", "pattern": CURSOR_PATTERN, "maxLength": 27},
                   "next_cursor of the previous page."),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
        ],
        "responses": {"200": {"description": "One page, paged by keyset.", "content": _json(_ref("QueuePage"), {
            "items": [{"id": 42, "form": {"key": "activity_report", "version": 1, "sha256": "9f2c…"},
                       "unit": {"id": 7, "name": "颍州区文明单位一"}, "state": "submitted", "state_label": "待审核",
                       "title": "学雷锋进社区", "campaign": "leifeng", "period": "2026-03",
                       "state_since": "2026-03-05T08:30:00Z", "due_at": "2026-03-12T08:30:00Z", "overdue": False,
                       "row_version": 2}],
            "next_cursor": None,
            "counts": {"all": 1, "overdue": 0, "state": {"submitted": 1}, "campaign": {"leifeng": 1},
                       "period": {"2026-03": 1}}})},
                      **_errors("400", "401")},
    }},
}


def document():
    """The OpenAPI document as a dict (a fresh copy each call)."""
    import copy
    return copy.deepcopy({
        "openapi": "3.0.3",
        "info": {
            "title": "Wenming Workflows API",
            "version": "1",
            "description": (
                "Forms, drafts, submitting, the review queue and workflow actions as JSON. Authenticate with a "
                "personal API token (an administrator issues it at /admin/tokens/) as `Authorization: Bearer "
                "wm_…`, or with the web session; a session-authenticated POST/PATCH must also send "
                "`X-Requested-With: fetch` (or a valid `X-CSRFToken`). The same access rules as the web pages "
                "apply. Errors are `{\"error\", \"message\"}` (the message in your language) plus details. "
                "File fields take references to files uploaded through the web form."),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}, {"session": []}],
        "tags": [{"name": "forms"}, {"name": "submissions"}, {"name": "review"}, {"name": "volunteers"},
                 {"name": "assessment"}, {"name": "campaigns"}, {"name": "ballots"}, {"name": "meta"}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "wm_<prefix>_<secret>",
                               "description": "A personal API token; only its SHA-256 is stored."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The web session (sign in at /login); unsafe methods also need "
                                           "X-Requested-With: fetch or X-CSRFToken."},
            },
            "schemas": SCHEMAS,
            "responses": {f"E{code}": _error(code) for code in ("400", "401", "403", "404", "409", "422")},
        },
    })


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())
