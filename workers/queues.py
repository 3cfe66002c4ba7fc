"""The RQ queue names, declared once; workers serve them in this order (earlier ones first)."""

from __future__ import annotations

QUEUES: tuple[str, ...] = ("imports", "scoring", "privacy", "notifications", "reports", "default")
