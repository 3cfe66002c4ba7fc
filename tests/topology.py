"""The production topology on this machine, started from the files in deploy/: web processes as
deploy/systemd/loanline-web@.service starts them, job workers as loanline-worker@.service does,
and nginx with deploy/nginx/loanline.conf in front. The nginx test and bench.load_test use it,
so the units and the nginx config that docs/deploy.md tells people to install are the ones
that ran here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.live_server import ROOT, SECRET_KEY, LiveServer, free_port, start_server, stop_server

DEPLOY = ROOT / "deploy"
INSTALLED_AT = "/opt/loanline"  # where the units expect the checkout (docs/deploy.md)
NGINX_SITE = DEPLOY / "nginx" / "loanline.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def unit_command(unit: str, instance: str = "") -> tuple[list[str], dict[str, str]]:
    """The ExecStart and Environment= of a deploy/systemd unit, as run from this checkout."""
    text = (DEPLOY / "systemd" / unit).read_text().replace("%i", instance)
    text = text.replace(INSTALLED_AT, str(ROOT))
    [exec_start] = re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE)
    env = dict(
        pair.split("=", 1)
        for line in re.findall(r"^Environment=(.+)$", text, re.MULTILINE)
        for pair in shlex.split(line)
    )
    return shlex.split(exec_start), env


def verify_units(folder: Path) -> subprocess.CompletedProcess:
    """`systemd-analyze verify` of every unit, installed at this checkout's path."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text().replace(INSTALLED_AT, str(ROOT))
        (folder / unit.name).write_text(text)
        names.append(unit.name.replace("@.", "@1."))  # a template is checked as an instance
    return subprocess.run(
        ["systemd-analyze", "verify", *names], cwd=folder, capture_output=True, text=True
    )


def nginx_conf(folder: Path, listen: int, upstreams: Sequence[int]) -> Path:
    """deploy/nginx/loanline.conf with this machine's ports, inside a main config that keeps
    every file nginx writes in `folder`."""
    site = NGINX_SITE.read_text()
    site, listens = re.subn(r"^(\s*)listen 80;", rf"\1listen 127.0.0.1:{listen};", site, flags=re.M)
    servers = "".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in upstreams
    )
    site, blocks = re.subn(r"(    server 127\.0\.0\.1:\d+ .*\n)+", servers, site)
    assert (listens, blocks) == (1, 1), "deploy/nginx/loanline.conf changed shape"
    (folder / "loanline.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'};\nevents {{ worker_connections 4096; }}\n"
        + f"http {{ access_log {folder / 'access.log'}; {temp}\n"
        + f"include {folder / 'loanline.conf'}; }}\n"
    )
    return main


@dataclass
class Topology:
    nginx: str  # base URL of the front door
    webs: list[LiveServer]
    workers: list[subprocess.Popen]
    env: dict[str, str]
    folder: Path
    logs: list[Path] = field(default_factory=list)

    def tail(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in self.logs)


@contextmanager
def running(
    folder: Path, database_url: str, env: dict[str, str], webs: int = 2, workers: int = 1
) -> Iterator[Topology]:
    """`webs` web processes and `workers` job workers on `database_url`, nginx in front; `env`
    is the deployment's environment (PII_KEYS, REDIS_URL, ...)."""
    env = {"PROXY_HOPS": "1", **env}
    with ExitStack() as stack:
        command, unit_env = unit_command("loanline-web@.service", "INSTANCE")
        # the unit's instance name is its port; start_server gives each process a free one
        assert unit_env.pop("PORT") == "INSTANCE"
        servers = []
        for n in range(webs):
            server = start_server({**env, **unit_env}, database_url, folder / f"web{n}", command)
            stack.callback(stop_server, server)
            servers.append(server)
        logs = [server.log_path for server in servers]
        procs = []
        for n in range(workers):
            proc, log = _start_worker(folder / f"worker{n}", database_url, env)
            stack.callback(_stop, proc)
            procs.append(proc)
            logs.append(log)
        listen = free_port()
        ports = [int(server.base.rsplit(":", 1)[1]) for server in servers]
        conf = nginx_conf(folder, listen, ports)
        nginx = subprocess.Popen([nginx_binary(), "-c", str(conf), "-g", "daemon off;"])
        stack.callback(_stop, nginx)
        logs.append(folder / "error.log")
        base = f"http://127.0.0.1:{listen}"
        _wait_for(f"{base}/healthz", nginx)
        yield Topology(base, servers, procs, env, folder, logs)


def _start_worker(folder: Path, database_url: str, env: dict[str, str]):
    command, unit_env = unit_command("loanline-worker@.service")
    folder.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "LOANLINE_INSTANCE": str(folder / "instance"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        **env,
        **unit_env,
    }
    log = folder / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=out, stderr=out)
    return proc, log


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=2).raise_for_status()
            return
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
