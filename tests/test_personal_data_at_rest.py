"""Personal data at rest: no ID number is readable in the database, wherever it sits in a form.

Guards PIPL's rule as README states it: ID numbers are stored encrypted with a
keyed hash, both a top-level ``id_card`` field and an ``id_card`` column of a
roster. The check reads the submission row's answers column with plain SQL —
what someone with a database dump sees — never through the app's decrypting
helpers; and the unit that filed the form still gets its numbers back.
"""
import re

import pytest
from sqlalchemy import text

from forms.idcard import check_character
from workflows.api import issue_token
from workflows.extensions import db
from workflows.models import FormVersion, User

PERSONAL = """key: personal_data
version: 1
title: 个人信息测试
fields:
  - {name: applicant, type: text, label: 申请人, required: true}
  - {name: applicant_id, type: id_card, label: 申请人身份证号, required: true}
  - name: members
    type: repeat
    label: 成员
    fields:
      - {name: name, type: text, label: 姓名, required: true}
      - {name: id_number, type: id_card, label: 身份证号, required: true}
"""


def id_number(first17):
    return first17 + check_character(first17)


APPLICANT = id_number("34120119850611203")   # top level
MEMBER = id_number("34122519930228417")      # in the roster
NUMBERS = (APPLICANT, MEMBER)


def hidden_parts(number):
    """What must never be readable at rest: the number, all but its last four, and the digits the mask hides."""
    return (number, number[:-4], number[4:-4])


def mask(number):
    return number[:4] + "*" * 10 + number[-4:]


def publish(app, source):
    from forms.definition import load_definition
    with app.app_context():
        spec = load_definition(source)
        db.session.add(FormVersion(key=spec.key, version=spec.version, sha256=spec.sha256, source=source,
                                   title=spec.schema.title.zh, status="published"))
        db.session.commit()


def raw_answers(app, submission_id):
    """The answers column exactly as the database holds it, as text (no ORM, no decryption)."""
    with app.app_context():
        return db.session.execute(text("SELECT CAST(answers AS TEXT) FROM submission WHERE id = :id"),
                                  {"id": submission_id}).scalar_one()


def assert_unreadable_at_rest(app, submission_id):
    raw = raw_answers(app, submission_id)
    assert '"applicant"' in raw and '"members"' in raw  # the row is the right one, read as text
    for number in NUMBERS:
        for part in hidden_parts(number):
            assert part not in raw, f"{part} is readable in the stored answers"
    # Each number is stored as its envelope, the mask readable, the number itself encrypted.
    assert raw.count('"enc"') == 2 and mask(APPLICANT) in raw and mask(MEMBER) in raw


@pytest.fixture
def filler(app, city, create_user, client, login):
    publish(app, PERSONAL)
    create_user("filler.a1", city["a1"], "filler")
    login("filler.a1")
    return client


def posted(action):
    return {"action": action, "applicant": "张申请", "applicant_id": APPLICANT,
            "members-0-name": "李成员", "members-0-id_number": MEMBER}


def submission_id_of(response):
    return int(re.search(r"/submissions/(\d+)", response.headers["Location"]).group(1))


def test_submitted_numbers_are_unreadable_in_the_row_and_masked_for_the_unit(app, filler):
    response = filler.post("/forms/personal_data/new", data=posted("submit"))
    assert response.status_code == 302
    submission_id = submission_id_of(response)
    assert_unreadable_at_rest(app, submission_id)
    page = filler.get(f"/submissions/{submission_id}").get_data(as_text=True)
    assert mask(APPLICANT) in page and mask(MEMBER) in page
    assert APPLICANT not in page and MEMBER not in page


def test_a_draft_is_unreadable_in_the_row_and_its_unit_reads_the_numbers_back(app, filler):
    response = filler.post("/forms/personal_data/new", data=posted("save"))
    assert response.status_code == 302
    submission_id = submission_id_of(response)
    assert_unreadable_at_rest(app, submission_id)
    # The unit edits its own draft: the page decrypts both numbers into the inputs.
    page = filler.get(f"/submissions/{submission_id}/edit").get_data(as_text=True)
    assert f'value="{APPLICANT}"' in page and f'value="{MEMBER}"' in page
    # Submitting from that page keeps both numbers, and they stay unreadable at rest.
    again = filler.post(f"/submissions/{submission_id}/edit", data=dict(posted("submit"), row_version="1"))
    assert again.status_code == 302
    assert_unreadable_at_rest(app, submission_id)


def test_through_the_api_numbers_are_unreadable_at_rest(app, client, city, create_user):
    publish(app, PERSONAL)
    user_id = create_user("filler.a1", city["a1"], "filler")
    reviewer_id = create_user("reviewer.a", city["a"], "reviewer")
    with app.app_context():
        plain = issue_token(db.session.get(User, user_id), "script")[1]
        reviewer = issue_token(db.session.get(User, reviewer_id), "script")[1]
        db.session.commit()
    answers = {"applicant": "张申请", "applicant_id": APPLICANT, "members": [{"name": "李成员", "id_number": MEMBER}]}
    created = client.post("/api/v1/submissions", json={"form": "personal_data", "answers": answers},
                          headers={"Authorization": f"Bearer {plain}"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert_unreadable_at_rest(app, body["id"])
    assert body["answers"]["applicant_id"] == mask(APPLICANT)
    assert body["answers"]["members"][0]["id_number"] == mask(MEMBER)
    # Sending the mask back unchanged keeps the stored number, still encrypted.
    patched = client.patch(f"/api/v1/submissions/{body['id']}", headers={"Authorization": f"Bearer {plain}"},
                           json={"answers": body["answers"], "expected_version": body["row_version"]})
    assert patched.status_code == 200, patched.get_json()
    assert_unreadable_at_rest(app, body["id"])
    # Anyone but the submitting unit sees the last four digits only.
    seen = client.get(f"/api/v1/submissions/{body['id']}", headers={"Authorization": f"Bearer {reviewer}"})
    assert seen.get_json()["answers"]["applicant_id"] == "*" * 14 + APPLICANT[-4:]
    assert seen.get_json()["answers"]["members"][0]["id_number"] == "*" * 14 + MEMBER[-4:]
