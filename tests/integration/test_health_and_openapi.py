"""`/healthz` and the generated OpenAPI document."""

from __future__ import annotations

import re


def test_healthz_reports_database_and_embedded_redis(client):
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["db"] == "ok"
    assert body["redis"] == "embedded"
    assert body["version"]


def test_openapi_documents_every_api_route_with_its_schemas(client, app):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    api_rules = {
        (r.rule, m)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(p, m.upper()) for p, ops in doc["paths"].items() for m in ops}
    expected = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), m) for rule, m in api_rules}
    assert expected == documented
    create_user = doc["paths"]["/api/v1/users"]["post"]
    schema_ref = create_user["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert {"username", "password", "role", "org_id"} <= set(schema["required"])
    assert "security" not in doc["paths"]["/api/v1/auth/login"]["post"]
