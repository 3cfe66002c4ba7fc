"""How a web process serves and stops: the embedded server's sockets, and draining on SIGTERM.

A process told to stop (SIGTERM from systemd, a deploy, `kill`) drains: readiness answers 503 so
the load balancer sends nothing new, the calls it placed end as `server_shutdown` (pushed to the
consoles before they go), and its Socket.IO connections close at the Engine.IO level, which
clients take as a lost transport and reconnect, through nginx, to another process. In-flight
HTTP requests finish meanwhile (gunicorn's graceful timeout)."""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from crm.extensions import runtime, socketio

log = logging.getLogger(__name__)


class SocketIORoute:
    """Socket.IO's requests to its middleware, every other request straight to Flask.

    Flask-SocketIO puts its middleware around the whole app, so every API call paid for it: a
    copy of the WSGI environ and, under gunicorn, a class built anew for eventlet's WebSocket
    shim (engineio/middleware.py), garbage the collector then has to find: about 3% of a
    production process's CPU per claim (docs/benchmarks.md)."""

    def __init__(self, middleware: Any) -> None:
        self.socketio = middleware
        self.flask = middleware.wsgi_app
        self.prefix = middleware.engineio_path

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.socketio(environ, start_response)
        return self.flask(environ, start_response)


class NoDelayRequestHandler(WSGIRequestHandler):
    """The embedded server's connections send at once (TCP_NODELAY), so an ack right after an
    event does not wait for a delayed ACK. Set on each accepted connection: a polling request
    and the WebSocket a polling session upgrades to get it alike (gunicorn sets it on its
    listening socket, which accepted sockets inherit)."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def drain() -> int:
    """Stop being ready, end this process's calls, let its consoles go; returns the calls ended.
    Runs once however often the signal comes (systemd and gunicorn's arbiter both send it)."""
    if runtime.draining.is_set():
        return 0
    runtime.draining.set()
    ended = runtime.dialer.shut_down("server_shutdown")
    _close_connections()
    log.info("drained: %d call(s) ended as server_shutdown, consoles let go", ended)
    return ended


def _close_connections() -> None:
    """Close every Engine.IO connection of this process (both namespaces), without waiting.
    Engine.IO's own disconnect() waits until each polling client has fetched its close packet,
    which takes the client's next request: one this process may no longer accept."""
    eio = socketio.server.eio
    for sid in list(eio.sockets):
        connection = eio.sockets.pop(sid, None)
        if connection is not None:
            connection.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)


def drain_gunicorn_worker_on_sigterm(worker: Any) -> None:
    """gunicorn hook (post_worker_init): SIGTERM drains beside the worker's own graceful exit.

    The worker's handler only stops accepting; its run loop then waits for open connections,
    which a console holds until the drain closes it. The drain runs in a greenlet, as gunicorn
    does its own blocking signal work (a signal handler must not wait on the database)."""
    import gevent

    stop = worker.handle_exit

    def on_sigterm(signum: int, frame: Any) -> None:
        stop(signum, frame)
        if getattr(worker, "drain_greenlet", None) is None:
            worker.drain_greenlet = gevent.spawn(drain)

    signal.signal(signal.SIGTERM, on_sigterm)


def wait_for_drain(worker: Any, timeout: float) -> None:
    """gunicorn hook (worker_exit): a worker with no connections left exits at once; the drain
    must still finish writing its calls' ends."""
    greenlet = getattr(worker, "drain_greenlet", None)
    if greenlet is not None:
        greenlet.join(timeout)


def drain_embedded_on_sigterm() -> None:
    """`python wsgi.py`: SIGTERM drains, then the server exits (Werkzeug has no graceful stop)."""

    def on_sigterm(signum: int, frame: Any) -> None:
        drain()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_sigterm)
