"""Personal data: encrypted at rest, masked everywhere, revealed with permission and audited."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from crm.auth.actor import SYSTEM
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import reencrypt_batch
from crm.extensions import db, runtime
from crm.leads.models import Lead

PHONE, ID_NUMBER, NAME = "13812345678", "11010519491231002X", "欧阳娜娜"


def _all_rows_as_text() -> str:
    with db.unit_of_work(SYSTEM) as session:
        conn = session.connection()
        tables = inspect(conn).get_table_names()
        return "\n".join(
            str(row) for table in tables for row in conn.execute(text(f'SELECT * FROM "{table}"'))
        )


def test_no_plain_personal_data_is_stored_anywhere(make):
    make.lead(phone=PHONE, id_number=ID_NUMBER, name=NAME)
    dump = _all_rows_as_text()
    assert "2345678" not in dump  # not even the masked-away middle with the tail
    assert ID_NUMBER not in dump and ID_NUMBER[6:14] not in dump
    assert NAME not in dump and "阳娜" not in dump


def test_reveal_needs_the_permission(client, make, auth):
    org = make.org("hq")
    lead = make.lead(org=org, phone=PHONE)
    response = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=auth.login("agent", org=org),
        json={"fields": ["phone"], "purpose": "回访客户确认需求"},
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_reveal_returns_values_and_writes_the_audit_log(client, make, auth):
    org = make.org("hq")
    lead = make.lead(org=org, phone=PHONE, id_number=ID_NUMBER, name=NAME)
    manager = make.user("manager", org=org)
    headers = auth.headers_for(manager.username)
    response = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=headers,
        json={"fields": ["phone", "id_number", "name"], "purpose": "客户要求核对身份证信息"},
    )
    assert response.status_code == 200
    assert response.json == {
        "lead_id": lead.id,
        "phone": PHONE,
        "id_number": ID_NUMBER,
        "name": NAME,
    }
    entries = client.get(f"/api/v1/audit?lead_id={lead.id}", headers=headers).json["items"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["action"] == "reveal" and entry["user_id"] == manager.id
    assert entry["fields"] == ["id_number", "name", "phone"]
    assert entry["purpose"] == "客户要求核对身份证信息" and entry["ip"]
    kinds = [
        e["kind"]
        for e in client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json["items"]
    ]
    assert kinds == ["reveal", "created"]


def test_reveal_needs_a_purpose(client, make, auth):
    org = make.org("hq")
    lead = make.lead(org=org)
    response = client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=auth.login("manager", org=org),
        json={"fields": ["phone"]},
    )
    assert response.status_code == 422


def test_audit_log_is_scoped_to_the_org(client, make, auth):
    mine, theirs = make.org("partner"), make.org("partner")
    lead = make.lead(org=theirs)
    client.post(
        f"/api/v1/leads/{lead.id}/reveal",
        headers=auth.login("partner_admin", org=theirs),
        json={"fields": ["phone"], "purpose": "核实号码有效性"},
    )
    items = client.get("/api/v1/audit", headers=auth.login("partner_admin", org=mine)).json["items"]
    assert items == []


def test_key_rotation_keeps_every_lead_readable(make, app):
    leads = [make.lead(phone=f"1390000{i:04d}", name=f"测试{i}") for i in range(5)]
    old_keyring = PiiKeyring.from_json(app.config["SETTINGS"].pii_keys)
    new_vault = PiiVault(PiiCipher(PiiKeyring.from_json(old_keyring.rotated_json())))
    with db.unit_of_work(SYSTEM) as session:
        moved = 0
        while batch := reencrypt_batch(session, new_vault, batch_size=2):
            moved += batch
        assert moved >= len(leads)
        ids = [lead.id for lead in leads]
        for lead in session.scalars(select(Lead).where(Lead.id.in_(ids))):
            assert lead.pii_key_id == new_vault.active_key_id
            assert new_vault.cipher.key_id_of(lead.phone_enc) == new_vault.active_key_id
            assert new_vault.reveal(lead.phone_enc, "phone").startswith("+86139")
            assert new_vault.reveal(lead.name_enc, "name").startswith("测试")
            # the blind index did not change, so lookups still find the lead
            assert lead.phone_bidx == runtime.vault.phone_index(
                new_vault.reveal(lead.phone_enc, "phone")
            )


def test_rotation_from_the_cli_deploy_then_reencrypt(make, app, monkeypatch):
    lead = make.lead(phone="13911112222")
    cli = app.test_cli_runner()
    printed = cli.invoke(args=["rotate-pii-key"])
    assert printed.exit_code == 0, printed.output
    rotated = printed.output.strip().splitlines()[-1]
    assert PiiKeyring.from_json(rotated).active_key_id == "k2"
    # the operator deploys the new PII_KEYS and restarts: the process now holds the new keyring
    monkeypatch.setattr(runtime, "vault", PiiVault(PiiCipher(PiiKeyring.from_json(rotated))))
    done = cli.invoke(args=["reencrypt-pii", "--batch-size", "3"])
    assert done.exit_code == 0, done.output
    assert "re-encrypted" in done.output
    with db.unit_of_work(SYSTEM) as session:
        stored = session.get(Lead, lead.id)
        assert stored.pii_key_id == "k2"
        assert runtime.vault.reveal(stored.phone_enc, "phone") == "+8613911112222"
