"""One family of business errors, mapped to the JSON error shape in one place (crm/http.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a user can act on: machine-readable `code`, human `message`, HTTP `status`."""

    status = 422

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or {}
        # A refusal that must still leave a trace (e.g. revoking a stolen token's whole login):
        # the unit of work commits before the error reaches the caller.
        self.keep_changes = keep_changes


class NotFound(DomainError):
    """Missing, or belonging to another org: both answer 404 so existence never leaks."""

    status = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"{what} not found")


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str = "you do not have permission for this action") -> None:
        super().__init__("forbidden", message)


class Conflict(DomainError):
    status = 409
