"""Health for people and for machines: `GET /healthz` (what works), `/livez` (the process
answers: restart it if not), `/readyz` (send it traffic: no if its database or Redis is
unreachable or it is shutting down), and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from crm import __version__
from crm.extensions import db, runtime
from crm.openapi import build_openapi

bp = Blueprint("health", __name__)


# What stops working while Redis is unreachable; reading and editing leads, the pools, reports
# and the dialer's own process keep working on the database alone.
REDIS_FEATURES = (
    "jobs",  # imports, exports, batch scoring: enqueuing answers 503 jobs_unavailable
    "scheduled_jobs",  # recycling, reminders, retention and snapshots wait for the queue
    "live_events",  # console and wallboard pushes between processes (the message queue)
    "login_rate_limit",  # failed-login counting is shared through Redis
)


@bp.get("/healthz")
def healthz():
    checks = {"db": _check_db(), "redis": _check_redis()}
    degraded = list(REDIS_FEATURES) if checks["redis"] == "down" else []
    if checks["db"] != "ok":
        status, code = "down", 503
    elif degraded:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {"status": status, **checks, "version": __version__}
    if degraded:
        body["degraded"] = degraded
    return jsonify(body), code


@bp.get("/livez")
def livez():
    """Nothing but the process: a database outage must not get every web process restarted."""
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz():
    checks = {"db": _check_db(), "redis": _check_redis()}
    if runtime.draining.is_set():
        status = "draining"
    elif "down" in checks.values():
        status = "unready"
    else:
        status = "ready"
    return jsonify({"status": status, **checks}), 200 if status == "ready" else 503


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(build_openapi(current_app))


def _check_db() -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        return "down"


def _check_redis() -> str:
    if runtime.redis is None:
        return "embedded"
    try:
        runtime.redis.ping()
        return "ok"
    except Exception:
        return "down"
