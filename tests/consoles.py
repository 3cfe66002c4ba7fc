"""A user's dialer console as the Socket.IO test client: what a job's push reaches."""

from __future__ import annotations

from crm.auth.tokens import issue_access_token
from crm.db import utcnow
from crm.extensions import socketio


def console_of(app, user):
    settings = app.config["SETTINGS"]
    token = issue_access_token(user.id, user.org_id, settings.secret_key, utcnow(), 15)
    console = socketio.test_client(app, namespace="/dialer", auth={"token": token})
    console.get_received("/dialer")  # what connecting sent
    return console
