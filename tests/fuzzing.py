"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis): every
operation, as a user of each role, with generated parameters and bodies. Shared by the bounded
run in the suite (tests/integration/test_fuzz_api.py) and the longer one (bench/fuzz_api.py).

A response fails when it is a 5xx, a status or content type the document does not list, a body
that does not match the documented schema, or an error outside the one error shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm.auth.permissions import ROLES
from tests.factories import Factory

# ids of rows that exist, per path parameter name: half the generated requests use one, so the
# fuzzing reaches past "not found" into the handlers
KnownIds = dict[str, list[int]]
_PATH_ID = re.compile(r"^[a-z_]+_id$")


def error_shape(ctx, response, case) -> bool | None:
    """Every 4xx/5xx answer is {"error": {"code", "message", "details"}} and nothing else."""
    if response.status_code < 400:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}, error
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), error["code"]
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], dict), error
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


@dataclass(frozen=True)
class Fuzzer:
    app: Flask
    # generated requests per operation, each as a user of a role drawn with it
    max_examples: int
    # the suite replays the same examples on every run (a failure there is a regression, never
    # a flake); the bench draws new ones each time
    derandomize: bool = True

    def run(self, headers: dict[str, dict[str, str]], known: KnownIds) -> list[str]:
        """Fuzz every operation as users of the roles in `headers` (role -> Authorization
        header); one report per failing operation, naming the request to replay."""
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", self.app)
        failures = []
        for result in schema.get_all_operations():
            operation = result.ok()
            try:
                self._fuzz(operation, headers, known)()
            except (FailureGroup, Exception) as exc:
                failures.append(f"{operation.label}\n{exc}")
        return failures

    def _fuzz(
        self, operation, headers: dict[str, dict[str, str]], known: KnownIds
    ) -> Callable[[], None]:
        @settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            derandomize=self.derandomize,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(),
            role=st.sampled_from(sorted(headers)),
            pick=st.integers(min_value=0, max_value=7),
        )
        def fuzz(case, role: str, pick: int) -> None:
            for name in list(case.path_parameters or {}):
                ids = known.get(name, [])
                if _PATH_ID.match(name) and ids and pick % 2:
                    case.path_parameters[name] = ids[pick % len(ids)]
            case.headers = {**(case.headers or {}), **headers[role]}
            response = case.call()
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as failed:
                failed.add_note(f"as {role}")
                raise

        return fuzz


def users_of_every_role(client, make: Factory) -> tuple[dict[str, dict[str, str]], KnownIds]:
    """A user of each role (partner roles in a partner org) with a few leads to act on:
    (the Authorization header of each role, the ids that exist)."""
    hq, partner = make.org("hq"), make.org("partner")
    headers, users = {}, []
    for role in ROLES:
        org = partner if role.startswith("partner") else hq
        user = make.user(role=role, org=org)
        users.append(user.id)
        response = client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": Factory.PASSWORD}
        )
        headers[role] = {"Authorization": f"Bearer {response.json['access_token']}"}
    leads = [make.lead(org=org).id for org in (hq, partner, hq, partner)]
    return headers, {"lead_id": leads, "user_id": users, "org_id": [hq.id, partner.id]}
