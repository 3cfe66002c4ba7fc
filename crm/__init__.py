"""Loanline CRM: the Flask application factory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from dialer.console import DialerNamespace

__version__ = "0.1.0"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides Settings fields (tests pass a database URL, costs)."""
    import crm.model_registry  # noqa: F401 - every mapper must exist before the first query
    from crm import metrics
    from crm.config import Settings
    from crm.extensions import db, runtime, socketio
    from crm.http import NoSessions, behind_proxies, register_error_handlers
    from crm.logs import redact_personal_data
    from crm.serving import SocketIORoute
    from crm.web import init_web

    settings = Settings.from_env(**(config or {}))
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.session_interface = NoSessions()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    redact_personal_data()

    db.configure(settings.database_url)
    runtime.configure(settings)
    socketio.init_app(
        app,
        message_queue=settings.redis_url,
        channel=settings.socketio_channel,
        async_mode=settings.async_mode,
        cors_allowed_origins=[],
    )
    # around Socket.IO's middleware too, so a console's address is the browser's
    app.wsgi_app = behind_proxies(SocketIORoute(app.wsgi_app), settings.proxy_hops)
    _register_blueprints(app)
    init_web(app)
    consoles = _register_namespaces()
    metrics.init_app(app, consoles=lambda: len(consoles.actors))
    register_error_handlers(app)
    _register_cli(app)
    if settings.embedded and not settings.testing:
        from workers.scheduler import start_embedded

        app.extensions["scheduler"] = start_embedded(runtime.jobs)
    return app


def _register_blueprints(app: Flask) -> None:
    from crm import health, jobs_api
    from crm.auth import api as auth_api
    from crm.commissions import api as commissions_api
    from crm.compliance import api as compliance_api
    from crm.exports import api as exports_api
    from crm.followups import api as followups_api
    from crm.leads import api as leads_api
    from crm.leads import sources_api
    from crm.loans import api as loans_api
    from crm.loans import applications_api, book_api, collections_api
    from crm.notifications import api as notifications_api
    from crm.orgs import api as orgs_api
    from crm.pools import api as pools_api
    from crm.pools import assign_api
    from crm.reports import api as reports_api
    from crm.scoring import api as scoring_api
    from dialer import api as dialer_api

    for module in (
        health,
        auth_api,
        orgs_api,
        leads_api,
        sources_api,
        compliance_api,
        exports_api,
        jobs_api,
        notifications_api,
        assign_api,
        followups_api,
        pools_api,
        reports_api,
        scoring_api,
        dialer_api,
        loans_api,
        applications_api,
        book_api,
        collections_api,
        commissions_api,
    ):
        app.register_blueprint(module.bp)


def _register_namespaces() -> DialerNamespace:
    """The Socket.IO namespaces; returns the consoles' one (/metrics counts its connections)."""
    from crm.extensions import socketio
    from dialer.console import DialerNamespace
    from dialer.wallboard import WallboardNamespace

    consoles = DialerNamespace()
    socketio.on_namespace(consoles)
    socketio.on_namespace(WallboardNamespace())
    return consoles


def _register_cli(app: Flask) -> None:
    from crm import cli

    cli.register(app)
