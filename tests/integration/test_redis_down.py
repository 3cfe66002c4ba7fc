"""Redis unreachable (REDIS_URL pointing at a closed port): /healthz says what is degraded, reads
keep working, and starting a job answers 503 jobs_unavailable instead of failing with a 500."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from crm.extensions import runtime

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once the socket is closed


@pytest.fixture
def redis_down(app):
    """The runtime built as for a deployment whose REDIS_URL cannot be reached."""
    settings = runtime.settings
    runtime.configure(
        dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    )
    try:
        yield
    finally:
        runtime.configure(settings)


@pytest.fixture
def manager_with_lead(auth, make):
    org = make.org()
    lead = make.lead(org, name="赵敏")
    return auth.login("manager", org=org), lead


def test_healthz_lists_the_degraded_features(client, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["db"], body["redis"]) == ("degraded", "ok", "down")
    assert body["degraded"] == ["jobs", "scheduled_jobs", "live_events", "login_rate_limit"]


def test_lead_list_and_detail_are_still_served(client, manager_with_lead, redis_down):
    headers, lead = manager_with_lead

    listed = client.get("/api/v1/leads", headers=headers)
    detail = client.get(f"/api/v1/leads/{lead.id}", headers=headers)

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [lead.id]
    assert (detail.status_code, detail.json["name_masked"]) == (200, "赵*")


def test_starting_or_reading_a_job_answers_503_jobs_unavailable(
    client, manager_with_lead, redis_down
):
    headers, _ = manager_with_lead

    started = client.post("/api/v1/exports/deidentified", json={}, headers=headers)
    read = client.get(f"/api/v1/jobs/{'0' * 32}", headers=headers)

    for response in (started, read):
        assert response.status_code == 503
        assert response.json["error"]["code"] == "jobs_unavailable"
        assert "try again" in response.json["error"]["message"]


def test_login_works_and_wrong_passwords_are_still_limited_while_redis_is_down(
    client, make, redis_down
):
    user = make.user("agent")
    good = {"username": user.username, "password": make.PASSWORD}

    assert client.post("/api/v1/auth/login", json=good).status_code == 200
    codes = [
        client.post("/api/v1/auth/login", json={**good, "password": "wrong"}).status_code
        for _ in range(runtime.settings.login_max_failures + 1)
    ]
    assert codes[-1] == 429
    assert set(codes[:-1]) == {401}
