"""Server-rendered pages: one blueprint per page family, plus security, languages and login."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from crm.web import admin, auth, commissions, console, dashboards, i18n, leads, loans, security

    security.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    # one line per page family
    app.register_blueprint(leads.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(dashboards.bp)
    app.register_blueprint(loans.bp)
    app.register_blueprint(commissions.bp)
