"""PostgreSQL connections for a gevent worker: waits that skip gevent's hub when they can.

Under gevent psycopg waits for its socket with gevent's poll(), which starts watchers and
switches to the hub on every wait, even when the socket is ready already: writable to send a
query, or holding the answer. Claim-next's pipelined round trips (crm/pools/pipelined.py) make
a dozen such waits: through gevent's poll they cost more than the round trips they save, a
tenth of a claim's instructions (docs/benchmarks.md, seventh session). Here each wait
first asks the operating system whether the socket is ready (poll with no timeout, the real
one); only a wait that would block goes through the hub, so other greenlets run meanwhile."""

from __future__ import annotations

import sys
from collections.abc import Generator
from select import POLLIN, POLLOUT
from typing import Any

import psycopg
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_W
from sqlalchemy import Engine, event


def gevent_patched() -> bool:
    """Whether gevent has patched `select`: psycopg then waits through gevent (as it detects)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("select")


def connect_cooperatively(engine: Engine) -> None:
    """New connections of `engine` are CooperativeConnections (call once gevent has patched)."""
    from gevent import monkey

    CooperativeConnection.poll = monkey.get_original("select", "poll")

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]):
        return CooperativeConnection.connect(*cargs, **cparams)


class CooperativeConnection(psycopg.Connection[Any]):
    poll: Any = None  # the operating system's poll(), not gevent's

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        return super().wait(self._ready_first(gen), interval, timeout)

    def _ready_first(self, gen: Generator[int, int, Any]) -> Generator[int, int, Any]:
        """`gen`'s waits answered at once while its socket is ready; the others passed on to
        psycopg's own wait (gevent's)."""
        fileno = self.pgconn.socket
        try:
            state = next(gen)
            while True:
                ready = self._ready_now(fileno, state)
                if ready == READY_NONE:
                    ready = yield state
                state = gen.send(ready)
        except StopIteration as done:
            return done.value

    def _ready_now(self, fileno: int, state: int) -> int:
        poller = self.poll()
        poller.register(
            fileno, (POLLIN if state & WAIT_R else 0) | (POLLOUT if state & WAIT_W else 0)
        )
        ready = READY_NONE
        for _fd, events in poller.poll(0):
            ready |= (READY_R if events & POLLIN else 0) | (READY_W if events & POLLOUT else 0)
        return ready
