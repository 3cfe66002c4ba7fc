"""Retention: leads idle past the org's `retention_days` are de-identified in place, others are
untouched, aggregates stay exact, and the phone number can come back as a new lead; uploaded
lead sheets go once their import can no longer need them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.compliance.models import AuditEntry
from crm.compliance.retention import retire_expired
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.followups.models import Followup
from crm.followups.schemas import NewFollowup
from crm.followups.service import add_followup
from crm.funnel.stages import change_stage
from crm.leads import uploads
from crm.leads.importer import ImportOptions, run_import, store_upload
from crm.leads.models import Lead, LeadEvent, Upload
from crm.orgs.schemas import OrgSettings
from crm.reports.funnel import channel_report, funnel_report
from crm.reports.service import Period

pytestmark = pytest.mark.integration

DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)
RETENTION_DAYS = 60


def _transaction():
    return db.unit_of_work(SYSTEM)


@pytest.fixture
def now():
    # the app's clock, as the job reads it
    return utcnow()


@pytest.fixture
def world(make, now):
    """An org keeping data 60 days: leads on both sides of the limit, some worked on."""
    org = make.org(settings=OrgSettings(retention_days=RETENTION_DAYS).model_dump())
    manager = make.user("manager", org=org)
    limit = now - RETENTION_DAYS * DAY
    leads = {
        "created just past the limit": make.lead(org, created_at=limit - MINUTE, source="抖音"),
        "created just inside": make.lead(org, created_at=limit + MINUTE, source="抖音"),
        "worked on long ago": make.lead(
            org, created_at=limit - 30 * DAY, source="百度", id_number="11010519491231002X"
        ),
        "old but followed up lately": make.lead(org, created_at=limit - 30 * DAY, source="百度"),
        "old but claimed lately": make.lead(
            org, created_at=limit - 30 * DAY, claimed_at=limit + MINUTE, owner_id=manager.id
        ),
    }
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager.id)
    _work(
        actor,
        leads["worked on long ago"].id,
        at=limit - 20 * DAY,
        lost="客户说利息太高, 老婆不同意",
    )
    _work(actor, leads["old but followed up lately"].id, at=limit + 2 * DAY)
    return org, manager, actor, {name: lead.id for name, lead in leads.items()}


def _work(actor, lead_id: int, at, lost: str | None = None) -> None:
    with db.unit_of_work(actor) as session:
        note = NewFollowup(channel="call", content="客户张伟, 住朝阳区, 电话13912345678")
        add_followup(session, actor, lead_id, note, now=at)
        if lost:
            lead = session.get(Lead, lead_id)
            change_stage(session, actor, lead, "lost", lost, now=at + MINUTE)


def _lead(lead_id: int) -> Lead:
    with db.unit_of_work(SYSTEM) as session:
        return session.get(Lead, lead_id)


def _reports(actor, now):
    with db.unit_of_work(actor, readonly=True) as session:
        period = Period(now - 400 * DAY, now + DAY)
        return (
            funnel_report(session, actor, period, "source"),
            funnel_report(session, actor, period, "agent"),
            channel_report(session, actor, period),
        )


def test_only_leads_idle_past_the_limit_are_de_identified(world, now):
    _, _, _, ids = world

    result = retire_expired(_transaction, runtime.vault, now)

    assert result == {"deidentified": 2}
    retired = {name for name, lead_id in ids.items() if _lead(lead_id).name_enc is None}
    assert retired == {"created just past the limit", "worked on long ago"}
    kept = _lead(ids["created just inside"])
    assert runtime.vault.reveal(kept.phone_enc, "phone").startswith("+86")


def test_a_de_identified_lead_keeps_nothing_personal(world, now):
    _, _, _, ids = world
    lead_id = ids["worked on long ago"]

    retire_expired(_transaction, runtime.vault, now)

    lead = _lead(lead_id)
    assert (lead.name_enc, lead.name_masked, lead.id_number_enc, lead.id_number_bidx) == (
        None,
        None,
        None,
        None,
    )
    assert lead.birth_year is None and lead.lost_reason is None
    assert runtime.vault.reveal(lead.phone_enc, "phone") == ""
    assert lead.phone_masked == ""
    assert (lead.stage, lead.source) == ("lost", "百度")  # what reports count stays
    with db.unit_of_work(SYSTEM) as session:
        followups = session.scalars(select(Followup.content).where(Followup.lead_id == lead_id))
        events = session.scalars(select(LeadEvent.data).where(LeadEvent.lead_id == lead_id))
        assert set(followups) == {""}
        assert "老婆" not in str(list(events))


def test_funnel_and_channel_reports_are_the_same_before_and_after(world, now):
    _, _, actor, _ = world
    before = _reports(actor, now)

    retire_expired(_transaction, runtime.vault, now)

    assert _reports(actor, now) == before


def test_the_phone_number_can_come_back_as_a_new_lead(world, now, client, auth):
    org, _, _, ids = world
    phone = runtime.vault.show(_lead(ids["created just past the limit"]).phone_enc, "phone")
    headers = auth.login("manager", org=org)
    body = {"name": "新客户", "phone": phone, "source": "回流"}
    body["consent"] = {"given_at": now.isoformat(), "method": "web_form", "text_version": "v1"}
    assert client.post("/api/v1/leads", json=body, headers=headers).status_code == 409

    retire_expired(_transaction, runtime.vault, now)

    created = client.post("/api/v1/leads", json=body, headers=headers)
    assert created.status_code == 201, created.json


def test_a_second_run_touches_nothing_and_each_run_is_audited_with_counts(world, now):
    org, _, _, ids = world

    first = retire_expired(_transaction, runtime.vault, now, batch_size=1)
    second = retire_expired(_transaction, runtime.vault, now)

    assert (first, second) == ({"deidentified": 2}, {"deidentified": 0})
    with db.unit_of_work(SYSTEM) as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.org_id == org.id, AuditEntry.action == "retention_deidentify"
            )
        ).all()
    # batches of one: an entry per batch, together naming every lead once
    assert sorted(lead for e in entries for lead in e.details["lead_ids"]) == sorted(
        [ids["created just past the limit"], ids["worked on long ago"]]
    )
    assert sum(e.details["leads"] for e in entries) == 2
    assert all(e.user_id is None and e.purpose == "no activity for 60 days" for e in entries)


def test_the_retention_command_runs_the_job_now(app, world):
    _, _, _, ids = world

    result = app.test_cli_runner().invoke(args=["retention"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "deidentified: 2, reminders pruned: 0, uploads purged: 0,"
        " orphan files removed: 0, abandoned files removed: 0"
    )
    assert _lead(ids["worked on long ago"]).name_enc is None


def _stored_sheet(actor, age: timedelta, imported: bool) -> int:
    """An upload made `age` ago, imported (its result stored, its sheet blanked) or not."""
    with db.unit_of_work(actor) as session:
        upload = store_upload(session, actor, runtime.vault, "名单.csv", b"phone\n13800001111\n")
        if imported:
            run_import(session, actor, runtime.vault, upload.id, ImportOptions(), lambda _: None)
        session.execute(
            update(Upload).where(Upload.id == upload.id).values(created_at=utcnow() - age)
        )
        return upload.id


def _upload_ids() -> set[int]:
    with db.unit_of_work(SYSTEM) as session:
        return set(session.scalars(select(Upload.id)))


def test_uploads_a_week_old_are_deleted_unless_still_holding_an_imported_sheet(make, now):
    """A sheet whose import was refused or failed for good stayed forever, with the names,
    phones and ID numbers of everyone on it."""
    manager = make.user("manager")
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager.id)
    week = uploads.KEEP_DAYS * DAY
    ids = {
        "never imported, past the week": _stored_sheet(actor, week + MINUTE, imported=False),
        "never imported, inside the week": _stored_sheet(actor, week - MINUTE, imported=False),
        "imported, past the week": _stored_sheet(actor, week + MINUTE, imported=True),
        "imported, inside the week": _stored_sheet(actor, week - MINUTE, imported=True),
        "a result but its sheet still there": _stored_sheet(actor, week + DAY, imported=True),
    }
    with db.unit_of_work(SYSTEM) as session:
        # what no import leaves behind: whatever wrote it, the sheet is not deleted unseen
        upload = session.get(Upload, ids["a result but its sheet still there"])
        upload.content = uploads.seal(runtime.vault.cipher, upload.id, b"phone\n13800001111\n")

    first = uploads.purge_uploads(_transaction, now, batch_size=1)
    second = uploads.purge_uploads(_transaction, now)

    assert (first, second) == ({"uploads_purged": 2}, {"uploads_purged": 0})
    kept = {name for name, upload_id in ids.items() if upload_id in _upload_ids()}
    assert kept == {
        "never imported, inside the week",
        "imported, inside the week",
        "a result but its sheet still there",
    }


def test_the_retention_job_deletes_a_sheet_left_behind(app, make):
    manager = make.user("manager")
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, manager.id)
    left = _stored_sheet(actor, uploads.KEEP_DAYS * DAY + MINUTE, imported=False)

    result = app.test_cli_runner().invoke(args=["retention"])

    assert result.exit_code == 0, result.output
    assert "uploads purged: 1" in result.output
    assert left not in _upload_ids()
