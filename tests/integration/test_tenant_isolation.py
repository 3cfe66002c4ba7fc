"""The tenant-isolation matrix, generated from the app's URL map and its Socket.IO namespaces:
every route and every socket event is classified (tests/tenant_matrix.py), and a route or event
that is not fails the first test. Then, with two partner orgs A and B (tests/tenant_world.py),
A's admin and agent act on B's objects through each of them and get 404 (or a refusal) and
nothing of B; and every role without an operation's permission gets 403, whatever it sends."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from crm.auth.permissions import ROLES
from crm.extensions import socketio
from crm.http import ApiBlueprint
from tests.fuzzing import users_of_every_role
from tests.integration.test_errors import assert_error_shape
from tests.integration.test_web_security import web_login
from tests.loan_helpers import PNG
from tests.tenant_matrix import EVENTS, MULTIPART, OBJECT, PUBLIC, ROUTES, Body
from tests.tenant_world import SENTINELS, World, build_world

pytestmark = pytest.mark.integration

_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


def routes(app) -> set[str]:
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def url(rule: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        converter, choices, name = match.groups()
        if converter == "any":
            return choices.split(",")[0]
        if name == "job_id" and rule.startswith("/api/v1/exports"):
            return str(ids["export_job_id"])
        return str(ids[name])

    return _VARIABLE.sub(value, rule)


def _send(client, method: str, path: str, headers, body: Body | None, ids: dict[str, Any]):
    payload = body(ids) if body else None
    if payload is MULTIPART:
        form = {**MULTIPART, "file": (io.BytesIO(PNG), "id.png")}
        return client.open(path, method=method, headers=headers, data=form)
    return client.open(path, method=method, headers=headers, json=payload)


def permission_of(app, method: str, rule: str) -> str | None:
    for blueprint in app.blueprints.values():
        if isinstance(blueprint, ApiBlueprint):
            for op in blueprint.operations:
                if (op.method, op.rule) == (method, rule):
                    return op.permission
    return None


def nothing_of_b(response, world: World) -> None:
    text = response.get_data(as_text=True)
    leaked = [s for s in SENTINELS if s in text]
    assert not leaked, (
        f"{response.request.method} {response.request.path}: {leaked} in {text[:300]}"
    )
    assert not re.search(rf'"org_id":\s*{world.b.org.id}\b', text), text[:300]


@pytest.fixture
def world(client, make) -> World:
    return build_world(client, make)


def test_every_route_and_socket_event_is_classified(app):
    assert routes(app) == set(ROUTES), (
        f"unclassified: {sorted(routes(app) - set(ROUTES))}; "
        f"gone: {sorted(set(ROUTES) - routes(app))}"
    )
    for namespace, handler in socketio.server.namespace_handlers.items():
        events = {name[3:] for name in dir(handler) if name.startswith("on_")}
        assert events == set(EVENTS[namespace]), (namespace, events ^ set(EVENTS[namespace]))


@pytest.mark.parametrize("role", ["partner_admin", "partner_agent"])
def test_a_partner_acting_on_another_orgs_objects_gets_nothing(app, client, world, role):
    before = world.state_of_b()
    headers = world.a.headers[role]
    for key, (kind, body) in sorted(ROUTES.items()):
        method, rule = key.split(" ", 1)
        if kind == PUBLIC or not rule.startswith("/api/"):
            continue
        response = _send(client, method, url(rule, world.ids), headers, body, world.ids)
        nothing_of_b(response, world)
        assert response.status_code < 500, (key, response.json)
        if kind == OBJECT:
            needed = permission_of(app, method, rule)
            expected = 403 if needed and needed not in world.a.permissions[role] else 404
            assert response.status_code == expected, (key, response.json)
            assert_error_shape(response, expected, "forbidden" if expected == 403 else "not_found")
    assert world.state_of_b() == before


def test_pages_of_another_orgs_objects_show_nothing_of_it(app, world):
    browser = app.test_client()
    web_login(browser, world.a.admin.username)
    for key, (_kind, _body) in sorted(ROUTES.items()):
        method, rule = key.split(" ", 1)
        if method != "GET" or rule.startswith(("/api/", "/static", "/lang", "/metrics")):
            continue
        response = browser.get(url(rule, world.ids))
        assert response.status_code in (200, 302, 403), key
        nothing_of_b(response, world)


def test_a_role_without_the_permission_gets_403_whatever_it_sends(app, client, make):
    headers, _ = users_of_every_role(client, make)
    permissions = {role: _permissions(client, h) for role, h in headers.items()}
    for blueprint in app.blueprints.values():
        if not isinstance(blueprint, ApiBlueprint):
            continue
        for op in blueprint.operations:
            if op.permission is None:
                continue
            for role in ROLES:
                if op.permission in permissions[role]:
                    continue
                response = client.open(
                    url(op.rule, _ONES), method=op.method, headers=headers[role], json={"x": 1}
                )
                assert_error_shape(response, 403, "forbidden")


def test_a_page_refuses_a_role_without_its_permission(app, client, make):
    headers, _ = users_of_every_role(client, make)
    for role in ROLES:
        browser = app.test_client()
        user = make.user(role=role, org=make.org("partner" if role.startswith("partner") else "hq"))
        web_login(browser, user.username)
        granted = _permissions(client, headers[role])
        for rule in app.url_map.iter_rules():
            needed = getattr(app.view_functions[rule.endpoint], "permissions", ())
            if needed and not set(needed) & granted:
                assert browser.get(url(rule.rule, _ONES)).status_code == 403, (role, rule.rule)


def test_socket_events_on_another_orgs_objects_get_nothing(app, world):
    agent = _socket(app, "/dialer", world.a.headers["partner_agent"])
    for event, data in (
        ("dial", {"lead_id": world.ids["lead_id"]}),
        ("hangup", {"call_id": world.ids["call_id"]}),
        ("disposition", {"call_id": world.ids["call_id"], "disposition": "busy"}),
    ):
        answer = agent.emit(event, data, namespace="/dialer", callback=True)
        assert answer["ok"] is False and answer["code"] == "not_found", (event, answer)
    offered = agent.emit("next_lead", {}, namespace="/dialer", callback=True)
    assert offered["ok"] and offered["lead"]["org_id"] == world.a.org.id
    for event, data in (("resume", {}), ("agent_state", {"state": "available"})):
        answer = agent.emit(event, data, namespace="/dialer", callback=True)
        assert "乙方" not in str(answer) and answer["ok"], (event, answer)
    wallboard = _socket(app, "/wallboard", world.a.headers["partner_admin"])
    received = wallboard.get_received("/wallboard")
    assert received and "乙方" not in str(received)
    assert world.b.agent.id not in {
        a["agent_id"]
        for m in received
        if m["name"] == "agent_states"
        for a in m["args"][0]["agents"]
    }
    # left connected: a disconnect would start the reconnect grace timer (dialer/sessions.py),
    # whose console_lost would run after this test, outside its transaction


def test_a_role_without_the_permission_is_refused_at_connect(app, client, make):
    headers, _ = users_of_every_role(client, make)
    assert not _socket(app, "/dialer", headers["reviewer"]).is_connected("/dialer")
    assert not _socket(app, "/wallboard", headers["agent"]).is_connected("/wallboard")


_ONES = dict.fromkeys(
    [
        "lead_id",
        "application_id",
        "document_id",
        "version",
        "loan_id",
        "product_id",
        "user_id",
        "org_id",
        "settlement_id",
        "statement_id",
        "source_id",
        "job_id",
        "export_job_id",
    ],
    1,
)


def _permissions(client, headers: dict[str, str]) -> set[str]:
    return set(client.get("/api/v1/me", headers=headers).json["permissions"])


def _socket(app, namespace: str, headers: dict[str, str]):
    token = headers["Authorization"].split(" ", 1)[1]
    return socketio.test_client(app, namespace=namespace, auth={"token": token})
