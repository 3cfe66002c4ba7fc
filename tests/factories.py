"""Factory functions for test data; each builds a valid object and takes overrides."""

from __future__ import annotations

import itertools
from functools import cached_property

from crm.auth.actor import SYSTEM
from crm.db import Database, utcnow
from crm.extensions import db, runtime
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import OrgSettings

_seq = itertools.count(1)


class Factory:
    PASSWORD = "correct-horse-battery"

    def __init__(self, database: Database | None = None) -> None:
        # tests that commit for real (several connections at once) pass their own database
        self.database = database

    @cached_property
    def _password_hash(self) -> str:
        return runtime.auth.passwords.hash(self.PASSWORD)

    def org(self, kind: str = "hq", **fields) -> Org:
        n = next(_seq)
        fields.setdefault("name", f"{kind}-org-{n}")
        fields.setdefault("cities", ["深圳"] if kind == "partner" else ["北京"])
        fields.setdefault("settings", OrgSettings().model_dump())
        return self._save(Org(kind=kind, **fields))

    def team(self, org: Org | None = None, **fields) -> Team:
        org = org or self.org()
        fields.setdefault("name", f"team-{next(_seq)}")
        return self._save(Team(org_id=org.id, **fields))

    def user(self, role: str = "agent", org: Org | None = None, **fields) -> User:
        if org is None:
            org = self.org("partner" if role.startswith("partner") else "hq")
        fields.setdefault("username", f"{role}{next(_seq)}")
        fields.setdefault("display_name", fields["username"])
        fields.setdefault("password_hash", self._password_hash)
        return self._save(User(role=role, org_id=org.id, **fields))

    def lead(
        self, org: Org | None = None, phone: str | None = None, owner: User | None = None, **fields
    ) -> Lead:
        org = org or self.org()
        draft_fields = {k: fields.pop(k) for k in list(fields) if k in LeadDraft.__slots__}
        draft_fields.setdefault("name", "张三")
        draft_fields.setdefault("source", "web_form")
        draft = LeadDraft(phone=phone or f"138{next(_seq):08d}", **draft_fields)
        columns = lead_columns(runtime.vault, draft, org.id, None, utcnow())
        columns.update(fields)
        if owner is not None:
            columns["owner_id"] = owner.id
        return self._save(Lead(**columns))

    def _save(self, obj):
        with (self.database or db).unit_of_work(SYSTEM) as session:
            session.add(obj)
        return obj
