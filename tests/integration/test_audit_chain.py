"""The audit log as evidence: every look at personal data is an entry with time, method, content
and purpose; each org's entries form a hash chain; editing or deleting one row in the database
makes verification (service, CLI, admin page, API) name it; anchors kept elsewhere catch a chain
rewritten with fresh hashes; retention and concurrent writers never break a chain."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from crm.auth.actor import SYSTEM
from crm.compliance import audit
from crm.compliance.anchors import anchor_heads
from crm.compliance.chain import GENESIS, entry_hash
from crm.compliance.models import AuditEntry, AuditHead
from crm.compliance.retention import retire_expired
from crm.compliance.verification import verify_org
from crm.db import Database, utcnow
from crm.extensions import db, runtime
from crm.migrate import alembic_config, upgrade_to_head
from crm.orgs.schemas import OrgSettings
from tests.integration.test_web_security import web_login
from tests.live_server import fresh_database

pytestmark = pytest.mark.integration


def reveal(client, headers, lead, purpose="回访核实客户身份") -> None:
    response = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=headers,
        json={"fields": ["phone"], "purpose": purpose},
    )
    assert response.status_code == 200, response.json


def entries(org_id: int) -> list[AuditEntry]:
    with db.unit_of_work(SYSTEM) as session:
        stmt = select(AuditEntry).where(AuditEntry.org_id == org_id).order_by(AuditEntry.seq)
        return list(session.scalars(stmt))


def sql(statement: str, **params) -> None:
    """Tampering as someone with database access would: one statement, no application code."""
    with db.unit_of_work(SYSTEM) as session:
        session.execute(text(statement), params)


def check(org_id: int, anchors=()):
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        return verify_org(session, org_id, anchors)


@pytest.fixture
def logged(client, make, auth):
    """An org whose manager revealed four leads' phones: four entries, #1 to #4."""
    org = make.org("hq")
    manager = make.user("manager", org=org)
    headers = auth.headers_for(manager.username)
    for n in range(4):
        reveal(client, headers, make.lead(org=org), purpose=f"第{n + 1}次回访核实")
    return org, entries(org.id)


def test_a_look_at_personal_data_is_an_entry_with_time_method_content_and_purpose(
    client, make, auth
):
    org = make.org("hq")
    lead = make.lead(org=org)
    manager = make.user("manager", org=org)
    before = utcnow()
    reveal(client, auth.headers_for(manager.username), lead, purpose="客户来电要求核对手机号")
    [entry] = entries(org.id)
    assert before <= entry.at <= utcnow()
    assert entry.method == f"api POST /api/v1/leads/{lead.id}/reveal"
    assert (entry.user_id, entry.lead_id, entry.fields) == (manager.id, lead.id, ["phone"])
    assert entry.purpose == "客户来电要求核对手机号"
    assert (entry.seq, entry.prev_hash, entry.hash) == (1, GENESIS, entry_hash(entry))


def test_each_org_has_its_own_chain(client, make, auth, logged):
    org, chain = logged
    assert [e.seq for e in chain] == [1, 2, 3, 4]
    assert [e.prev_hash for e in chain] == [GENESIS] + [e.hash for e in chain[:-1]]
    other = make.org("partner")
    reveal(client, auth.login("partner_admin", org=other), make.lead(org=other))
    [first] = entries(other.id)
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert check(org.id).intact and check(other.id).intact
    assert check(org.id).entries == 4


@pytest.mark.parametrize(
    "change",
    [
        "purpose = '例行抽查'",
        "user_id = NULL",
        "at = at",  # rewritten as it was: still intact (the control)
        'fields = \'["phone", "id_number"]\'',
        "lead_id = lead_id + 1",
    ],
)
def test_an_edited_row_is_named(logged, change):
    org, chain = logged
    sql(f"UPDATE audit_log SET {change} WHERE id = :id", id=chain[2].id)
    report = check(org.id)
    if change == "at = at":
        assert report.intact
        return
    assert (report.first_break.seq, report.first_break.entry_id) == (3, chain[2].id)
    assert report.first_break.problem == "altered"
    assert f"entry #3 (id {chain[2].id})" in report.first_break.message


def test_a_deleted_row_is_named(logged):
    org, chain = logged
    sql("DELETE FROM audit_log WHERE id = :id", id=chain[1].id)
    gap = check(org.id).first_break
    assert (gap.seq, gap.entry_id, gap.problem) == (2, None, "missing")
    assert f"#1 (id {chain[0].id}) to #3 (id {chain[2].id})" in gap.message


def test_deleting_the_newest_rows_is_named_by_the_chain_head(logged):
    org, chain = logged
    sql("DELETE FROM audit_log WHERE id = :id", id=chain[3].id)
    tail = check(org.id).first_break
    assert (tail.seq, tail.entry_id, tail.problem) == (4, None, "missing")
    assert "the chain head records #4" in tail.message


def test_a_row_rewritten_with_a_fresh_hash_is_named(logged):
    org, chain = logged
    forged = chain[1]
    forged.purpose = "例行抽查"
    sql(
        "UPDATE audit_log SET purpose = :p, hash = :h WHERE id = :id",
        p=forged.purpose,
        h=entry_hash(forged),
        id=forged.id,
    )
    report = check(org.id).first_break
    assert (report.seq, report.entry_id, report.problem) == (2, forged.id, "rewritten")


def _rewrite_from_first_entry(org_id: int, chain: list[AuditEntry]) -> None:
    """What a careful forger with database access does: edit entry #1, re-hash every entry
    after it, the chain head and the stored anchors."""
    chain[0].purpose = "例行抽查"
    previous = GENESIS
    for entry in chain:
        entry.prev_hash = previous
        entry.hash = previous = entry_hash(entry)
        sql(
            "UPDATE audit_log SET purpose = :p, prev_hash = :prev, hash = :h WHERE id = :id",
            p=entry.purpose,
            prev=entry.prev_hash,
            h=entry.hash,
            id=entry.id,
        )
    sql("UPDATE audit_heads SET hash = :h WHERE org_id = :o", h=previous, o=org_id)
    sql("UPDATE audit_anchors SET hash = :h WHERE org_id = :o", h=previous, o=org_id)


def test_a_chain_rewritten_with_fresh_hashes_is_caught_by_anchors_kept_elsewhere(
    app, logged, tmp_path
):
    org, chain = logged
    cli = app.test_cli_runner()
    assert cli.invoke(args=["anchor-audit"]).exit_code == 0
    exported = cli.invoke(args=["export-audit-anchors"])
    kept = tmp_path / "anchors.jsonl"
    kept.write_text(exported.output)
    assert f'"org_id": {org.id}' in exported.output

    _rewrite_from_first_entry(org.id, chain)

    fooled = cli.invoke(args=["verify-audit", "--org", str(org.id)])
    assert fooled.exit_code == 0 and "intact" in fooled.output
    caught = cli.invoke(args=["verify-audit", "--org", str(org.id), "--anchors", str(kept)])
    assert caught.exit_code == 1
    assert f"BROKEN: entry #4 (id {chain[3].id}) of org {org.id} differs from the anchor" in (
        caught.output
    )


def test_verify_audit_prints_one_line_per_org_and_fails_on_a_break(app, logged):
    org, chain = logged
    cli = app.test_cli_runner()
    intact = cli.invoke(args=["verify-audit", "--org", str(org.id)])
    assert intact.exit_code == 0
    assert intact.output == f"org {org.id}: 4 entries, 0 anchors checked, intact\n"
    sql("UPDATE audit_log SET purpose = '例行抽查' WHERE id = :id", id=chain[0].id)
    broken = cli.invoke(args=["verify-audit", "--org", str(org.id)])
    assert broken.exit_code == 1
    assert f"BROKEN: entry #1 (id {chain[0].id}) of org {org.id} was altered" in broken.output


def test_the_admin_page_and_the_api_name_the_first_broken_entry_of_own_orgs_only(
    app, client, make, auth, logged
):
    org, chain = logged
    other = make.org("partner")
    reveal(client, auth.login("partner_admin", org=other), make.lead(org=other))
    sql("DELETE FROM audit_log WHERE id = :id", id=chain[1].id)

    admin = make.user("admin", org=org)
    browser = app.test_client()
    web_login(browser, admin.username)
    page = browser.get("/admin/audit-chain")
    assert page.status_code == 200
    assert "#2" in page.text and f"#1 (id {chain[0].id}) to #3" in page.text

    partner_admin = make.user("partner_admin", org=other)
    reports = client.get(
        "/api/v1/audit/verify", headers=auth.headers_for(partner_admin.username)
    ).json
    assert [(r["org_id"], r["intact"]) for r in reports] == [(other.id, True)]
    hq = client.get(
        f"/api/v1/audit/verify?org_id={org.id}", headers=auth.headers_for(admin.username)
    ).json
    assert hq[0]["first_break"]["seq"] == 2 and hq[0]["first_break"]["problem"] == "missing"


def test_anchors_are_one_per_org_and_day_and_listed_for_the_org(client, make, auth, logged):
    org, chain = logged
    with db.unit_of_work(SYSTEM) as session:
        assert anchor_heads(session, utcnow().date()) >= 1
        assert anchor_heads(session, utcnow().date()) == 0  # the day's first is kept
    items = client.get("/api/v1/audit/anchors", headers=auth.login("manager", org=org)).json
    mine = [a for a in items["items"] if a["org_id"] == org.id]
    assert mine == [
        {"org_id": org.id, "day": utcnow().date().isoformat(), "seq": 4, "hash": chain[3].hash}
    ]


def test_retention_keeps_every_chain_intact(client, make, auth):
    org = make.org("hq", settings=OrgSettings(retention_days=30).model_dump())
    lead = make.lead(org=org, created_at=utcnow() - timedelta(days=31))
    reveal(client, auth.login("manager", org=org), lead, purpose="到期前最后一次核实")
    done = retire_expired(lambda: db.unit_of_work(SYSTEM), runtime.vault, utcnow())
    assert done["deidentified"] >= 1
    kept, retired = entries(org.id)
    assert (kept.action, kept.purpose) == ("reveal", "到期前最后一次核实")
    assert (retired.action, retired.seq, retired.prev_hash) == (
        "retention_deidentify",
        2,
        kept.hash,
    )
    assert check(org.id).intact


def test_writers_at_the_same_time_take_turns_on_one_chain(tmp_path):
    """Eight threads, each its own transaction, appending to one org's log at once."""
    with fresh_database(tmp_path) as url:
        upgrade_to_head(url)
        database = Database()
        database.configure(url)
        try:
            with database.unit_of_work(SYSTEM) as session:
                org_id = session.execute(
                    text(
                        "INSERT INTO orgs (name, kind, cities, settings, created_at) VALUES "
                        "('busy', 'hq', '[]', '{}', :now) RETURNING id"
                    ),
                    {"now": utcnow()},
                ).scalar_one()

            def write(n: int) -> None:
                for k in range(5):
                    with database.unit_of_work(SYSTEM) as session:
                        audit.record(session, SYSTEM, "reveal", org_id, purpose=f"{n}-{k}")

            threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with database.unit_of_work(SYSTEM, readonly=True) as session:
                report = verify_org(session, org_id)
                head = session.get(AuditHead, org_id)
        finally:
            database.engine.dispose()
    assert report.intact and report.entries == 40 and head.seq == 40


def test_the_migration_chains_the_entries_already_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0011")
    database = Database()
    database.configure(url)
    try:
        with database.unit_of_work(SYSTEM) as session:
            for name in ("甲", "乙"):
                session.execute(
                    text(
                        "INSERT INTO orgs (name, kind, cities, settings, created_at) "
                        "VALUES (:n, 'partner', '[]', '{}', :now)"
                    ),
                    {"n": name, "now": utcnow()},
                )
            for org_id, purpose in [(1, "核实"), (2, "回访"), (1, "导出")]:
                session.execute(
                    text(
                        "INSERT INTO audit_log (org_id, at, action, fields, purpose, details) "
                        "VALUES (:o, :at, 'reveal', '[\"phone\"]', :p, '{\"n\": 1}')"
                    ),
                    {"o": org_id, "at": utcnow().replace(tzinfo=None), "p": purpose},
                )
        upgrade_to_head(url)
        with database.unit_of_work(SYSTEM, readonly=True) as session:
            reports = [verify_org(session, org_id) for org_id in (1, 2)]
            seqs = session.execute(select(AuditEntry.org_id, AuditEntry.seq)).all()
    finally:
        database.engine.dispose()
    assert [(r.entries, r.intact) for r in reports] == [(2, True), (1, True)]
    assert sorted(seqs) == [(1, 1), (1, 2), (2, 1)]
