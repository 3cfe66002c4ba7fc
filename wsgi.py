"""Entry point: `python wsgi.py` serves web + Socket.IO; gunicorn and the flask CLI import `app`."""

import os
import sys

if os.environ.get("ASYNC_MODE") == "gevent":
    # before anything imports socket, ssl or threading (gunicorn's gevent worker has already
    # patched by now; a second call changes nothing); psycopg sees the patch and waits cooperatively
    from gevent import monkey

    monkey.patch_all()

from crm import create_app  # imported after the patch, on purpose
from crm.extensions import db, socketio
from crm.gc_tuning import for_serving
from crm.serving import NoDelayRequestHandler, drain_embedded_on_sigterm
from dialer.operations import close_calls_left_open

app = create_app()
for_serving()

if __name__ == "__main__":
    settings = app.config["SETTINGS"]
    if settings.embedded:
        # one process serves every console here, so a call still open is one this server lost;
        # with several processes (REDIS_URL) a starting one must not end the others' calls
        close_calls_left_open(db)
    if "--live-demo" in sys.argv[1:] or os.environ.get("LIVE_DEMO") == "1":
        # simulated agents working today's leads, so the wallboard moves in a sales demo
        from crm.demo_world import live
        from crm.extensions import runtime

        live.start(db, runtime.dialer, runtime.vault, runtime.documents)
    drain_embedded_on_sigterm()
    print(f"Loanline is running at http://{settings.host}:{settings.port}/", flush=True)
    # The embedded mode serves from one process with Werkzeug; production runs gunicorn
    # (docs/deploy.md).
    werkzeug = (
        {"request_handler": NoDelayRequestHandler} if settings.async_mode == "threading" else {}
    )
    socketio.run(
        app, host=settings.host, port=settings.port, allow_unsafe_werkzeug=True, **werkzeug
    )
