"""Personal data: encrypted at rest, masked everywhere, revealed with permission and audited."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import PurePosixPath
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select, text

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import reencrypt_all, reencrypt_batch, reseal_documents
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.leads import uploads
from crm.leads.importer import ImportOptions, run_import, store_upload
from crm.leads.models import Lead, Upload
from crm.loans import contracts
from crm.loans.models import ApplicationDocument, Contract
from crm.loans.orphan_files import remove_orphan_files
from crm.loans.storage import DocumentNotFound, EncryptedStorage, LocalStorage, storage_key
from tests.loan_helpers import PDF, PNG, apply, make_lender, make_product, post, upload
from tests.pii_keys import retired_keys_removed

PHONE, ID_NUMBER, NAME = "13812345678", "11010519491231002X", "欧阳娜娜"
SHEET = "phone,name\n13800001111,张三\n".encode()


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
    _restart_with(monkeypatch, rotated)
    done = cli.invoke(args=["reencrypt-pii", "--batch-size", "3"])
    assert done.exit_code == 0, done.output
    assert "re-encrypted" in done.output and "under key k2" in done.output
    with db.unit_of_work(SYSTEM) as session:
        stored = session.get(Lead, lead.id)
        assert stored.pii_key_id == "k2"
        assert runtime.vault.reveal(stored.phone_enc, "phone") == "+8613911112222"


def _restart_with(monkeypatch, keyring_json: str) -> None:
    """The operator deployed `keyring_json` as PII_KEYS and restarted: the process holds it."""
    vault = PiiVault(PiiCipher(PiiKeyring.from_json(keyring_json)))
    monkeypatch.setattr(runtime, "vault", vault)
    monkeypatch.setattr(
        runtime, "documents", EncryptedStorage(runtime.documents.inner, vault.cipher)
    )


def _transaction():
    return db.unit_of_work(SYSTEM)


@pytest.fixture
def sealed(client, auth, make):
    """Under the keyring before rotation: two application documents, a sheet waiting for its
    import, one stored before sheets were sealed (0015) and one imported (blanked), and two
    contract versions: the first with its PDF rendered (by its job), the second not yet."""
    org = make.org("hq")
    admin = auth.login("admin", org=org)
    agent = make.user("agent", org=org)
    headers = auth.headers_for(agent.username)
    lead = make.lead(org=org, owner=agent, name=NAME)
    product = make_product(client, admin, make_lender(client, admin))
    application = apply(client, headers, lead.id, product["id"])
    documents = {}
    for content, filename in ((PNG, "身份证.png"), (PDF, "流水.pdf")):
        added = upload(client, headers, application["id"], content, filename)
        assert added.status_code == 201, added.json
        documents[added.json["id"]] = content
    with db.unit_of_work(SYSTEM) as session:
        actor = actor_for_user(session, agent.id)
    with db.unit_of_work(actor) as session:
        waiting = store_upload(session, actor, runtime.vault, "名单.csv", SHEET)
        before_0015 = Upload(org_id=org.id, filename="旧.csv", content=SHEET, uploaded_by=agent.id)
        session.add(before_0015)
        imported = store_upload(session, actor, runtime.vault, "已导入.csv", SHEET)
        run_import(session, actor, runtime.vault, imported.id, ImportOptions(), lambda _: None)
        session.flush()
        sheets = {"waiting": waiting.id, "before_0015": before_0015.id, "imported": imported.id}
    post(client, headers, f"/applications/{application['id']}/submit")
    reviewer = auth.login("reviewer", org=org)
    post(client, reviewer, f"/applications/{application['id']}/decision", {"approved": True})
    rendered = post(client, headers, f"/applications/{application['id']}/contract")
    assert rendered.status_code == 201, rendered.json
    with db.unit_of_work(actor) as session:  # generated without its job: the PDF is pending
        contracts.generate(session, actor, runtime.documents, runtime.vault, application["id"])
    with db.unit_of_work(SYSTEM) as session:
        keys = dict(
            session.execute(select(ApplicationDocument.id, ApplicationDocument.storage_key)).all()
        )
        versions = {
            c.version: SimpleNamespace(pdf_key=c.pdf_key, html=c.html_sha256, pdf=c.pdf_sha256)
            for c in session.scalars(select(Contract))
        }
    assert versions[1].pdf and not versions[2].pdf
    return SimpleNamespace(
        application_id=application["id"],
        headers=headers,
        documents=documents,
        keys=keys,
        sheets=sheets,
        contracts=versions,
    )


def test_after_rotation_sheets_and_documents_open_without_the_retired_key(
    app, client, sealed, monkeypatch
):
    """Rotation moved only leads: a sheet waiting for its import and every application document
    stayed under the old key, and taking that key out of PII_KEYS made them unreadable."""
    rotated = PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json()
    _restart_with(monkeypatch, rotated)

    first = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100, document_batch=1)
    again = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100, document_batch=1)

    assert (first["lead_sheets"], first["documents"], first["documents_missing"]) == (2, 2, 0)
    assert (first["contracts"], first["contracts_missing"]) == (2, 0)
    assert set(again.values()) == {0}
    _restart_with(monkeypatch, retired_keys_removed(rotated))
    with db.unit_of_work(SYSTEM) as session:
        waiting, before_0015, imported = (
            session.get(Upload, sealed.sheets[name])
            for name in ("waiting", "before_0015", "imported")
        )
        assert waiting.sealed and before_0015.sealed
        for sheet in (waiting, before_0015):
            assert uploads.content_of(runtime.vault.cipher, sheet) == SHEET
        assert (imported.content, imported.result["created"]) == (b"", 1)
        moved = dict(
            session.execute(select(ApplicationDocument.id, ApplicationDocument.storage_key)).all()
        )
    for document_id, content in sealed.documents.items():
        url = f"/api/v1/applications/{sealed.application_id}/documents/{document_id}"
        got = client.get(url, headers=sealed.headers)
        assert got.status_code == 200 and got.data == content
        # written anew under a key of its own; the file under the retired key is gone
        assert moved[document_id] != sealed.keys[document_id]
        with pytest.raises(DocumentNotFound):
            runtime.documents.inner.get(sealed.keys[document_id])


def test_after_rotation_contracts_open_without_the_retired_key_and_match_their_hashes(
    app, client, sealed, monkeypatch
):
    """Both versions' HTML is encrypted again and the rendered PDF written anew under a key of
    its own; the pending PDF has no file to move and is rendered under the new key when it is
    first downloaded. The hashes, of the plaintext, still prove every download."""
    rotated = PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json()
    _restart_with(monkeypatch, rotated)

    first = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100, document_batch=1)
    again = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100, document_batch=1)

    assert (first["contracts"], first["contracts_missing"]) == (2, 0)
    assert (again["contracts"], again["contracts_missing"]) == (0, 0)
    _restart_with(monkeypatch, retired_keys_removed(rotated))
    base = f"/api/v1/applications/{sealed.application_id}"
    pdf_sha256 = {}
    for version, before in sealed.contracts.items():
        html = client.get(f"{base}/contracts/{version}.html", headers=sealed.headers)
        assert html.status_code == 200 and NAME in html.get_data(as_text=True)
        assert hashlib.sha256(html.data).hexdigest() == before.html
        pdf = client.get(f"{base}/contracts/{version}.pdf", headers=sealed.headers)
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        pdf_sha256[version] = hashlib.sha256(pdf.data).hexdigest()
    listed = client.get(base, headers=sealed.headers).json["contracts"]
    assert {c["version"]: c["pdf_sha256"] for c in listed} == pdf_sha256
    rendered, pending = sealed.contracts[1], sealed.contracts[2]
    assert pdf_sha256[1] == rendered.pdf  # the same PDF, sealed anew
    with db.unit_of_work(SYSTEM) as session:
        now = {c.version: c for c in session.scalars(select(Contract))}
        assert {runtime.vault.cipher.key_id_of(c.html) for c in now.values()} == {"k2"}
        assert now[1].pdf_key != rendered.pdf_key and now[2].pdf_key == pending.pdf_key
    with pytest.raises(DocumentNotFound):  # the file under the retired key is gone
        runtime.documents.inner.get(rendered.pdf_key)


class RefusesToDelete(LocalStorage):
    """A document folder where removing one file fails, as on a read-only mount."""

    def __init__(self, root, refused: str) -> None:
        super().__init__(root)
        self.refused = refused

    def delete(self, key: str) -> None:
        if key == self.refused:
            raise PermissionError(f"cannot remove {key}")
        super().delete(key)


def test_an_old_file_that_cannot_be_deleted_leaves_the_rest_of_its_batch_deleted(
    app, client, sealed, monkeypatch
):
    """A batch's old files are deleted once it commits; one refused delete used to end the
    loop, leaving the batch's later old files on disk under the key being retired. Now each is
    tried, and the run stops with the failure, the file it could not remove named in the log."""
    rotated = PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json()
    _restart_with(monkeypatch, rotated)
    first, second = sorted(sealed.keys)
    stuck = RefusesToDelete(runtime.documents.inner.root, sealed.keys[first])

    with pytest.raises(PermissionError):
        reencrypt_all(
            _transaction, runtime.vault, EncryptedStorage(stuck, runtime.vault.cipher), 100
        )

    assert stuck.get(sealed.keys[first])  # left behind: its delete failed
    with pytest.raises(DocumentNotFound):
        stuck.get(sealed.keys[second])
    _restart_with(monkeypatch, retired_keys_removed(rotated))
    for document_id, content in sealed.documents.items():
        url = f"/api/v1/applications/{sealed.application_id}/documents/{document_id}"
        got = client.get(url, headers=sealed.headers)
        assert got.status_code == 200 and got.data == content


def test_files_no_row_names_are_removed_by_the_daily_job_once_a_day_old(
    app, client, sealed, monkeypatch
):
    """What a failed delete or a crash between storing a file and committing its row leaves:
    personal data nothing reads or deletes. The retention job removes such files once a day
    old, and what an interrupted store left, never a file a row names."""
    _restart_with(monkeypatch, PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json())
    first = sorted(sealed.keys)[0]
    stuck = RefusesToDelete(runtime.documents.inner.root, sealed.keys[first])
    with pytest.raises(PermissionError):  # the old copy of the first document stays
        reencrypt_all(
            _transaction, runtime.vault, EncryptedStorage(stuck, runtime.vault.cipher), 100
        )
    crashed = storage_key(1, sealed.application_id, ".png")  # stored, its row never committed
    runtime.documents.put(crashed, PNG)
    interrupted = runtime.documents.root / PurePosixPath(crashed).parent / ".tmp-k3j2h1"
    interrupted.write_bytes(b"half a file")
    orphans = [sealed.keys[first], crashed]

    young = remove_orphan_files(_reading, runtime.documents, utcnow())
    assert young == {"orphan_files_removed": 0, "abandoned_files_removed": 0}
    assert all(runtime.documents.inner.get(key) for key in orphans) and interrupted.exists()

    later = remove_orphan_files(_reading, runtime.documents, utcnow() + timedelta(days=2))
    # earlier tests' rolled-back rows left files in the same folder: at least ours went
    assert later["orphan_files_removed"] >= 2 and later["abandoned_files_removed"] >= 1
    for key in orphans:
        with pytest.raises(DocumentNotFound):
            runtime.documents.inner.get(key)
    assert not interrupted.exists()
    base = f"/api/v1/applications/{sealed.application_id}"
    for document_id, content in sealed.documents.items():
        got = client.get(f"{base}/documents/{document_id}", headers=sealed.headers)
        assert got.status_code == 200 and got.data == content
    pdf = client.get(f"{base}/contracts/1.pdf", headers=sealed.headers)
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.data).hexdigest() == sealed.contracts[1].pdf


def _reading():
    return db.unit_of_work(SYSTEM, readonly=True)


def test_a_batch_of_documents_stops_once_it_has_read_its_bytes(app, sealed, monkeypatch):
    """A batch's rows stay locked until it commits (on SQLite, the whole database), so large
    scans make smaller batches: one document at least."""
    _restart_with(monkeypatch, PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json())
    first, second = sorted(sealed.keys)
    budget = len(sealed.documents[first])
    with _transaction() as session:
        one = reseal_documents(session, runtime.documents, first - 1, 100, byte_budget=budget)
    with _transaction() as session:
        rest = reseal_documents(session, runtime.documents, one.last_id, 100, byte_budget=1)
    assert (one.last_id, one.resealed, rest.last_id, rest.resealed) == (first, 1, second, 1)


def test_a_contract_whose_pdf_is_gone_is_counted_and_its_html_still_moves(
    app, client, sealed, monkeypatch
):
    runtime.documents.delete(sealed.contracts[1].pdf_key)
    rotated = PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json()
    _restart_with(monkeypatch, rotated)

    counts = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100)

    assert (counts["contracts"], counts["contracts_missing"]) == (2, 1)
    _restart_with(monkeypatch, retired_keys_removed(rotated))
    url = f"/api/v1/applications/{sealed.application_id}/contracts/1.html"
    html = client.get(url, headers=sealed.headers)
    assert html.status_code == 200
    assert hashlib.sha256(html.data).hexdigest() == sealed.contracts[1].html


def test_a_document_whose_file_is_gone_is_counted_and_the_rest_still_move(app, sealed, monkeypatch):
    lost, kept = sorted(sealed.keys)
    runtime.documents.delete(sealed.keys[lost])
    _restart_with(monkeypatch, PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json())

    counts = reencrypt_all(_transaction, runtime.vault, runtime.documents, 100)

    assert (counts["documents"], counts["documents_missing"]) == (1, 1)
    with db.unit_of_work(SYSTEM) as session:
        document = session.get(ApplicationDocument, kept)
        assert runtime.documents.get(document.storage_key) == sealed.documents[kept]


def test_reencrypt_pii_reports_what_it_moved(app, make, sealed, monkeypatch):
    _restart_with(monkeypatch, PiiKeyring.from_json(app.config["SETTINGS"].pii_keys).rotated_json())

    done = app.test_cli_runner().invoke(args=["reencrypt-pii"])

    assert done.exit_code == 0, done.output
    assert "2 lead sheets, 2 documents and 2 contracts under key k2" in done.output


def test_rotating_the_keyring_of_the_secrets_file_moves_documents_too(
    app, sealed, monkeypatch, tmp_path
):
    """The command re-encrypts at once here, in a process whose document storage must seal with
    the new key as its vault does."""
    settings = app.config["SETTINGS"]
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"PII_KEYS": settings.pii_keys}))
    monkeypatch.setitem(app.config, "SETTINGS", replace(settings, secrets_file=secrets))
    for name in ("vault", "documents"):  # the command replaces them; put back after the test
        monkeypatch.setattr(runtime, name, getattr(runtime, name))

    done = app.test_cli_runner().invoke(args=["rotate-pii-key"])

    assert done.exit_code == 0, done.output
    assert "2 lead sheets, 2 documents and 2 contracts under key k2" in done.output
    _restart_with(monkeypatch, retired_keys_removed(json.loads(secrets.read_text())["PII_KEYS"]))
    with db.unit_of_work(SYSTEM) as session:
        for document_id, content in sealed.documents.items():
            key = session.get(ApplicationDocument, document_id).storage_key
            assert runtime.documents.get(key) == content
