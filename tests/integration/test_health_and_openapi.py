"""`/healthz`, the probes, `/metrics` and the generated OpenAPI document."""

from __future__ import annotations

import re


def test_healthz_reports_database_and_embedded_redis(client):
    body = client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["db"] == "ok"
    assert body["redis"] == "embedded"
    assert body["version"]


def test_liveness_and_readiness_answer_apart_and_a_draining_process_is_not_ready(client, app):
    from crm.extensions import runtime

    assert client.get("/livez").json == {"status": "alive"}
    assert client.get("/readyz").json == {"status": "ready", "db": "ok", "redis": "embedded"}
    runtime.draining.set()
    try:
        draining = client.get("/readyz")
        assert draining.status_code == 503 and draining.json["status"] == "draining"
        assert client.get("/livez").status_code == 200
    finally:
        runtime.draining.clear()


def test_metrics_are_prometheus_text_with_latency_by_endpoint(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert (
        'loanline_http_request_duration_seconds_count{endpoint="health.healthz",method="GET"}'
        in text
    )
    assert (
        'loanline_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    )
    assert "loanline_consoles_connected 0.0" in text
    assert "loanline_calls_in_progress 0.0" in text


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
    variable = r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>"  # <name>, <int:name>, <any(a,b):name>
    expected = {(re.sub(variable, r"{\1}", rule), m) for rule, m in api_rules}
    assert expected == documented
    statement_file = doc["paths"]["/api/v1/statements/{statement_id}.{fmt}"]["get"]
    fmt = next(p for p in statement_file["parameters"] if p["name"] == "fmt")
    assert fmt["schema"] == {"type": "string", "enum": ["csv", "xlsx", "pdf"]}
    create_user = doc["paths"]["/api/v1/users"]["post"]
    schema_ref = create_user["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert {"username", "password", "role", "org_id"} <= set(schema["required"])
    assert "security" not in doc["paths"]["/api/v1/auth/login"]["post"]
