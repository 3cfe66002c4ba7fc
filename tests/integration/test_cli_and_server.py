"""The README's and docs/deploy.md's run paths from a clean checkout (the files git has, no
compiled translations, no instance folder): init-db, seed-demo, `python wsgi.py` and gunicorn
serve the Chinese pages, and a console connects over long-polling as well as WebSocket."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from crm.demo import DEMO_PASSWORD
from tests.live_server import Console

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what a clone of this tree holds: tracked and new files, nothing git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    target = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed.split("\0")):
        source, copy = ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # translations/zh_Hans_CN -> zh_CN
            copy.symlink_to(source.readlink())
        elif source.is_file():  # a file deleted in the work tree is still listed
            shutil.copy2(source, copy)
    assert not list(target.glob("translations/**/*.mo"))
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=env["CHECKOUT"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def fresh_env(tmp_path, checkout) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PII_KEYS", "ASYNC_MODE"}
    }
    env.update(
        LOANLINE_INSTANCE=str(tmp_path / "instance"),
        PORT=str(_free_port()),
        CHECKOUT=str(checkout),
    )
    return env


def _serve(env: dict[str, str], *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=env["CHECKOUT"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _assert_chinese_login_page(base: str) -> None:
    page = requests.get(f"{base}/login", timeout=10)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text, page.text[:500]


@pytest.mark.integration
def test_embedded_server_starts_and_demo_logins_work(fresh_env):
    _flask(fresh_env, "init-db")
    # two days of the demo world serve here (tests/integration/test_demo_world.py checks it)
    printed = _flask(fresh_env, "seed-demo", "--days", "2")
    assert "agent_bj1" in printed and DEMO_PASSWORD in printed
    # seeding again must not fail or duplicate
    _flask(fresh_env, "seed-demo", "--days", "2")
    secrets_file = Path(fresh_env["LOANLINE_INSTANCE"]) / "secrets.json"
    assert secrets_file.stat().st_mode & 0o077 == 0

    server = _serve(fresh_env, sys.executable, "wsgi.py")
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
        _assert_chinese_login_page(base)
        token = response.json()["access_token"]
        # python-socketio's defaults (a browser's too): long-polling first, then the upgrade
        for transports in (["polling", "websocket"], ["polling"]):
            console = Console(base, token, transports=transports)
            assert console.call("agent_state", {"state": "available"}) == {"ok": True}
            assert console.sio.transport() == transports[-1]
            console.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"running at {base}/" in server.stdout.read()


@pytest.mark.integration
def test_gunicorn_with_the_deploy_config_serves_the_chinese_pages(fresh_env):
    """docs/deploy.md's commands: init-db, then gunicorn -c deploy/gunicorn.conf.py."""
    _flask(fresh_env, "init-db")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = _serve(fresh_env, gunicorn, "-c", "deploy/gunicorn.conf.py", "wsgi:app")
    base = f"http://127.0.0.1:{fresh_env['PORT']}"
    try:
        assert _wait_for(f"{base}/readyz")["status"] == "ready"
        _assert_chinese_login_page(base)
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert "Using worker: gevent" in server.stdout.read()


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
        except (requests.ConnectionError, requests.Timeout):  # not listening, or still booting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
