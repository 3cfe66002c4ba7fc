"""Liveness and readiness: `GET /healthz` and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from crm import __version__
from crm.extensions import db, runtime
from crm.openapi import build_openapi

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"db": _check_db(), "redis": _check_redis()}
    if checks["db"] != "ok":
        status, code = "down", 503
    elif checks["redis"] == "down":
        # reads still work; queued jobs and cross-process socket events do not
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return jsonify({"status": status, **checks, "version": __version__}), code


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
