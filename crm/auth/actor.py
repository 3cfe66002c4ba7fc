"""Who is acting: the authenticated user with permissions, passed to every service call."""

from __future__ import annotations

from dataclasses import dataclass

from crm.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    org_id: int | None
    role: str
    team_id: int | None
    permissions: frozenset[str]
    ip: str | None = None

    @property
    def sees_all_orgs(self) -> bool:
        return "orgs:all" in self.permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this action needs the '{permission}' permission")


# Background jobs, the CLI and login (which must find a user before knowing their org) act as the
# system; everything a user asks for runs with that user's Actor instead.
SYSTEM = Actor(
    user_id=None, org_id=None, role="system", team_id=None, permissions=frozenset({"orgs:all"})
)
