"""Process-wide resources, created unconfigured and built by the app factory or worker entry."""

from __future__ import annotations

import threading

from flask_socketio import SocketIO
from redis import Redis

from crm.auth.passwords import Passwords
from crm.auth.ratelimit import FailureCounter, MemoryFailureCounter, RedisFailureCounter
from crm.auth.service import Authenticator
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.config import Settings
from crm.db import Database
from crm.loans.storage import EncryptedStorage, LocalStorage
from dialer.gateways.base import Gateway
from dialer.gateways.simulated import CarrierProfile, SimulatedCarrier
from dialer.operations import Dialer
from dialer.servers import Heartbeat
from workers.runner import InlineJobRunner, JobRunner, RQJobRunner

db = Database()
socketio = SocketIO()


class Runtime:
    """Everything besides the database that services need, configured from one Settings."""

    settings: Settings
    redis: Redis | None
    auth: Authenticator
    vault: PiiVault
    jobs: JobRunner
    dialer: Dialer
    documents: EncryptedStorage
    # set when the process starts shutting down (crm/serving.py): readiness fails from then on
    draining: threading.Event

    def configure(self, settings: Settings) -> None:
        self.settings = settings
        self.draining = threading.Event()
        self.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        failures: FailureCounter = (
            RedisFailureCounter(self.redis, settings.login_window_seconds)
            if self.redis is not None
            else MemoryFailureCounter(settings.login_window_seconds)
        )
        passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
        self.auth = Authenticator(settings, passwords, failures)
        self.vault = PiiVault(PiiCipher(PiiKeyring.from_json(settings.pii_keys)))
        # tests in one process place no calls of their own and need no heartbeat thread
        heartbeat = None if settings.testing else Heartbeat(db)
        self.dialer = Dialer(db, build_gateway(settings), self.vault, _push, heartbeat)
        self.documents = EncryptedStorage(
            LocalStorage(settings.documents_path or settings.instance_path / "documents"),
            self.vault.cipher,
        )
        self.jobs = (
            RQJobRunner(self.redis)
            if self.redis is not None
            else InlineJobRunner(synchronous=settings.jobs_synchronous)
        )


def build_gateway(settings: Settings) -> Gateway:
    if settings.telephony_gateway != "simulated":
        raise ValueError(f"unknown TELEPHONY_GATEWAY {settings.telephony_gateway!r}")
    return SimulatedCarrier(
        CarrierProfile(
            answer_rate=settings.sim_answer_rate,
            busy_rate=settings.sim_busy_rate,
            invalid_rate=settings.sim_invalid_rate,
            ring_seconds=settings.sim_ring_seconds,
            talk_seconds=settings.sim_talk_seconds,
            time_scale=settings.sim_time_scale,
            seed=settings.sim_seed,
        )
    )


def _push(event: str, data: dict, room: str, namespace: str) -> None:
    # with REDIS_URL set this goes through the message queue to whichever process holds the room
    socketio.emit(event, data, to=room, namespace=namespace)


runtime = Runtime()
