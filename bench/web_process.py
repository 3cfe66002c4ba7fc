"""A production web process for benches: gunicorn's gevent worker started as
deploy/systemd/loanline-web@.service starts it (REDIS_URL set: no in-process scheduler, Socket.IO
through Redis), and agents claiming through it over keep-alive HTTP."""

from __future__ import annotations

import os
from collections.abc import Callable

import requests

from bench import common
from crm.compliance.crypto import PiiKeyring
from tests.topology import unit_command


def command_and_env(redis_url: str) -> tuple[list[str], dict[str, str]]:
    """The unit's command and environment, without PORT (tests.live_server.start_server and
    bench.claim_instructions give each process a free one)."""
    command, unit_env = unit_command("loanline-web@.service", "INSTANCE")
    assert unit_env.pop("PORT") == "INSTANCE"
    env = unit_env | {
        "PII_KEYS": PiiKeyring.generate_json(),
        "REDIS_URL": redis_url,
        "SOCKETIO_CHANNEL": f"bench-claim-{os.getpid()}",
    }
    return command, env


def claimer(http: requests.Session, base: str, username: str) -> Callable[[], None]:
    """claim-next as `username` (logged in once), asserting each claim is granted."""
    body = {"username": username, "password": common.PASSWORD}
    token = http.post(f"{base}/api/v1/auth/login", json=body).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def claim() -> None:
        answer = http.post(f"{base}/api/v1/leads/claim-next", json={}, headers=headers)
        assert answer.status_code == 200, answer.text

    return claim
