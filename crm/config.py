"""One Settings object read from the environment, with safe defaults for the embedded mode."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm.compliance.crypto import PiiKeyring

ROOT = Path(__file__).resolve().parent.parent
ASYNC_MODES = ("threading", "gevent")


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    pii_keys: str
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # argon2id cost; lowered only by tests, where hashing hundreds of users would dominate the run
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    testing: bool = False
    # embedded mode only: run jobs in the requesting thread instead of the background pool
    jobs_synchronous: bool = False
    # telephony: the built-in simulated carrier unless a provider adapter is configured
    telephony_gateway: str = "simulated"
    telephony_webhook_secret: str | None = None
    sim_answer_rate: float = 0.6
    sim_busy_rate: float = 0.1
    sim_invalid_rate: float = 0.03
    sim_ring_seconds: tuple[float, float] = (2.0, 8.0)
    sim_talk_seconds: tuple[float, float] = (20.0, 180.0)
    sim_time_scale: float = 1.0
    sim_seed: int = 2026
    # a console back within this many seconds of its last socket closing finds its call up
    console_grace_seconds: float = 20.0
    # the Redis pub/sub channel of Socket.IO's message queue: deployments sharing one Redis
    # must each have their own, or consoles get the other deployment's events
    socketio_channel: str = "flask-socketio"
    # how Socket.IO serves consoles: "threading" (the embedded default: Werkzeug, in-process jobs
    # get real threads) or "gevent" (production web processes under `gunicorn -k gevent`: one
    # greenlet per console instead of three OS threads, see docs/benchmarks.md)
    async_mode: str = "threading"
    # application documents and contract PDFs (crm/loans/storage.py): outside the web root; with
    # several machines, a folder they all mount (default: <instance>/documents)
    documents_path: Path | None = None
    # proxies in front that set X-Forwarded-For/-Proto (1 behind nginx): without it every
    # request seems to come from the proxy, and the per-IP login limit locks out everyone
    proxy_hops: int = 0
    # where SECRET_KEY/PII_KEYS were generated, when they did not come from the environment
    secrets_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """No Redis: jobs run in-process and Socket.IO has no message queue."""
        return not self.redis_url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "instance_path": Path(env.get("LOANLINE_INSTANCE", ROOT / "instance")),
            "database_url": env.get("DATABASE_URL"),
            "secret_key": env.get("SECRET_KEY"),
            "pii_keys": env.get("PII_KEYS"),
            "redis_url": env.get("REDIS_URL") or None,
            "host": env.get("HOST", "127.0.0.1"),
            "port": int(env.get("PORT", "5000")),
            "telephony_gateway": env.get("TELEPHONY_GATEWAY", "simulated"),
            "telephony_webhook_secret": env.get("TELEPHONY_WEBHOOK_SECRET") or None,
            "sim_answer_rate": float(env.get("SIM_ANSWER_RATE", "0.6")),
            "sim_busy_rate": float(env.get("SIM_BUSY_RATE", "0.1")),
            "sim_invalid_rate": float(env.get("SIM_INVALID_RATE", "0.03")),
            "sim_ring_seconds": _seconds_range(env, "SIM_RING_SECONDS", "2-8"),
            "sim_talk_seconds": _seconds_range(env, "SIM_TALK_SECONDS", "20-180"),
            "socketio_channel": env.get("SOCKETIO_CHANNEL") or "flask-socketio",
            "async_mode": _async_mode(env),
            "sim_time_scale": float(env.get("SIM_TIME_SCALE", "1.0")),
            "sim_seed": int(env.get("SIM_SEED", "2026")),
            "console_grace_seconds": float(env.get("CONSOLE_GRACE_SECONDS", "20")),
            "documents_path": Path(env["DOCUMENTS_PATH"]) if env.get("DOCUMENTS_PATH") else None,
            "proxy_hops": int(env.get("PROXY_HOPS", "0")),
        }
        values.update(overrides)
        instance = Path(values["instance_path"])
        values["instance_path"] = instance
        values["database_url"] = values["database_url"] or f"sqlite:///{instance / 'loanline.db'}"
        if not (values["secret_key"] and values["pii_keys"]):
            generated = _generated_secrets(instance)
            values["secrets_file"] = instance / "secrets.json"
            values["secret_key"] = values["secret_key"] or generated["SECRET_KEY"]
            values["pii_keys"] = values["pii_keys"] or generated["PII_KEYS"]
        return cls(**values)


def _async_mode(env: Mapping[str, str]) -> str:
    mode = env.get("ASYNC_MODE") or "threading"
    if mode not in ASYNC_MODES:
        raise ValueError(f"ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {mode!r}")
    return mode


def _seconds_range(env: Mapping[str, str], name: str, default: str) -> tuple[float, float]:
    """Seconds as "2-8" (uniformly between) or "5" (always); the carrier checks the range."""
    text = env.get(name) or default
    low, _, high = text.partition("-")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise ValueError(f"{name} must be seconds like 5 or 2-8, not {text!r}") from None


def _generated_secrets(instance: Path) -> dict[str, str]:
    """Secrets not given in the environment are generated once into instance/ (never the repo)."""
    path = instance / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance.mkdir(parents=True, exist_ok=True)
    values = {"SECRET_KEY": secrets.token_urlsafe(48), "PII_KEYS": PiiKeyring.generate_json()}
    # created 0600 before anything is written so the keys are never world-readable
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values
