"""The README's run path: init-db, seed-demo and `python wsgi.py` on a fresh instance folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from crm.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def fresh_env(tmp_path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PII_KEYS"}
    }
    env.update(LOANLINE_INSTANCE=str(tmp_path / "instance"), PORT=str(_free_port()))
    return env


@pytest.mark.integration
def test_embedded_server_starts_and_demo_logins_work(fresh_env):
    _flask(fresh_env, "init-db")
    printed = _flask(fresh_env, "seed-demo")
    assert "agent_bj1" in printed and DEMO_PASSWORD in printed
    # seeding again must not fail or duplicate
    _flask(fresh_env, "seed-demo")
    secrets_file = Path(fresh_env["LOANLINE_INSTANCE"]) / "secrets.json"
    assert secrets_file.stat().st_mode & 0o077 == 0

    server = subprocess.Popen(
        [sys.executable, "wsgi.py"],
        cwd=ROOT,
        env=fresh_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{fresh_env['PORT']}"
    try:
        health = _wait_for(f"{base}/healthz")
        assert health == {
            "status": "ok",
            "db": "ok",
            "redis": "embedded",
            "version": health["version"],
        }
        for username in ("admin", "agent_bj1", "sz_admin"):
            response = requests.post(
                f"{base}/api/v1/auth/login",
                timeout=10,
                json={"username": username, "password": DEMO_PASSWORD},
            )
            assert response.status_code == 200, response.text
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"running at {base}/" in server.stdout.read()


@pytest.mark.integration
def test_create_user_makes_the_org_when_missing(fresh_env):
    _flask(fresh_env, "init-db")
    out = _flask(
        fresh_env,
        "create-user",
        "--username",
        "boss",
        "--password",
        "long-enough-pw",
        "--role",
        "partner_admin",
        "--org",
        "杭州城市合伙人",
        "--org-kind",
        "partner",
    )
    assert "杭州城市合伙人" in out and "partner_admin" in out


def _wait_for(url: str) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            return requests.get(url, timeout=2).json()
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
