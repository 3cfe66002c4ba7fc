"""What every telephony gateway offers and reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

EventState = Literal["ringing", "answered", "ended"]
# why a call ended, as gateways report it
END_REASONS = (
    "agent_hangup",
    "callee_hangup",
    "no_answer",
    "busy",
    "invalid_number",
    "failed",
    "console_lost",
    "server_restart",
    "server_lost",
)


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A state change of a call, pushed by the gateway (callback) or posted to the webhook."""

    call_ref: str  # our call id, given to the gateway at originate: events may beat our commit
    state: EventState
    at: datetime
    end_reason: str | None = None
    recording_url: str | None = None


@dataclass(frozen=True, slots=True)
class Originated:
    gateway_call_id: str  # the provider's own id, kept for its records and support tickets
    # AXB: the middle number both sides see instead of each other's (None without privacy)
    privacy_number: str | None = None


EventSink = Callable[[CallEvent], None]


class Gateway(Protocol):
    """A provider places calls and reports their progress to `sink` (or to the webhook)."""

    name: str
    supports_privacy_numbers: bool

    def originate(
        self,
        *,
        call_ref: str,
        caller_id: str,
        callee_e164: str,
        agent_ref: str,
        privacy: bool,
        sink: EventSink,
    ) -> Originated: ...

    def hangup(self, call_ref: str) -> None: ...
