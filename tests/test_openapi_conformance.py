"""Hardening (issue 7, finding 17): the OpenAPI document describes what the server does.

schemathesis runs every check it has (``--checks all``: positive data is
accepted, negative data refused as documented, ``OPTIONS`` and 405 answers
name only the methods a path has, …) on a few examples per operation.
"""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS as REGISTERED_CHECKS, load_all_checks

from tests.test_api import DOCUMENT, bearer, builtin, create_draft, people  # noqa: F401 - fixtures

load_all_checks()
ALL_CHECKS = [REGISTERED_CHECKS.get_one(name) for name in REGISTERED_CHECKS.get_all_names()]


def _operation(path, method):
    return DOCUMENT["paths"][path][method]


def test_options_names_only_the_methods_a_path_has(client, people):
    for path, methods in (("/api/v1/forms", {"GET", "HEAD"}), ("/api/v1/submissions", {"POST"}),
                          ("/api/v1/submissions/1", {"GET", "HEAD", "PATCH"})):
        response = client.options(path, headers=bearer(people["filler"]))
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        assert response.status_code == 200 and allowed == methods | {"OPTIONS"}, (path, allowed)


def test_a_nul_character_in_a_field_name_is_no_such_field(client, people):
    response = client.post("/api/v1/submissions", headers=bearer(people["filler"]),
                           json={"form": "activity_report", "answers": {"ti\x00tle": "x"}})
    assert response.status_code == 422 and "ti\x00tle" in response.get_json()["errors"]


def test_refusals_the_server_makes_are_documented():
    """An empty form, an over-long cursor, NUL characters: the document's constraints say so."""
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["SubmissionCreate"]["properties"]["form"]["minLength"] == 1
    queue = {p["name"]: p["schema"] for p in _operation("/api/v1/queue", "get")["parameters"]}
    assert queue["cursor"]["maxLength"] < 80 and queue["cursor"]["pattern"]
    assert queue["campaign"]["pattern"] == queue["state"]["pattern"] == "^[^\\x00]*$"
    assert schemas["ActionRequest"]["properties"]["comment"]["pattern"] == "^[^\\x00]*$"
    for path, method in (("/api/v1/submissions", "post"), ("/api/v1/submissions/{id}/submit", "post")):
        assert {"400", "422"} <= set(_operation(path, method)["responses"])


@pytest.fixture
def all_checks_schema(app, people):
    # Some generated requests name a real submission.
    create_draft(client=app.test_client(), app=app, people=people)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # 422 is the document's "well formed but cannot be done" (answers that fail the form's checks,
    # an action not open in this state); 400 stays a failure: a schema-valid request must never get it.
    acceptance = loaded.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    return loaded


schema = schemathesis.pytest.from_fixture("all_checks_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_with_all_checks_is_clean(case, people):
    case.call_and_validate(headers=bearer(people["filler"]), checks=ALL_CHECKS)
