"""How a job pushes an event to consoles: in embedded mode through the web process's own
Socket.IO server; with REDIS_URL through a write-only emitter on the message queue, which the web
processes relay to whichever of them holds the room (Flask-SocketIO's "emitting from an external
process"), so a worker opens no listener of its own."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_socketio import SocketIO

from crm.extensions import runtime, socketio


def push(event: str, data: dict[str, Any], room: str, namespace: str) -> None:
    settings = runtime.settings
    url = settings.redis_url
    emitter = _emitter(url, settings.socketio_channel) if url else socketio
    emitter.emit(event, data, to=room, namespace=namespace)


@cache
def _emitter(url: str, channel: str) -> SocketIO:
    # no app: Flask-SocketIO then builds a write-only client manager
    return SocketIO(message_queue=url, channel=channel)
