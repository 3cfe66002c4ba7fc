"""Job: end the open calls of dialer server processes that stopped beating (dialer/servers.py)."""

from __future__ import annotations

from crm.extensions import runtime


def run() -> dict[str, int]:
    """How many calls ended as server_lost; a call ends once, so a repeated run ends none."""
    return {"ended": runtime.dialer.close_lost_calls()}
