"""Every 4xx answer has the same machine-readable error shape."""

from __future__ import annotations

import pytest


def assert_error_shape(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/api/v1/nowhere", {}, 404, "not_found"),
        ("delete", "/api/v1/me", {}, 405, "method_not_allowed"),
        (
            "post",
            "/api/v1/auth/login",
            {"data": "{not json", "content_type": "application/json"},
            400,
            "invalid_json",
        ),
        ("post", "/api/v1/auth/login", {"json": {"username": "a"}}, 422, "validation_error"),
        (
            "post",
            "/api/v1/auth/login",
            {"json": {"username": "a", "password": "b", "x": 1}},
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/v1/auth/login",
            {"json": {"username": 5, "password": "b"}},
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/v1/auth/login",
            {"json": {"username": "a", "password": "b"}},
            401,
            "invalid_credentials",
        ),
        ("get", "/api/v1/me", {}, 401, "unauthorized"),
        ("get", "/api/v1/me", {"headers": {"Authorization": "Bearer x.y.z"}}, 401, "invalid_token"),
    ],
)
def test_errors_have_the_documented_shape(client, method, path, kwargs, status, code):
    assert_error_shape(getattr(client, method)(path, **kwargs), status, code)


def test_validation_error_names_each_failing_field(client, auth):
    response = client.post(
        "/api/v1/users",
        headers=auth.login("admin"),
        json={
            "username": "ok_name",
            "password": 12345678,
            "display_name": "n",
            "role": "boss",
            "org_id": 1,
            "surprise": True,
        },
    )
    assert_error_shape(response, 422, "validation_error")
    failing = {f["loc"] for f in response.json["error"]["details"]["fields"]}
    assert failing == {"password", "role", "surprise"}


def test_query_parameters_are_validated(client, auth):
    response = client.get("/api/v1/users?per_page=500", headers=auth.login("admin"))
    assert_error_shape(response, 422, "validation_error")


def test_missing_object_and_forbidden_use_the_shape(client, auth):
    admin = auth.login("admin")
    assert_error_shape(
        client.patch("/api/v1/users/999999", json={}, headers=admin), 404, "not_found"
    )
    assert_error_shape(
        client.post("/api/v1/orgs", json={"name": "x", "kind": "hq"}, headers=auth.login("agent")),
        403,
        "forbidden",
    )
