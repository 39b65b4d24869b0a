"""GET /ballots/{id}: a monthly ballot's result and every member's marks, for its office and its panel.

The same rules as the ballot's page (``assessment.ballots``): anyone else is
answered 404, as for a ballot that does not exist. While the ballot is open
the results hold no points and no marks but the caller's own.
"""
from flask import jsonify

from ..assessment.ballots import ballot as ballots
from ..assessment.ballots.results import result
from .blueprint import bp
from .representations import _time
from .requests import _user


@bp.get("/ballots/<int:ballot_id>")
def get_ballot(ballot_id):
    user = _user()
    ballot = ballots.get_visible(ballot_id, user)
    outcome = result(ballot)
    counted = ballot.status in ("closed", "confirmed")
    me = ballots.member_of(ballot, user)
    names = {mid: name for mid, name, _voted in outcome.members}
    rows = []
    for row in outcome.rows:
        marks = [{"member": names[mid], ("score" if ballot.rule == "score_sum" else "rank"): value}
                 for mid, value in sorted(row.marks.items()) if counted or (me is not None and mid == me.id)]
        rows.append({"submission": row.submission_id, "title": row.title, "unit": {"id": row.unit_id,
                                                                                   "name": row.unit},
                     "place": row.place if counted else None, "points": row.points if counted else None,
                     "selected": row.selected if counted else None, "marks": marks})
    return jsonify({"id": ballot.id, "month": ballot.month, "status": ballot.status, "rule": ballot.rule,
                    "picks": ballot.picks, "max_score": ballot.max_score, "deadline": _time(ballot.deadline),
                    "tie_break": ballot.tie_break, "row_version": ballot.row_version,
                    "members": [{"name": name, "voted": voted} for _mid, name, voted in outcome.members],
                    "confirmed_at": _time(ballot.confirmed_at),
                    "results": rows})
