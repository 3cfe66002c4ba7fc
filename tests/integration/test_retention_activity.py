"""Retention de-identifies leads with no activity for `retention_days`; a lead an agent
claimed and released yesterday has had activity."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.compliance.retention import retire_expired
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.leads.models import Lead
from crm.orgs.schemas import OrgSettings
from crm.pools import service as pools
from tests.integration.test_claims import as_user

DAY = timedelta(days=1)


def test_a_lead_claimed_and_released_yesterday_is_not_de_identified(make):
    now = utcnow()
    org = make.org(settings=OrgSettings(retention_days=60).model_dump())
    agent = make.user("agent", org=org)
    # an old pool lead (bought 90 days ago), picked up yesterday and handed back the same day
    lead = make.lead(org=org, phone="13900001111", name="欧阳锋", created_at=now - 90 * DAY)
    as_user(agent, pools.claim, lead.id, now=now - DAY)
    as_user(agent, pools.release, lead.id, "客户说下周再联系", now=now - DAY + timedelta(hours=1))

    result = retire_expired(lambda: db.unit_of_work(SYSTEM), runtime.vault, now)

    with db.unit_of_work(SYSTEM) as session:
        stored = session.scalars(select(Lead).where(Lead.id == lead.id)).one()
        assert result["deidentified"] == 0, "the lead worked yesterday was de-identified"
        assert stored.phone_masked == "139****1111"
        assert stored.name_masked == "欧**"
