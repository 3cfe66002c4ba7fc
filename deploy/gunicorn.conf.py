"""gunicorn settings of one web + Socket.IO process: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Read from the same environment as the app (docs/deploy.md): HOST and PORT say where to listen.
One worker per gunicorn, with the worker class Flask-SocketIO documents for gevent
(`gunicorn -k gevent -w 1`): a Socket.IO session lives in one process, and gunicorn cannot keep
a client on one of its workers, so a machine runs one gunicorn per core, each on its own port,
and nginx keeps each client on its process (deploy/nginx/loanline.conf)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = 1
# the async mode must match the worker class; wsgi.py reads it before importing the app
raw_env = ["ASYNC_MODE=gevent"]
# each console holds a connection (plus its HTTP calls): 1,000 agents over a few processes
worker_connections = 4000
# SIGTERM: stop accepting, drain (crm/serving.py), let requests in flight finish within this
graceful_timeout = 20
# idle connections from nginx (its upstream `keepalive`) close after this: longer than nginx's
# keepalive_timeout, so nginx never sends a request on a connection being closed here, and
# short, because a stopping process waits for them too
keepalive = 5
# several gunicorns on one machine would all claim the same default control socket
control_socket_disable = True
# no access log here: nginx writes one line per request already


def post_worker_init(worker):
    from crm.serving import drain_gunicorn_worker_on_sigterm

    drain_gunicorn_worker_on_sigterm(worker)


def worker_exit(server, worker):
    from crm.serving import wait_for_drain

    wait_for_drain(worker, graceful_timeout)
