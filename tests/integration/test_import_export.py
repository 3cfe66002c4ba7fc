"""Importing the messy sample sheets and exporting leads safely."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from crm.auth.actor import SYSTEM
from crm.auth.service import actor_for_user
from crm.compliance.crypto import PiiDecryptError
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.leads import uploads
from crm.leads.importer import ImportOptions, run_import, store_upload
from crm.leads.models import Lead, Upload
from tests.sample_data import SAMPLE_DATA

SHEETS = ["leads_sample_gbk.csv", "leads_sample.xlsx"]


def import_file(manager, content: bytes, filename: str, **options):
    with db.unit_of_work(manager_actor := _actor(manager)) as session:
        upload = store_upload(session, manager_actor, runtime.vault, filename, content)
        return run_import(
            session,
            manager_actor,
            runtime.vault,
            upload.id,
            ImportOptions(**options),
            progress=lambda _: None,
        )


def _actor(user):
    from crm.auth.actor import SYSTEM

    with db.unit_of_work(SYSTEM) as session:
        return actor_for_user(session, user.id)


def lead_count(org_id: int) -> int:
    from crm.auth.actor import SYSTEM

    with db.unit_of_work(SYSTEM) as session:
        return session.scalar(select(func.count()).where(Lead.org_id == org_id))


@pytest.mark.parametrize("filename", SHEETS)
def test_sample_sheet_imports_with_exact_counts(make, filename):
    manager = make.user("manager")
    result = import_file(
        manager,
        (SAMPLE_DATA / filename).read_bytes(),
        filename,
        source="采购名单",
        consent_method="vendor",
        consent_text_version="v1",
    )
    assert result["rows"] == 322
    assert result["created"] == 300
    assert result["duplicates"] == result["duplicates_in_file"] == 12
    assert Counter(i["code"] for i in result["invalid"]) == {
        "invalid_phone": 6,
        "invalid_id_number": 4,
    }
    assert lead_count(manager.org_id) == 300
    # the 12 repeats are the documented spellings of numbers already in the sheet
    assert all(d["first_row"] < d["row"] for d in result["duplicate_rows"])


def test_importing_the_same_sheet_again_creates_nothing(make):
    manager = make.user("manager")
    content = (SAMPLE_DATA / SHEETS[0]).read_bytes()
    import_file(manager, content, SHEETS[0])
    again = import_file(manager, content, SHEETS[0])
    assert again["created"] == 0
    assert again["duplicates_in_database"] == 300
    assert all("lead_id" in d for d in again["duplicate_rows"] if d["in"] == "database")
    assert lead_count(manager.org_id) == 300


def test_truncated_workbook_stores_nothing(make):
    manager = make.user("manager")
    content = (SAMPLE_DATA / "leads_sample.xlsx").read_bytes()
    with pytest.raises(DomainError) as refused:
        import_file(manager, content[: len(content) // 2], "leads_sample.xlsx")
    assert refused.value.code == "unreadable_file"
    assert lead_count(manager.org_id) == 0


def test_sheet_without_a_phone_column_is_refused(make):
    manager = make.user("manager")
    with pytest.raises(DomainError) as refused:
        import_file(manager, "姓名,城市\n张三,北京\n".encode(), "x.csv")
    assert refused.value.code == "missing_columns"


def test_column_mapping_reads_unknown_headers(make):
    manager = make.user("manager")
    content = "客户,客户手机,说明\n张三,13800001234,老客户\n".encode()
    result = import_file(
        manager, content, "x.csv", mapping={"name": "客户", "phone": "客户手机", "remark": "说明"}
    )
    assert result["created"] == 1


def test_imported_qualifications_are_parsed(make, client, auth):
    manager = make.user("manager")
    import_file(manager, (SAMPLE_DATA / SHEETS[0]).read_bytes(), SHEETS[0])
    items = client.get(
        "/api/v1/leads?per_page=200", headers=auth.headers_for(manager.username)
    ).json["items"]
    assert any(lead["qualifications"].get("house") == "mortgaged" for lead in items)
    assert any(lead["amount_wanted"] == "300000.00" for lead in items)
    assert all(lead["source"] for lead in items)


def _export(client, headers, fmt="csv", **params):
    query = {"format": fmt, "per_page": 1000, **params}
    response = client.get("/api/v1/leads/export", query_string=query, headers=headers)
    assert response.status_code == 200
    return response


def test_csv_export_is_masked_and_neutralises_formulas(make, client, auth):
    manager = make.user("manager")
    import_file(manager, (SAMPLE_DATA / SHEETS[0]).read_bytes(), SHEETS[0])
    headers = auth.headers_for(manager.username)
    text = _export(client, headers).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 301
    phone_col, remark_col = rows[0].index("手机号码"), rows[0].index("备注")
    assert all("****" in row[phone_col] for row in rows[1:])
    remarks = [row[remark_col] for row in rows[1:] if row[remark_col]]
    assert any(r.startswith("'=") for r in remarks) and any(r.startswith("'+") for r in remarks)
    assert not any(cell[:1] in "=+-@" for row in rows[1:] for cell in row if cell)
    audit = client.get("/api/v1/audit?action=export", headers=headers).json["items"]
    assert audit[0]["details"]["rows"] == 300 and audit[0]["details"]["masked"] is True


def test_xlsx_export_has_no_formula_cells(make, client, auth):
    manager = make.user("manager")
    import_file(manager, (SAMPLE_DATA / SHEETS[0]).read_bytes(), SHEETS[0])
    content = _export(client, auth.headers_for(manager.username), "xlsx").data
    sheet = load_workbook(io.BytesIO(content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert any(str(cell.value).startswith("=HYPERLINK") for cell in cells)


def _exported_phones(client, headers, **params) -> set[str]:
    rows = list(
        csv.reader(io.StringIO(_export(client, headers, **params).data.decode("utf-8-sig")))
    )
    return {row[rows[0].index("手机号码")] for row in rows[1:]}


def test_admin_export_with_pii_export_and_a_purpose_shows_full_values(make, client, auth):
    admin = make.user("admin")
    make.lead(org=make.org("hq"), phone="13987654321")
    headers = auth.headers_for(admin.username)
    purpose = "报送资金方复核名单"
    assert "13987654321" in _exported_phones(client, headers, purpose=purpose)
    [entry] = client.get("/api/v1/audit?action=export", headers=headers).json["items"]
    assert entry["purpose"] == purpose and entry["details"]["masked"] is False
    assert entry["method"] == "api GET /api/v1/leads/export"


def test_admin_export_without_a_purpose_is_masked(make, client, auth):
    admin = make.user("admin")
    make.lead(org=make.org("hq"), phone="13987654322")
    phones = _exported_phones(client, auth.headers_for(admin.username))
    assert "13987654322" not in phones and "139****4322" in phones


def _upload(client, headers, content: bytes, filename: str, **form):
    return client.post(
        "/api/v1/leads/import",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), filename), **form},
    )


def test_import_through_the_api_reports_the_job_result(client, make, auth):
    partner = make.org("partner")
    headers = auth.login("partner_admin", org=partner)
    accepted = _upload(
        client,
        headers,
        (SAMPLE_DATA / SHEETS[1]).read_bytes(),
        SHEETS[1],
        source="展会",
        mapping='{"phone": "手机号码"}',
    )
    assert accepted.status_code == 202, accepted.json
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers).json
    assert job["status"] == "finished" and job["progress"] == 1.0
    assert (job["result"]["created"], job["result"]["duplicates"]) == (300, 12)
    assert len(job["result"]["invalid"]) == 10
    other = client.get(
        f"/api/v1/jobs/{accepted.json['job_id']}", headers=auth.login("partner_admin")
    )
    assert other.status_code == 404


def test_broken_upload_fails_the_job_with_its_reason(client, make, auth):
    headers = auth.login("manager")
    content = (SAMPLE_DATA / "leads_sample.xlsx").read_bytes()
    accepted = _upload(client, headers, content[:5000], "leads_sample.xlsx")
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers).json
    assert job["status"] == "failed"
    assert job["error"]["code"] == "unreadable_file"
    assert client.get("/api/v1/leads", headers=headers).json["total"] == 0


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": {}}, 422, "missing_file"),
        ({"data": {"file": (io.BytesIO(b""), "x.csv")}}, 422, "empty_file"),
        (
            {"data": {"file": (io.BytesIO(b"a,b\n"), "x.csv"), "mapping": "{not json"}},
            422,
            "validation_error",
        ),
    ],
)
def test_bad_uploads_are_refused_at_once(client, auth, kwargs, status, code):
    response = client.post(
        "/api/v1/leads/import",
        headers=auth.login("manager"),
        content_type="multipart/form-data",
        **kwargs,
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_agents_cannot_import(client, auth):
    response = _upload(client, auth.login("agent"), b"phone\n13800001111\n", "x.csv")
    assert response.status_code == 403


def test_import_straight_into_a_pool_and_never_into_another_orgs(client, make, auth):
    org, other = make.org("hq"), make.org("partner")
    headers = auth.login("manager", org=org)
    pool = client.post("/api/v1/pools", json={"name": "深圳池", "city": "深圳"}, headers=headers)
    assert pool.status_code == 201, pool.json
    content = b"phone\n13800001111\n13800002222\n"
    accepted = _upload(client, headers, content, "x.csv", pool_id=str(pool.json["id"]))
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers).json
    assert job["result"]["created"] == 2
    pools = {p["id"]: p["unowned"] for p in client.get("/api/v1/pools", headers=headers).json}
    assert pools[pool.json["id"]] == 2
    foreign = client.post(
        "/api/v1/pools", json={"name": "成都池"}, headers=auth.login("partner_admin", org=other)
    ).json["id"]
    refused = _upload(client, headers, b"phone\n13800003333\n", "y.csv", pool_id=str(foreign))
    assert refused.status_code == 404
    assert client.get("/api/v1/leads", headers=headers).json["total"] == 2


SHEET = "姓名,手机号码\n欧阳锋,13812345678\n黄药师,13987654321\n".encode()


def stored_uploads(org_id: int) -> list:
    """What the database holds for the org's uploads, read past the ORM."""
    with db.unit_of_work(SYSTEM) as session:
        rows = session.execute(
            select(Upload.id, Upload.content, Upload.sealed).where(Upload.org_id == org_id)
        )
        return [(id_, bytes(content), sealed) for id_, content, sealed in rows]


def test_a_refused_sheet_stays_sealed_with_no_phone_or_name_readable(client, make, auth):
    manager = make.user("manager")
    headers = auth.headers_for(manager.username)
    accepted = _upload(client, headers, SHEET, "名单.csv", mapping='{"phone": "电话"}')
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers).json
    assert job["status"] == "failed"  # refused, so the sheet is kept (not blanked)

    [(upload_id, content, sealed)] = stored_uploads(manager.org_id)
    assert sealed and content
    for plain in (b"13812345678", b"13987654321", "欧阳锋".encode(), "手机号码".encode()):
        assert plain not in content
    with db.unit_of_work(SYSTEM) as session:
        assert uploads.content_of(runtime.vault.cipher, session.get(Upload, upload_id)) == SHEET


def test_sealed_bytes_moved_to_another_upload_do_not_open(make):
    manager = make.user("manager")
    actor = _actor(manager)
    with db.unit_of_work(actor) as session:
        first = store_upload(session, actor, runtime.vault, "a.csv", SHEET)
        second = store_upload(session, actor, runtime.vault, "b.csv", b"phone\n13800001111\n")
        session.execute(update(Upload).where(Upload.id == second.id).values(content=first.content))
        session.expire_all()
        with pytest.raises(PiiDecryptError):
            run_import(session, actor, runtime.vault, second.id, ImportOptions(), lambda _: None)


def test_a_sheet_stored_before_sealing_still_imports_and_is_blanked(make):
    manager = make.user("manager")
    actor = _actor(manager)
    with db.unit_of_work(actor) as session:
        # as the release before 0015 stored it (and may, while an upgrade rolls out)
        old = Upload(
            org_id=manager.org_id, filename="旧.csv", content=SHEET, uploaded_by=actor.user_id
        )
        session.add(old)
        session.flush()
        result = run_import(session, actor, runtime.vault, old.id, ImportOptions(), lambda _: None)
    assert result["created"] == 2
    assert stored_uploads(manager.org_id) == [(old.id, b"", False)]
