"""Access over units whose ids share a prefix: a role held at ``/1/2/`` reaches ``/1/2/3/``, never ``/1/20/…``.

A unit's path is the chain of ids (``/1/2/3/``), so a district with id 2 and
one with id 20 — or units 3 and 30 side by side — differ only after the
prefix. This file builds exactly such a tree (and checks that it did) and then
walks a matrix: people holding each role at one side, submissions and files at
the other, over every place a person reads or acts on them — the submission
page, its edit page and action buttons, the list, the review queue and bulk
approval, the JSON API, attached and unattached file URLs, reusing an upload
by its token, the form a filler may fill for a unit, and the admin pages.

It guards the one rule, a grant covers its unit's *subtree* and nothing that
merely shares the digits, on both sides that enforce it: ``access.has_role_at``
(Python) and ``Unit.subtree_range`` / ``in_any_subtree`` (SQL); and the file
rules: an upload is reused only by its own unit, and an upload no submission
has taken up is served only to the person who uploaded it.
"""
import io
import re
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from forms.idcard import check_character
from workflows.filling import uploads
from workflows.api import issue_token
from workflows.demo.city import install_builtin_forms, install_builtin_workflows
from workflows.extensions import db
from workflows.models import FormVersion, StoredFile, Submission, Unit, User

PASSWORD = "correct-horse-1"

# --- the tree and the people ---------------------------------------------------------

# The named units; the ids that make the trap are asserted when the tree is built.
PARENT = {"A": "city", "A3": "A", "B": "city", "B21": "B", "A30": "A"}
NAMES = {"city": "市文明办", "A": "甲区文明办", "B": "乙区文明办",
         "A3": "甲三单位", "A30": "甲三十单位", "B21": "乙二一单位"}
# Where submissions and files are made: A3 and A30 are siblings under A, B21 lies under B.
DATA_UNITS = ("A3", "A30", "B21")

# name → (unit where the roles are held, roles). Each district has one person per role; each data unit its filler.
PEOPLE = {f"{d.lower()}.{role}": (d, (role,))
          for d in ("A", "B") for role in ("filler", "reviewer", "certifier", "office", "admin")}
PEOPLE.update({"a3.filler": ("A3", ("filler",)), "a30.filler": ("A30", ("filler",)),
               "b21.filler": ("B21", ("filler",))})
FILLER_OF = {"A3": "a3.filler", "A30": "a30.filler", "B21": "b21.filler"}

# The states a submission is taken through, and which role's queue each waits in.
STATES = ("draft", "submitted", "approved", "certified")
ACTS_IN = {"reviewer": ("submitted", "approve"), "certifier": ("approved", "certify"),
           "office": ("certified", "archive")}


def covers(person, unit):
    """The person's grant reaches ``unit``: it is the grant's unit or lies below it (read off PARENT, not paths)."""
    at = PEOPLE[person][0]
    while unit is not None:
        if unit == at:
            return True
        unit = PARENT.get(unit)
    return False


def role_of(person):
    return PEOPLE[person][1][0]


def title(unit, state):
    # 《A3·…》 is no substring of 《A30·…》: a page showing one never seems to show the other.
    return f"《{unit}·{state}》活动"


def id_number(serial):
    base = f"34120119900307{serial:03d}"
    return base + check_character(base)


def jpeg(shade):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 60, 90)).save(out, "JPEG")
    return out.getvalue()


def answers(unit, state, photo):
    return {
        "theme": "leifeng", "topics": ["elderly"], "title": title(unit, state), "held_on": date.today().isoformat(),
        "place": "颍州区清河街道", "beneficiaries": "社区老人 30 人",
        "content": "志愿者为社区老人打扫卫生、测量血压、讲解防范电信诈骗知识，并陪老人聊天。" * 2,
        "roster": [{"name": "张三", "id_number": id_number(123), "hours": "2.5"}],
        "photos": [{"id": photo}], "person_in_charge": "王五", "contact_phone": "13800000000", "recorder": "赵六",
    }


class World:
    """The built tree: unit ids, people, submissions and files by name; clients signed in on demand."""

    def __init__(self, app):
        self.app = app
        self.units, self.users, self.tokens = {}, {}, {}
        self.submissions = {}   # (unit, state) → id
        self.photos = {}        # (unit, state) → token of the photo attached to that submission
        self.loose = {}         # unit → token of an upload no submission took up
        self._clients = {}

    def client(self, person):
        """A browser signed in as ``person`` (signing in hashes a password, so only when a test needs it)."""
        if person not in self._clients:
            client = self.app.test_client()
            response = client.post("/login", data={"username": person, "password": PASSWORD})
            assert response.status_code == 302, f"{person} could not sign in"
            self._clients[person] = client
        return self._clients[person]

    def api(self, person, method, url, **kwargs):
        client = self._clients.get("_api") or self._clients.setdefault("_api", self.app.test_client())
        return getattr(client, method)(url, headers={"Authorization": f"Bearer {self.tokens[person]}"}, **kwargs)

    def upload(self, unit, shade):
        """A photo uploaded for activity_report by the unit's filler, as the web form stores it; returns its token."""
        with self.app.app_context():
            version = db.session.execute(select(FormVersion).where(FormVersion.key == "activity_report")
                                   .order_by(FormVersion.version.desc())).scalars().first()
            stored = uploads.store(FileStorage(io.BytesIO(jpeg(shade)), filename=f"{unit}照片.jpg"),
                                   version.spec.field("photos"), db.session.get(Unit, self.units[unit]),
                                   db.session.get(User, self.users[FILLER_OF[unit]]))
            db.session.commit()
            return stored.token

    def count(self):
        with self.app.app_context():
            return db.session.query(Submission).count()

    def state_of(self, submission_id):
        with self.app.app_context():
            return db.session.get(Submission, submission_id).state

    def row(self, submission_id):
        with self.app.app_context():
            submission = db.session.get(Submission, submission_id)
            return submission.state, submission.row_version, submission.answers

    def stored(self, token):
        with self.app.app_context():
            stored = db.session.execute(select(StoredFile).where(StoredFile.token == token)).scalar_one()
            return stored.unit_id, stored.submission_id


@pytest.fixture
def world(app, create_unit, create_user, monkeypatch):
    # Thirteen accounts: a cheap password hash keeps the build short; signing in checks it as any other.
    monkeypatch.setattr("workflows.models.users.generate_password_hash",
                        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"))
    w = World(app)
    units = w.units
    units["city"] = create_unit(name=NAMES["city"], code="CITY")
    units["A"] = create_unit(units["city"], name=NAMES["A"], kind="office", code="DA")
    units["A3"] = create_unit(units["A"], name=NAMES["A3"], code="UA3")

    def pad_until(next_id, parent):
        # Filler units so that the next unit gets ``next_id``; ids count up by one on both databases.
        made = 0
        while True:
            made += 1
            assert made < 100, "unit ids do not count up from the district's id: the prefix trap cannot be built"
            unit_id = create_unit(parent, name=f"填充单位{made}")
            if unit_id == next_id - 1:
                return

    pad_until(units["A"] * 10, units["A"])
    units["B"] = create_unit(units["city"], name=NAMES["B"], kind="office", code="DB")
    units["B21"] = create_unit(units["B"], name=NAMES["B21"], code="UB21")
    pad_until(units["A3"] * 10, units["B"])
    units["A30"] = create_unit(units["A"], name=NAMES["A30"], code="UA30")
    with app.app_context():
        paths = {name: db.session.get(Unit, unit_id).path for name, unit_id in units.items()}
    c, a, a3 = units["city"], units["A"], units["A3"]
    # The premise of every test here: B's path and A30's path begin with the digits of A's and A3's.
    assert paths["A"] == f"/{c}/{a}/" and paths["B"] == f"/{c}/{a}0/", paths
    assert paths["A3"] == f"/{c}/{a}/{a3}/" and paths["A30"] == f"/{c}/{a}/{a3}0/", paths
    assert paths["B21"].startswith(paths["A"][:-1]) and not paths["B21"].startswith(paths["A"])
    assert paths["A30"].startswith(paths["A3"][:-1]) and not paths["A30"].startswith(paths["A3"])

    with app.app_context():
        install_builtin_forms()
        install_builtin_workflows()
        db.session.commit()
    for person, (unit, roles) in PEOPLE.items():
        w.users[person] = create_user(person, units[unit], *roles)
    with app.app_context():
        for person, user_id in w.users.items():
            w.tokens[person] = issue_token(db.session.get(User, user_id), "matrix")[1]
        db.session.commit()

    # Each data unit files one submission per state, each with its own photo, and keeps one loose upload.
    for n, unit in enumerate(DATA_UNITS):
        filler, reviewer, certifier = (rightful(unit, role) for role in ("filler", "reviewer", "certifier"))
        for m, state in enumerate(STATES):
            photo = w.upload(unit, 10 * n + m)
            created = w.api(filler, "post", "/api/v1/submissions", json={
                "form": "activity_report", "unit": units[unit], "answers": answers(unit, state, photo)})
            assert created.status_code == 201, created.get_json()
            sid = created.get_json()["id"]
            steps = [(filler, "submit"), (reviewer, "approve"), (certifier, "certify")][:STATES.index(state)]
            for actor, action in steps:
                moved = w.api(actor, "post", f"/api/v1/submissions/{sid}/actions/{action}", json={})
                assert moved.status_code == 200, (actor, action, moved.get_json())
            assert w.state_of(sid) == state
            w.submissions[(unit, state)] = sid
            w.photos[(unit, state)] = photo
        w.loose[unit] = w.upload(unit, 200 + n)
    return w


# --- how a person's answer reads -------------------------------------------------------

def page_outcome(response, text):
    """True: a page showing ``text``; False: a 404 that does not; otherwise what was seen instead."""
    body = response.get_data(as_text=True)
    if response.status_code == 200 and text in body:
        return True
    if response.status_code == 404 and text not in body:
        return False
    return f"{response.status_code} {'with' if text in body else 'without'} {text}"


def linked_submissions(response):
    assert response.status_code == 200
    return {int(i) for i in re.findall(r'href="/submissions/(\d+)"', response.get_data(as_text=True))}


def share(shown, wanted):
    """True when every id of ``wanted`` is shown, False when none is, a description otherwise."""
    seen = shown & set(wanted)
    return True if seen == set(wanted) else False if not seen else f"only {sorted(seen)} of {sorted(wanted)}"


def mismatches(world, check, people=PEOPLE, expected=covers):
    """Every (person, data unit) cell where ``check`` disagrees with ``expected``: {cell: (expected, seen)}."""
    wrong = {}
    for person in people:
        for unit in DATA_UNITS:
            want, got = expected(person, unit), check(world, person, unit)
            if got is not want:
                wrong[(person, unit)] = (want, got)
    return wrong


# --- reading: pages, list, API, attached files -----------------------------------------

def read_page(w, person, unit):
    return page_outcome(w.client(person).get(f"/submissions/{w.submissions[(unit, 'submitted')]}"),
                        title(unit, "submitted"))


def read_list(w, person, unit):
    return share(linked_submissions(w.client(person).get("/submissions/")),
                 [w.submissions[(unit, state)] for state in STATES])


def read_api(w, person, unit):
    response = w.api(person, "get", f"/api/v1/submissions/{w.submissions[(unit, 'submitted')]}")
    text = title(unit, "submitted")
    if response.status_code == 200 and response.get_json()["title"] == text:
        return True
    if response.status_code == 404 and text not in response.get_data(as_text=True):
        return False
    return f"{response.status_code}: {response.get_data(as_text=True)[:80]}"


def read_attached_file(w, person, unit):
    response = w.client(person).get(f"/files/{w.photos[(unit, 'submitted')]}")
    if response.status_code == 200 and response.data.startswith(b"\xff\xd8"):
        return True
    return False if response.status_code == 404 else f"{response.status_code}"


READERS = {"page": read_page, "list": read_list, "api": read_api, "attached-file": read_attached_file}


def test_each_person_reads_exactly_the_submissions_under_their_unit(world):
    # a.* read A3 and A30, b.* read B21, each unit's filler its own: never the unit whose id merely
    # starts with the same digits (B21 under B = A's id + "0"; A30 beside A3). One matrix per surface.
    found = {surface: mismatches(world, read) for surface, read in READERS.items()}
    assert found == {surface: {} for surface in READERS}


# --- the review queue ---------------------------------------------------------------------

def queue_page(w, person):
    response = w.client(person).get("/review/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    listed = {int(i) for i in re.findall(r'name="ids" value="(\d+)"', body)}
    # Nothing of an item not listed leaks onto the page either.
    leaked = {key for key, sid in w.submissions.items() if sid not in listed and title(*key) in body}
    return listed, leaked


def queue_api(w, person):
    response = w.api(person, "get", "/api/v1/queue?limit=100")
    assert response.status_code == 200
    return {item["id"] for item in response.get_json()["items"]}, set()


QUEUES = {"page": queue_page, "api": queue_api}


def test_the_queue_lists_the_items_of_the_persons_subtree_and_nothing_else(world):
    wrong = {}
    for surface, queue in QUEUES.items():
        for person in PEOPLE:
            role = role_of(person)
            expected = {world.submissions[(unit, ACTS_IN[role][0])]
                        for unit in DATA_UNITS if role in ACTS_IN and covers(person, unit)}
            listed, leaked = queue(world, person)
            if listed != expected or leaked:
                wrong[(surface, person)] = {"expected": sorted(expected), "listed": sorted(listed),
                                            "leaked": sorted(leaked)}
    assert wrong == {}
    # Not empty by accident: A's reviewer waits on two items, B's on one.
    assert len(queue_page(world, "a.reviewer")[0]) == 2 and len(queue_api(world, "b.reviewer")[0]) == 1


# --- acting: the page's buttons, the API, bulk approval --------------------------------------

# What each role would try: the action it takes, on a submission in the state it takes it from.
ATTEMPT = {"filler": ("draft", "submit"), "reviewer": ("submitted", "approve"), "certifier": ("approved", "certify"),
           "office": ("certified", "archive"), "admin": ("submitted", "approve")}
AFTER = {"submit": "submitted", "approve": "approved", "certify": "certified", "archive": "archived"}
CHANNELS = ("web", "api", "bulk")


def rightful(unit, role):
    """The person who may take ``role``'s action on ``unit``'s submission: its filler (owner) or its district's."""
    return FILLER_OF[unit] if role == "filler" else f"{unit[0].lower()}.{role}"


def act(w, channel, person, submission_id, action):
    """The action as the channel sends it; returns (status, text) of the answer."""
    if channel == "web":
        response = w.client(person).post(f"/submissions/{submission_id}/actions/{action}", data={"comment": "同意"})
    elif channel == "api":
        response = w.api(person, "post", f"/api/v1/submissions/{submission_id}/actions/{action}",
                         json={"comment": "同意"})
    else:
        response = w.client(person).post("/review/bulk", data={"ids": [str(submission_id)], "action": action,
                                                               "comment": "同意"})
    return response.status_code, response.get_data(as_text=True)


def test_nobody_acts_outside_their_subtree_and_the_rightful_person_does(world):
    refused = {}
    for channel in CHANNELS:
        for person in PEOPLE:
            state, action = ATTEMPT[role_of(person)]
            for unit in DATA_UNITS:
                if covers(person, unit):
                    continue
                sid = world.submissions[(unit, state)]
                before = world.row(sid)
                status, body = act(world, channel, person, sid, action)
                # A 404, as for an id that does not exist; bulk answers its row "no such submission".
                answered = (status == 200 and "✓" not in body and "没有这份填报。" in body) if channel == "bulk" \
                    else status == 404
                if not answered or title(unit, state) in body or world.row(sid) != before:
                    refused[(channel, person, unit)] = (status, world.state_of(sid))
    assert refused == {}
    # Positive control: the filler (owner) and the district's reviewer, certifier and office each act, after
    # the submission's page showed them the button (for certify, the roster panel); every channel gets
    # every role once.
    for u, unit in enumerate(DATA_UNITS):
        for r, role in enumerate(("filler", "reviewer", "certifier", "office")):
            channel = CHANNELS[(u + r) % len(CHANNELS)]
            state, action = ATTEMPT[role]
            person, sid = rightful(unit, role), world.submissions[(unit, state)]
            page = world.client(person).get(f"/submissions/{sid}").get_data(as_text=True)
            # The certifier's step is the roster panel, which posts the row decisions.
            shown = (f'action="/submissions/{sid}/certify"' if action == "certify"
                     else f'formaction="/submissions/{sid}/actions/{action}?key=')
            assert shown in page, (person, unit)
            status, body = act(world, channel, person, sid, action)
            assert status in (200, 302), (channel, person, unit, status, body[:200])
            assert world.state_of(sid) == AFTER[action], (channel, person, unit)


# --- editing ---------------------------------------------------------------------------

def edit_outcome(w, channel, person, unit):
    """(status shown, status of the save, whether the draft changed)."""
    sid = w.submissions[(unit, "draft")]
    _state, version, before = w.row(sid)
    changed = f"{title(unit, 'draft')}（{channel} {person}）"
    if channel == "web":
        shown = w.client(person).get(f"/submissions/{sid}/edit")
        if shown.status_code != 200 and title(unit, "draft") in shown.get_data(as_text=True):
            return "refused, yet showing the title"
        response = w.client(person).post(f"/submissions/{sid}/edit", data={
            "action": "save", "row_version": str(version), "title": changed})
        statuses = (shown.status_code, {302: 200}.get(response.status_code, response.status_code))
    else:
        response = w.api(person, "patch", f"/api/v1/submissions/{sid}",
                         json={"answers": {"title": changed}, "expected_version": version})
        statuses = (response.status_code, response.status_code)
    return statuses + (w.row(sid)[2].get("title") != before.get("title"),)


def test_a_draft_is_edited_by_its_owner_only_and_hidden_from_other_units(world):
    def expected(person, unit):
        if person == FILLER_OF[unit]:
            return (200, 200, True)
        return (403, 403, False) if covers(person, unit) else (404, 404, False)

    wrong = {}
    for channel in ("web", "api"):
        # The owners go last, so each refusal is checked against a draft nobody has touched since.
        for person in sorted(PEOPLE, key=lambda p: p in FILLER_OF.values()):
            for unit in DATA_UNITS:
                got = edit_outcome(world, channel, person, unit)
                if got != expected(person, unit):
                    wrong[(channel, person, unit)] = (expected(person, unit), got)
    assert wrong == {}


# --- files ------------------------------------------------------------------------------

def test_an_upload_no_submission_took_up_is_served_to_its_uploader_only(world):
    wrong = {}
    for person in PEOPLE:
        for unit in DATA_UNITS:
            if person != FILLER_OF[unit] and role_of(person) == "filler" and covers(person, unit):
                continue  # a filler above the unit: not decided by this rule (the file is still their unit's)
            response = world.client(person).get(f"/files/{world.loose[unit]}")
            served = response.status_code == 200 and response.data.startswith(b"\xff\xd8")
            if (response.status_code, served) != ((200, True) if person == FILLER_OF[unit] else (404, False)):
                wrong[(person, unit)] = response.status_code
    assert wrong == {}
    # Still unattached and still the unit's: nobody's look took it up.
    for unit in DATA_UNITS:
        assert world.stored(world.loose[unit]) == (world.units[unit], None)


# (actor, the unit they file for, the unit whose uploads they try to pass off as their own)
REUSE = [("a3.filler", "A3", "B21"), ("b21.filler", "B21", "A3"), ("a3.filler", "A3", "A30"),
         ("a.filler", "A3", "B21")]


def file_tokens(answers):
    return [ref["id"] for ref in (answers or {}).get("photos") or []]


def reuse_web(w, actor, own, theirs, mine, sid=None):
    """The web form of ``own`` (new, or the draft ``sid``) sent with a 'keep' box for every token; returns its id."""
    data = {"action": "save", "title": "借用照片", "photos-keep": [mine] + theirs}
    if sid is None:
        response = w.client(actor).post(f"/forms/activity_report/new?unit={w.units[own]}", data=data)
    else:
        data["row_version"] = str(w.row(sid)[1])
        response = w.client(actor).post(f"/submissions/{sid}/edit", data=data)
    assert response.status_code == 302, (actor, own, response.get_data(as_text=True)[:300])
    return int(re.search(r"/submissions/(\d+)/edit", response.headers["Location"]).group(1))


def reuse_api(w, actor, own, theirs, mine, sid=None):
    """Each of ``theirs`` is refused at "photos" and changes nothing; then ``mine`` is taken. Returns the id."""
    def send(token):
        if sid is None:
            return w.api(actor, "post", "/api/v1/submissions", json={
                "form": "activity_report", "unit": w.units[own],
                "answers": {"title": "借用照片", "photos": [{"id": token}]}})
        return w.api(actor, "patch", f"/api/v1/submissions/{sid}", json={
            "answers": {"photos": [{"id": token}]}, "expected_version": w.row(sid)[1]})

    for token in theirs:
        before = (w.count(), sid and w.row(sid))
        response = send(token)
        assert response.status_code == 422 and "photos" in response.get_json()["errors"], \
            (actor, own, response.status_code, response.get_json())
        assert (w.count(), sid and w.row(sid)) == before
    response = send(mine)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["id"]


@pytest.mark.parametrize("channel", ["web", "api"])
def test_an_upload_of_another_unit_is_not_taken_up_by_its_token(world, channel):
    w, send = world, (reuse_web if channel == "web" else reuse_api)
    for actor, own, foreign in REUSE:
        # The other unit's loose upload, and the photo already on its draft.
        theirs = [w.loose[foreign], w.photos[(foreign, "draft")]]
        before = {token: w.stored(token) for token in theirs}
        # A new form; and the unit's own draft when the actor is its owner.
        for target in [None] + ([w.submissions[(own, "draft")]] if actor == FILLER_OF[own] else []):
            mine = w.upload(own, 120)  # positive control: an upload of the unit filed for is taken up
            sid = send(w, actor, own, theirs, mine, target)
            # What the person sees and the rows hold: their own photo only; the other unit's stay put.
            assert file_tokens(w.row(sid)[2]) == [mine], (actor, foreign, target)
            assert w.stored(mine) == (w.units[own], sid)
            assert {token: w.stored(token) for token in theirs} == before
            page = w.client(actor).get(f"/submissions/{sid}").get_data(as_text=True)
            assert f"{own}照片" in page and f"{foreign}照片" not in page
            assert all(token not in page for token in theirs)


# --- filling for a unit, and the admin pages ------------------------------------------------

def may_fill(person, unit):
    return role_of(person) == "filler" and covers(person, unit)


def fill_web(w, person, unit):
    response = w.client(person).get(f"/forms/activity_report/new?unit={w.units[unit]}")
    if response.status_code == 200 and NAMES[unit] in response.get_data(as_text=True):
        return True
    return False if response.status_code == 403 else response.status_code


def fill_api(w, person, unit):
    forms = w.api(person, "get", "/api/v1/forms").get_json()["forms"]
    offered = {u["id"] for f in forms if f["key"] == "activity_report" for u in f["units"]}
    response = w.api(person, "post", "/api/v1/submissions", json={
        "form": "activity_report", "unit": w.units[unit], "answers": {"title": "试填"}})
    got = (w.units[unit] in offered, response.status_code)
    return True if got == (True, 201) else False if got == (False, 403) else got


def test_a_filler_fills_for_the_units_under_their_grant_only(world):
    found = {surface: mismatches(world, check, expected=may_fill)
             for surface, check in {"web": fill_web, "api": fill_api}.items()}
    assert found == {"web": {}, "api": {}}
def test_admin_pages_show_and_open_only_the_admins_subtree(world):
    w = world
    named = {w.units[name]: name for name in NAMES}
    people_ids = {user_id: person for person, user_id in w.users.items()}
    wrong = {}
    for person in PEOPLE:
        client = w.client(person)
        units_page, users_page = client.get("/admin/units/"), client.get("/admin/users/")
        if role_of(person) != "admin":
            if (units_page.status_code, users_page.status_code) != (403, 403):
                wrong[person] = (units_page.status_code, users_page.status_code)
            continue
        at = PEOPLE[person][0]
        body = units_page.get_data(as_text=True)
        listed = {named[int(i)] for i in re.findall(r'href="/admin/units/(\d+)"', body) if int(i) in named}
        expected = {name for name in NAMES if covers(person, name)}
        names_shown = {name for name in NAMES if NAMES[name] in body}
        users_body = users_page.get_data(as_text=True)
        listed_people = {people_ids[int(i)] for i in re.findall(r'href="/admin/users/(\d+)"', users_body)
                         if int(i) in people_ids}
        expected_people = {p for p in PEOPLE if covers(person, PEOPLE[p][0])}
        opened = {name: client.get(f"/admin/units/{w.units[name]}").status_code for name in NAMES}
        opened_people = {p: client.get(f"/admin/users/{w.users[p]}").status_code for p in PEOPLE}
        seen = {"units": listed, "names": names_shown, "people": listed_people,
                "open units": {n for n, s in opened.items() if s == 200},
                "refused units": {n for n, s in opened.items() if s == 403},
                "open people": {p for p, s in opened_people.items() if s == 200},
                "refused people": {p for p, s in opened_people.items() if s == 403}}
        want = {"units": expected, "names": expected, "people": expected_people, "open units": expected,
                "refused units": set(NAMES) - expected, "open people": expected_people,
                "refused people": set(PEOPLE) - expected_people}
        assert at in expected
        if seen != want:
            wrong[person] = {k: (want[k], seen[k]) for k in want if want[k] != seen[k]}
    assert wrong == {}
