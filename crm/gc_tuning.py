"""Garbage-collector settings for long batch work (re-scores, exports) and for serving.

A batch of a few thousand rows allocates hundreds of thousands of small objects that all live
until the batch ends; with CPython's default threshold (700 allocations) the collector walks
them again and again: a fifth of a million-lead re-score, a quarter of a de-identified export
(bench/scoring.py, bench/deidentified_export.py). Nothing in a batch forms reference cycles
worth collecting early, so a higher threshold costs no memory that matters. The threshold is
the process's: two such blocks overlapping on threads (embedded mode) restore it in the order
they end, which can leave it raised until the next block ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLD = 50_000


@contextmanager
def fewer_collections(threshold: int = BATCH_THRESHOLD) -> Iterator[None]:
    """Collect the youngest generation every `threshold` allocations while the block runs."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


# Serving: young collections every 5,000 allocations instead of 700 (a console event allocates
# thousands of short-lived objects), and a full collection ten times rarer than the default.
SERVING_THRESHOLDS = (5_000, 10, 100)


def for_serving() -> None:
    """Settle the collector for a web process, once its app is built.

    A process holding 500 consoles has a million live objects, and CPython's full collection
    walks every one: 100-300 ms in which no console of that process is answered, five or six
    times a minute, which was most of the dialer's p99 (bench/dialer_consoles.py). What exists
    once the app is built (modules, mappers, schemas: ~180,000 objects) lives as long as the
    process, so it is frozen out of every collection; the thresholds make the rest rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
