"""Review pages: the queue, actions on a submission, bulk approve."""
import time
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import queue, queue_position
from .notifications import next_roles, prime_responsible
from ..access import grant_paths
from ..org.scope import unit_choices
from ..engine.perform import ActionError, NotFound, actions_for, may_act, open_vote, perform, workflow_of
from ..extensions import db
from ..filling import list_rows
from ..models import AuditEvent, Submission, Unit
from ..models.units import utcnow
from ..redirects import safe_next
from ..remembered_filters import remembered
from ..filling.submissions import can_view, language

bp = Blueprint("review", __name__)
BULK_LIMIT = 200
MAX_ID = 2 ** 31 - 1  # the integer columns' range: a larger id exists nowhere


def _scope_paths():
    return sorted({p for role in queue.QUEUE_ROLES for p in grant_paths(current_user, role)})


def _scope_units(paths):
    """The offices in reach: the unit filter's options without JavaScript (the type-ahead finds any unit)."""
    if not paths:
        return []
    return db.session.execute(select(Unit).where(Unit.in_any_subtree(paths), Unit.kind == "office")
                              .order_by(Unit.path)).scalars().all()


@bp.get("/review/")
@login_required
def index():
    saved = remembered("review", FILTER_KEYS, "review.index")
    if saved is not None:
        return saved
    filters = queue.Filters.from_args(request.args)
    limit = min(max(request.args.get("limit", type=int) or queue.PAGE, 1), PAGE_LIMIT)
    cursor = request.args.get("cursor")
    result = queue.page(current_user, filters, cursor=cursor, limit=limit, with_counts=False)
    counts = _bar_counts(filters, first_page=not cursor)
    # Without counts (a walk begun on another page) the bar still filters, without numbers.
    bar = counts or {"state": dict.fromkeys(sorted({lane.state for lane in queue.lanes(current_user)})),
                     "campaign": dict.fromkeys([filters.campaign] if filters.campaign else []),
                     "period": dict.fromkeys([filters.period] if filters.period else [])}
    paths = _scope_paths()
    offices = _scope_units(paths)
    chosen = queue.chosen_unit(filters)
    if chosen is not None and chosen not in offices and any(chosen.path.startswith(p) for p in paths):
        offices.append(chosen)  # picked in the type-ahead: the select shows it as chosen
    labels = {}
    for item in result.items:
        workflow = workflow_of(item)
        labels[item.id] = (workflow.state(item.state).label, [t for t in workflow.available(item.state)])
    state_names, campaign_names = list_rows.filter_labels(language())
    now = utcnow()
    return render_template("review/queue.html", page=result, counts=counts, bar=bar, filters=filters, labels=labels,
                           offices=unit_choices(offices) if offices else [], unit_filter=bool(paths), now=now,
                           state_names=state_names, campaign_names=campaign_names,
                           dates=list_rows.activity_dates(result.items), waiting=list_rows.ages(result.items, now),
                           cursor_of=queue.encode_cursor, queue_roles=[r.value for r in queue.QUEUE_ROLES], filtered=any(request.args.get(k) for k in FILTER_KEYS),
                           args={k: v for k, v in request.args.items() if k != "cursor"})


FILTER_KEYS = ("unit", "state", "campaign", "month", "overdue")
PAGE_LIMIT = 100


COUNTS_FRESH = 30  # seconds: bounds what the stamp cannot see (a due date passing, a unit moved)


def _bar_counts(filters, first_page):
    """The filter bar's counts, kept in the session under what they were counted for.

    The pages after the first show the first page's counts (None when the walk began elsewhere), so
    walking deeper never counts, on whichever worker answers. The first page counts again only when
    the queue may have changed since: every decision, vote and submission writes an audit event, so
    the newest event's id (one index lookup) stamps the counts, as do the unit filter and the lanes."""
    unit = str(filters.unit_id or "")
    kept = session.get("queue_counts")
    if not first_page:
        return kept["totals"] if kept and kept.get("unit") == unit else None
    all_lanes = queue.lanes_for(current_user, filters)
    key = {"unit": unit, "lanes": queue.lanes_digest(all_lanes), "stamp": queue.stamp()}
    now = time.time()
    if kept and all(kept.get(k) == v for k, v in key.items()) and 0 <= now - kept.get("at", 0) < COUNTS_FRESH:
        return kept["totals"]
    totals = queue.counts(current_user, all_lanes, filters)
    session["queue_counts"] = dict(key, at=now, totals=totals)
    return totals


@bp.app_template_global("queue_position")
def queue_position_global():
    return queue_position.position()


@bp.post("/submissions/<int:submission_id>/actions/<action>")
@login_required
def act(submission_id, action):
    try:
        result = perform(submission_id, action, current_user, comment=request.form.get("comment"),
                         expected_version=request.form.get("expected_version", type=int),
                         idempotency_key=(request.args.get("key") or request.form.get("idempotency_key") or None),
                         decision=request.form.get("decision", "approve"))
    except ActionError as refused:
        flash(refused.message, "error")
        submission = db.session.get(Submission, submission_id)
        if refused.status == 404 or submission is None:
            abort(404)
        # Back to the page with the comment kept, so nothing typed is lost.
        place = queue_position.position(request.form, with_next=False)
        return redirect(url_for("submissions.show", submission_id=submission_id,
                                comment=request.form.get("comment") or None, back=place and place["back"],
                                at=place and place["at"], error=refused.details.get("field"), _anchor="actions"))
    if result.body.get("decided"):
        flash(_("Done: the submission is now “%(state)s”.", state=_state_label(submission_id, result.submission)),
              "success")
    else:
        votes = result.body.get("votes", {})
        flash(_("Your vote is recorded (%(yes)d for, %(no)d against, %(needed)d needed).",
                yes=votes.get("approve", 0), no=votes.get("reject", 0), needed=votes.get("needed", 0))
              + " " + vote_missing(votes), "success")
    place = queue_position.position(request.form, with_next=False) if not request.form.get("next") else None
    if place:
        return redirect(queue_position.show_url(submission_id, place["back"], place["at"]))
    return redirect(safe_next(request.form.get("next"), "submissions.show", submission_id=submission_id))


def vote_missing(votes):
    """How far an open vote is from its quorum, and whether the people who can vote can close the gap."""
    text = ngettext("%(num)d more approving vote is needed.", "%(num)d more approving votes are needed.",
                    votes.get("missing", 0))
    if votes.get("unreachable"):
        text += " " + _("Only %(eligible)d people may vote here, so the quorum cannot be reached until more "
                        "are eligible; the submission waits.", eligible=votes.get("eligible", 0))
    elif votes.get("missing"):
        text += " " + _("%(eligible)d people may vote here.", eligible=votes.get("eligible", 0))
    return text


@bp.app_template_global("open_vote")
def open_vote_tally(submission, workflow=None):
    """The tally of a vote under way, for the submission's page."""
    votes = open_vote(submission, workflow)
    if votes is not None:
        votes["text"] = vote_missing(votes)
    return votes


def _state_label(submission_id, submission=None):
    submission = submission or db.session.get(Submission, submission_id)
    return workflow_of(submission).state(submission.state).label.get(language())


@bp.post("/review/bulk")
@login_required
def bulk():
    """Approve each selected item as its own transition; show what happened to each.

    An item the user may not act on is answered exactly like an id that does
    not exist, without its title, so the page confirms nothing about it.
    """
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:BULK_LIMIT]
    action = request.form.get("action", "approve")
    outcomes = []
    titles = {}
    # Every selected item with its unit in one statement; each is then its own transition and transaction,
    # sharing the person's grants and the parsed definitions (cached) with the others.
    loaded = {s.id: s for s in db.session.execute(
        select(Submission).where(Submission.id.in_([i for i in ids if i <= MAX_ID]))
        .options(joinedload(Submission.unit))).scalars()} if ids else {}
    _prime_next_people(loaded.values(), action)
    for submission_id in ids:
        submission = loaded.get(submission_id)
        open_now = _open_to(current_user, submission, action)
        try:
            if not open_now and not _decided_by_another(current_user, submission, action):
                raise NotFound(_("No such submission."))
            result = perform(submission_id, action, current_user, comment=request.form.get("comment"),
                             expected_version=request.form.get(f"v{submission_id}", type=int),
                             idempotency_key=f"bulk-{request.form.get('batch', '')}-{submission_id}"
                             if request.form.get("batch") else None)
            outcomes.append((submission_id, True, _state_label(submission_id, result.submission)))
        except ActionError as refused:
            db.session.rollback()
            if refused.status in (403, 404) or (not open_now and refused.status != 409):
                outcomes.append((submission_id, False, _("No such submission.")))
                continue
            outcomes.append((submission_id, False, refused.message))
        titles[submission_id] = db.session.get(Submission, submission_id)
    return render_template("review/bulk.html", outcomes=outcomes, titles=titles, action=action)


def _prime_next_people(submissions, action):
    """Who will be told about each item once ``action`` moves it, for all the items at once."""
    units_by_roles = {}
    for submission in submissions:
        workflow = workflow_of(submission)
        transition = workflow.find(submission.state, action) if workflow else None
        if transition is not None:
            roles = tuple(next_roles(workflow, submission, transition.model.to))
            units_by_roles.setdefault(roles, []).append(submission.unit)
    for roles, units in units_by_roles.items():
        prime_responsible(units, roles)


def _open_to(user, submission, action):
    if submission is None or not can_view(user, submission):
        return False
    return any(t.action == action for t in actions_for(user, submission))


def _decided_by_another(user, submission, action):
    """The item was open to ``user`` until someone else moved it: they are told who, as on its page."""
    if submission is None or not can_view(user, submission):
        return False
    workflow = workflow_of(submission)
    last = db.session.execute(select(AuditEvent).where(AuditEvent.submission_id == submission.id)
                              .order_by(AuditEvent.seq.desc()).limit(1)).scalar_one_or_none()
    if workflow is None or last is None or last.from_state is None or last.actor_id == user.id:
        return False
    before = workflow.find(last.from_state, action)
    return before is not None and may_act(user, before, submission)


def new_idempotency_key():
    return uuid.uuid4().hex
