"""Garbage-collector settings for long batch work (re-scores, exports).

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
