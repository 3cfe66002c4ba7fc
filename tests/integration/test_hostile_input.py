"""What the fuzzer found (tests/integration/test_fuzz_api.py), one test each: input the schemas
accepted by type but the database or the calendar could not take answered 500; now each is a
4xx in the error shape, and a caller without the right is refused before their input is read.
And where a person types at the command line, a refusal is one line, not a traceback."""

from __future__ import annotations

import pytest

from crm.extensions import db
from tests.integration.test_errors import assert_error_shape

pytestmark = pytest.mark.integration

PAST_BIGINT = 10**30


def failing_fields(response) -> set[str]:
    return {field["loc"] for field in response.json["error"]["details"]["fields"]}


def test_an_id_past_bigint_in_the_path_is_not_found(client, auth):
    response = client.get(f"/api/v1/applications/{PAST_BIGINT}", headers=auth.login("admin"))
    assert_error_shape(response, 404, "not_found")


def test_an_id_past_bigint_in_a_body_is_a_field_error(client, auth):
    response = client.post(
        "/api/v1/leads/move-to-pool",
        headers=auth.login("manager"),
        json={"lead_ids": [1, PAST_BIGINT], "pool_id": None},
    )
    assert_error_shape(response, 422, "validation_error")
    assert failing_fields(response) == {"lead_ids"}


def test_an_id_past_bigint_in_the_query_is_a_field_error(client, auth):
    response = client.get(f"/api/v1/loans?lead_id={PAST_BIGINT}", headers=auth.login("admin"))
    assert_error_shape(response, 422, "validation_error")
    assert failing_fields(response) == {"lead_id"}


def test_a_page_whose_offset_overflows_is_refused(client, auth):
    response = client.get(f"/api/v1/teams?page={10**19}", headers=auth.login("admin"))
    assert_error_shape(response, 422, "validation_error")
    assert failing_fields(response) == {"page"}


def test_text_with_a_nul_character_is_refused(client, auth):
    # PostgreSQL cannot store NUL in text; SQLite would have kept it
    response = client.post(
        "/api/v1/lenders",
        headers=auth.login("admin"),
        json={"name": "招商\x00银行", "kind": "bank"},
    )
    assert_error_shape(response, 422, "validation_error")
    assert failing_fields(response) == {"name"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("post", "/api/v1/settlements", {"json": {"period": "0000-01"}}, "period"),
        ("get", "/api/v1/reports/loan-book?as_of=0001-01-01", {}, "as_of"),
    ],
)
def test_dates_no_calendar_holds_are_refused(client, auth, method, path, kwargs, field):
    response = getattr(client, method)(path, headers=auth.login("admin"), **kwargs)
    assert_error_shape(response, 422, "validation_error")
    assert failing_fields(response) == {field}


def test_a_lead_cannot_lose_its_source(client, make, auth):
    org = make.org("hq")
    lead = make.lead(org=org)
    response = client.patch(
        f"/api/v1/leads/{lead.id}", headers=auth.login("manager", org=org), json={"source": None}
    )
    assert_error_shape(response, 422, "invalid_source")


def test_an_id_past_a_32_bit_column_is_refused_not_a_500(client, auth):
    response = client.get(f"/api/v1/users?org_id={2**40}", headers=auth.login("admin"))
    if db.engine.dialect.name == "postgresql":  # orgs.id is an INTEGER there
        assert_error_shape(response, 422, "invalid_value")
    else:  # SQLite's integers are all 64-bit: simply no such org
        assert response.status_code == 200 and response.json["items"] == []


def test_without_the_permission_the_input_is_not_even_read(client, auth):
    response = client.post("/api/v1/orgs", headers=auth.login("agent"), json={"nonsense": 1})
    assert_error_shape(response, 403, "forbidden")
    anonymous = client.post("/api/v1/orgs", json={"nonsense": 1})
    assert_error_shape(anonymous, 401, "unauthorized")


def test_the_cli_refuses_bad_arguments_in_one_line(app):
    typed = app.test_cli_runner().invoke(
        args=["create-user", "--username", "a1", "--password", "short", "--role", "agent",
              "--org", "总部"]
    )  # fmt: skip
    assert typed.exit_code == 1
    assert typed.output.splitlines() == [
        "Error: username: String should have at least 3 characters; "
        "password: String should have at least 8 characters"
    ]


def test_the_cli_refuses_a_broken_rule_in_one_line(app, make):
    make.user("agent", username="taken1")
    typed = app.test_cli_runner().invoke(
        args=["create-user", "--username", "taken1", "--password", "long-enough-pw", "--role",
              "agent", "--org", "总部"]
    )  # fmt: skip
    assert (typed.exit_code, typed.output) == (1, "Error: username 'taken1' is taken\n")
