"""Work that busy paths mark and a background thread does once per interval, for all marks.

A call end, a disposition: each changes something derived (an org's wallboard figures, a lead's
score) that is costly to work out and need not be exact to the millisecond. Doing it inside
every event's transaction made the agent's ack wait for it and repeated it for every event of a
busy floor. Marking is a set insert; the thread does each marked key's work once per tick."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    def __init__(self, name: str, handle: Callable[[set[K]], None], interval: float) -> None:
        self._name, self._handle, self._interval = name, handle, interval
        self._marked: set[K] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def mark(self, key: K) -> None:
        """`key`'s work is due: done at the next tick, once however often it was marked."""
        with self._lock:
            self._marked.add(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def drain(self) -> None:
        """Do the work of every key marked since the last time, now."""
        with self._lock:
            marked, self._marked = self._marked, set()
        if marked:
            self._handle(marked)

    def _run(self) -> None:
        while True:  # as long as the process
            time.sleep(self._interval)
            try:
                self.drain()
            except Exception:  # a database hiccup must not stop the work for good
                log.exception("%s failed", self._name)
