"""A real Loanline server process (`python wsgi.py`) for the live dialer tests and the bench.

Each server gets a fresh database with the demo data, a free port and its own instance folder;
`Console` is a real python-socketio client that records every event it receives."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
import socketio
from sqlalchemy import insert, select

from crm.demo import DEMO_PASSWORD, ORGS

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "live-test-secret-key-that-is-long-enough-for-hs256"


def noon_settings(now: datetime | None = None) -> dict[str, str]:
    """Org settings under which it is about noon, whatever the hour the suite runs at: a fixed-
    offset zone (Etc/GMT-N is UTC+N) and calling hours spanning the day, so neither "inside the
    calling hours" nor "today" changes during a run. The hours guard's own test narrows them."""
    hour = (now or datetime.now(UTC)).hour
    offset = 12 - hour  # from -11 to +12, all of which exist as Etc/GMT zones
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return {"timezone": zone, "calling_hours_start": "00:00", "calling_hours_end": "23:59"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_where_calls_ring(calls: int, busy_and_invalid: float = 0.13) -> int:
    """A SIM_SEED whose first `calls` calls neither come back busy nor as an invalid number.

    The simulated carrier decides call n's outcome by the first roll of
    Random(f"{seed}:{n}") (below invalid_rate + busy_rate: busy or invalid), at the default
    SIM_BUSY_RATE and SIM_INVALID_RATE; tests/unit/test_simulated_carrier.py checks this helper
    against the carrier itself."""
    seed = 0
    while any(
        random.Random(f"{seed}:{n}").random() < busy_and_invalid for n in range(1, calls + 1)
    ):
        seed += 1
    return seed


def prepare_database(url: str, pii_keys: str) -> None:
    """Migrate, load the demo data (cheap password hashes) and make it noon in every org."""
    import crm.model_registry  # noqa: F401 - every mapper must exist before the first query
    from crm.auth.actor import SYSTEM
    from crm.auth.passwords import Passwords
    from crm.compliance.crypto import PiiCipher, PiiKeyring
    from crm.compliance.pii import PiiVault
    from crm.db import Database
    from crm.demo import seed
    from crm.migrate import upgrade_to_head

    upgrade_to_head(url)
    database = Database()
    database.configure(url)
    try:
        with database.unit_of_work(SYSTEM) as session:
            seed(session, Passwords(1, 1024), PiiVault(PiiCipher(PiiKeyring.from_json(pii_keys))))
    finally:
        database.engine.dispose()
    for name, _kind, _cities in ORGS:
        set_org_settings(url, name, **noon_settings())


def add_agents(
    url: str, pii_keys: str, usernames: list[str], leads_each: int = 0, rng_seed: int = 1
) -> None:
    """HQ agents in the demo's Beijing team (password DEMO_PASSWORD), each owning `leads_each`
    new leads with random mobile numbers."""
    from crm.auth.actor import SYSTEM
    from crm.auth.passwords import Passwords
    from crm.compliance.crypto import PiiCipher, PiiKeyring
    from crm.compliance.pii import PiiVault
    from crm.db import Database
    from crm.leads.intake import LeadDraft, lead_columns
    from crm.leads.models import Lead
    from crm.orgs.models import Org, Team, User

    vault = PiiVault(PiiCipher(PiiKeyring.from_json(pii_keys)))
    rng = random.Random(rng_seed)
    database = Database()
    database.configure(url)
    try:
        with database.unit_of_work(SYSTEM) as session:
            org = session.scalars(select(Org).where(Org.kind == "hq")).one()
            team = session.scalars(select(Team).where(Team.org_id == org.id)).first()
            password_hash = Passwords(1, 1024).hash(DEMO_PASSWORD)
            users = [
                User(
                    username=name,
                    display_name=name,
                    role="agent",
                    org_id=org.id,
                    team_id=team.id if team else None,
                    password_hash=password_hash,
                )
                for name in usernames
            ]
            session.add_all(users)
            session.flush()
            now = datetime.now(UTC)
            rows = []
            phones = rng.sample(range(10**8), len(users) * leads_each)
            for n, phone in enumerate(phones):
                draft = LeadDraft(phone=f"139{phone:08d}", source="bench", amount_wanted=Decimal(1))
                row = lead_columns(vault, draft, org.id, None, now)
                row["owner_id"], row["claimed_at"] = users[n // leads_each].id, now
                rows.append(row)
            if rows:
                session.execute(insert(Lead), rows)
    finally:
        database.engine.dispose()


def set_org_settings(url: str, org_name: str, **changes: Any) -> dict:
    """Write an org's settings straight into the database, before any server runs (tests of a
    running server use PATCH /orgs/{id}/settings). Returns the settings as they were."""
    from crm.auth.actor import SYSTEM
    from crm.db import Database
    from crm.orgs.models import Org

    database = Database()
    database.configure(url)
    try:
        with database.unit_of_work(SYSTEM) as session:
            org = session.scalars(select(Org).where(Org.name == org_name)).one()
            before = dict(org.settings)
            org.settings = {**before, **changes}
    finally:
        database.engine.dispose()
    return before


@dataclass
class LiveServer:
    base: str
    database_url: str
    process: subprocess.Popen
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, username: str) -> str:
        if username not in self.tokens:
            response = requests.post(
                f"{self.base}/api/v1/auth/login",
                json={"username": username, "password": DEMO_PASSWORD},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["access_token"]
        return self.tokens[username]

    def api(self, username: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.login(username)}"}
        return requests.request(
            method, f"{self.base}/api/v1{path}", headers=headers, timeout=10, **kwargs
        )

    def console(self, username: str, namespace: str = "/dialer") -> Console:
        return Console(self.base, self.login(username), namespace)

    def claim_lead(self, username: str, city: str | None = None) -> dict:
        """The best public lead of the user's org, now theirs."""
        body = {"city": city} if city else {}
        response = self.api(username, "POST", "/leads/claim-next", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def revealed_phone(self, lead_id: int, manager: str = "manager") -> str:
        response = self.api(
            manager,
            "POST",
            f"/leads/{lead_id}/reveal",
            json={"fields": ["phone"], "purpose": "live dialer test"},
        )
        assert response.status_code == 200, response.text
        return response.json()["phone"]

    def calls(self, username: str, **filters: Any) -> list[dict]:
        response = self.api(username, "GET", "/calls", params=filters)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def wait_for_call(self, username: str, call_id: int, done: Callable, timeout=10.0) -> dict:
        """Polls the call log until the call satisfies `done` (or the time is up)."""
        deadline = time.monotonic() + timeout
        while True:
            [call] = [c for c in self.calls(username) if c["id"] == call_id]
            if done(call) or time.monotonic() > deadline:
                return call
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# production's settings (gevent worker, drain on SIGTERM); PORT comes from the environment
GUNICORN_GEVENT = ["-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]


def start_server(
    env_overrides: dict[str, str],
    database_url: str,
    folder: Path,
    command: Sequence[str] | None = None,
) -> LiveServer:
    """A server on a free port (PORT); `command` replaces the usual one (tests/topology.py
    starts what the systemd units start)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PII_KEYS", "ASYNC_MODE"}
        and not k.startswith(("SIM_", "TELEPHONY_"))
    }
    port = free_port()
    env.update(
        LOANLINE_INSTANCE=str(folder / "instance"),
        PORT=str(port),
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        **env_overrides,
    )
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"server-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command or _server_command(env),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{server.base}/healthz", timeout=2).raise_for_status()
            return server
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server(server)
                raise RuntimeError(f"server did not start:\n{server.log()[-3000:]}") from None
            time.sleep(0.1)


def _server_command(env: dict[str, str]) -> list[str]:
    """`python wsgi.py` (the embedded server); with ASYNC_MODE=gevent, gunicorn's gevent worker,
    as production serves (README)."""
    if env.get("ASYNC_MODE") == "gevent":
        return [sys.executable, *GUNICORN_GEVENT, "wsgi:app"]
    return [sys.executable, "wsgi.py"]


def stop_server(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """A new SQLite file, or a throw-away PostgreSQL schema when the suite runs on PostgreSQL
    (TEST_DATABASE_URL=postgresql+psycopg://...)."""
    from tests.services import pg_schema

    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith("postgresql"):
        with pg_schema(url) as schema_url:
            yield schema_url
    else:
        yield f"sqlite:///{folder / 'live.db'}"


@contextmanager
def serve(
    folder: Path, agents: Sequence[str] = (), leads_each: int = 0, **env: str
) -> Iterator[LiveServer]:
    """A server on a fresh database with the demo data and `agents`, each owning `leads_each`
    new leads (see add_agents)."""
    from crm.compliance.crypto import PiiKeyring

    pii_keys = PiiKeyring.generate_json()
    with fresh_database(folder) as url:
        prepare_database(url, pii_keys)
        if agents:
            add_agents(url, pii_keys, list(agents), leads_each)
        server = start_server({"PII_KEYS": pii_keys, **env}, url, folder)
        try:
            yield server
        finally:
            stop_server(server)


class Console:
    """A real Socket.IO client on one namespace that keeps every event it is sent."""

    def __init__(
        self,
        base: str,
        token: str | None,
        namespace: str = "/dialer",
        headers: dict[str, str] | None = None,
        transports: Sequence[str] = ("websocket",),
        cookies: dict[str, str] | None = None,
    ) -> None:
        """`headers` go with the first request only; `cookies` with every one (a polling
        session makes many), as a browser sends them."""
        self.namespace = namespace
        self.events: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self._changed = threading.Condition()
        http = requests.Session()
        http.cookies.update(cookies or {})
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.sio.on("*", self._record, namespace=namespace)
        self.sio.on("connect_error", self._refused, namespace=namespace)
        try:
            self.sio.connect(
                base,
                namespaces=[namespace],
                auth={"token": token} if token is not None else None,
                headers=headers or {},
                transports=list(transports),
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as exc:
            raise Refused(self.refusal) from exc

    def _record(self, event: str, data: Any = None) -> None:
        with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    def _refused(self, data: Any = None) -> None:
        self.refusal = data

    def call(self, event: str, data: dict | None = None, timeout: float = 10) -> dict:
        return self.sio.call(event, data or {}, namespace=self.namespace, timeout=timeout)

    def wait_for(
        self, event: str, where: Callable[[Any], bool] = lambda _: True, timeout: float = 10
    ) -> Any:
        """The first `event` whose data satisfies `where`, waiting for it to arrive."""
        found: list[Any] = []

        def arrived() -> bool:
            found.extend(d for name, d in self.events if name == event and where(d))
            return bool(found)

        self.wait_until(arrived, timeout, f"a matching {event!r}")
        return found[0]

    def wait_until(self, check: Callable[[], bool], timeout: float = 10, what: str = "") -> None:
        """Waits until `check()` (which may read self.events) holds, re-checking at each event."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what or 'change'} within {timeout}s: {self.events}")
                self._changed.wait(left)

    def states_of(self, agent_id: int) -> list[str]:
        """An agent's states as this wallboard saw them, oldest first."""
        return [
            agent["state"]
            for name, data in self.events
            if name == "agent_states"
            for agent in data["agents"]
            if agent["agent_id"] == agent_id
        ]

    def call_states(self, call_id: int) -> list[str]:
        return [d["state"] for e, d in self.events if e == "call_state" and d["call_id"] == call_id]

    def close(self) -> None:
        """Disconnects at once. The python-engineio client then waits 3 s for a close frame the
        server already sent (its read loop consumed it), so that wait runs in the background."""
        threading.Thread(target=self.sio.disconnect, daemon=True).start()


class Refused(Exception):
    """The server refused the connection; `reason` is what it said ({code, message})."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason


def refusals(base: str, attempts: dict[str, tuple[str | None, str]]) -> dict[str, dict | None]:
    """Tries each (token, namespace) connection, all at once; returns what each refusal said, as
    the client's connect_error handler got it ({message, data?}: python-socketio sends a
    ConnectionRefusedError's first argument as message, its second as data), or None for a
    connection that was accepted. At once, because a refused client sits out the 3 s close wait
    (see Console.close) inside connect()."""

    def attempt(token: str | None, namespace: str) -> dict | None:
        try:
            console = Console(base, token, namespace)
        except Refused as refused:
            return refused.reason
        console.close()
        return None

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = {name: pool.submit(attempt, *how) for name, how in attempts.items()}
        return {name: future.result() for name, future in futures.items()}
