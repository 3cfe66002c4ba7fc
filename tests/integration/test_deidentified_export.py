"""De-identified dataset exports: the file holds nobody's name, phone or ID number in any form,
its tokens join across runs, its masking report is right, and only the same org downloads it."""

from __future__ import annotations

import csv
import gzip
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.compliance.deidentify import Tokenizer, age_band
from crm.compliance.models import AuditEntry
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.leads.idcard import check_character

pytestmark = pytest.mark.integration


def id_number(region: str, born: str, serial: str) -> str:
    first17 = f"{region}{born}{serial}"
    return first17 + check_character(first17)


# six men born 1990 in 北京 (one group of 6) and one woman born 1960 in 上海 (a group of 1)
PEOPLE = [
    ("张伟", "13912345671", id_number("110105", "19900101", "123"), "北京"),
    ("王芳芳", "13912345672", id_number("110105", "19900202", "133"), "北京"),
    ("李娜", "13912345673", id_number("110105", "19900303", "143"), "北京"),
    ("刘洋", "13912345674", id_number("110105", "19900404", "153"), "北京"),
    ("陈静", "13912345675", id_number("110105", "19900505", "173"), "北京"),
    ("杨帆", "13912345676", id_number("110105", "19900606", "193"), "北京"),
    ("欧阳娜娜", "15887654321", id_number("310101", "19600707", "124"), "上海"),
]


@pytest.fixture
def org_with_leads(make):
    org = make.org()
    for name, phone, number, city in PEOPLE:
        make.lead(
            org,
            phone=phone,
            name=name,
            id_number=number,
            city=city,
            remark=f"{name}说再联系",
            amount_wanted=Decimal("8000"),
            qualifications={"provident_fund": True, "house": "owned"},
        )
    return org


def export(client, headers, **filters) -> tuple[dict, list[list[str]], str]:
    """Start an export and download it: (masking report, CSV rows, the file as text)."""
    accepted = client.post("/api/v1/exports/deidentified", json=filters, headers=headers)
    assert accepted.status_code == 202, accepted.json
    job_id = accepted.json["job_id"]
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert job["status"] == "finished", job
    download = client.get(f"/api/v1/exports/{job_id}/file", headers=headers)
    assert download.status_code == 200
    assert download.mimetype == "application/gzip"
    text = gzip.decompress(download.data).decode("utf-8")
    return job["result"], list(csv.reader(io.StringIO(text))), text


def phone_forms(national: str) -> list[str]:
    """The ways a broker (or a masking rule) writes a mainland mobile number."""
    a, b, c = national[:3], national[3:7], national[7:]
    return [
        national,
        f"+86{national}",
        f"86{national}",
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {a} {b} {c}",
        f"{a}****{c}",
        *(national[i : i + 5] for i in range(len(national) - 4)),
    ]


def id_forms(number: str) -> list[str]:
    return [
        number,
        f"{number[:6]}********{number[-4:]}",
        *(number[i : i + 5] for i in range(len(number) - 4)),
    ]


def test_export_holds_no_name_phone_or_id_number_in_any_form(client, auth, org_with_leads):
    headers = auth.login("manager", org=org_with_leads)

    _, rows, text = export(client, headers)

    assert len(rows) == 1 + len(PEOPLE)
    for name, phone, number, _ in PEOPLE:
        assert name not in text
        assert name[0] + "*" not in text  # the masked name 张* neither
        for form in (*phone_forms(phone), *id_forms(number)):
            assert form not in text, form
    # no run of more than four digits at all: nothing that could be a fragment of either
    assert re.findall(r"\d{5,}", text) == []
    assert "再联系" not in text  # free-text remarks are dropped too


def test_rows_keep_what_analysts_need_with_birth_date_as_an_age_band(client, auth, org_with_leads):
    headers = auth.login("manager", org=org_with_leads)

    _, rows, _ = export(client, headers)

    header, *data = rows
    records = [dict(zip(header, row, strict=True)) for row in data]
    assert "name" not in header and "phone" not in header and "id_number" not in header
    shanghai = next(r for r in records if r["city"] == "上海")
    assert shanghai["age_band"] == age_band(1960, date.today())
    assert (shanghai["gender"], shanghai["source"], shanghai["stage"]) == (
        "female",
        "web_form",
        "new",
    )
    assert (shanghai["amount_wanted"], shanghai["provident_fund"], shanghai["house"]) == (
        "8000.00",
        "true",
        "owned",
    )
    assert shanghai["created_month"] == utcnow().strftime("%Y-%m")
    assert all(r["phone_token"] and r["id_number_token"] for r in records)
    assert len({r["phone_token"] for r in records}) == len(PEOPLE)


def test_masking_report_gives_k_anonymity_of_age_band_gender_and_city(client, auth, org_with_leads):
    headers = auth.login("manager", org=org_with_leads)

    report, _, _ = export(client, headers)

    assert report["rows"] == len(PEOPLE)
    assert {"name", "remark", "birth_year"} <= set(report["dropped"])
    assert report["tokenised"] == ["phone", "id_number"]
    assert report["generalised"]["birth_year"] == "age_band"
    assert report["quasi_identifiers"] == ["age_band", "gender", "city"]
    assert (report["groups"], report["smallest_group"], report["k"]) == (2, 1, 5)
    assert report["rows_in_groups_below_k"] == 1  # the woman from 上海 stands out


def test_two_runs_give_the_same_tokens_so_datasets_join(client, auth, org_with_leads):
    headers = auth.login("manager", org=org_with_leads)

    _, first, _ = export(client, headers)
    _, second, _ = export(client, headers, city="北京")

    def by_phone(rows):
        header, *data = rows
        return {row[0]: dict(zip(header, row, strict=True)) for row in data}

    before, after = by_phone(first), by_phone(second)
    assert len(after) == 6
    assert set(after) < set(before)
    for token, row in after.items():
        assert row["id_number_token"] == before[token]["id_number_token"]
        assert row["age_band"] == before[token]["age_band"]


def test_tokens_are_keyed_and_never_the_blind_index():
    tokens = Tokenizer(runtime.vault.cipher)
    index = runtime.vault.phone_index("+8613912345671")
    token = tokens.token("phone", index)

    assert token == Tokenizer(runtime.vault.cipher).token("phone", index)
    assert index not in token and token[1:] != index
    assert re.fullmatch(r"P[a-p]{24}", token)
    assert tokens.token("phone", runtime.vault.phone_index("+8613912345672")) != token


def test_export_is_audited_with_who_filters_and_row_count(client, auth, make, org_with_leads):
    manager = make.user("manager", org=org_with_leads)
    headers = auth.headers_for(manager.username)

    export(client, headers, city="北京", stage="new")

    with db.unit_of_work(SYSTEM) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.user_id == manager.id).order_by(AuditEntry.id)
        ).all()
    assert [e.action for e in entries] == ["deidentified_export", "deidentified_download"]
    assert entries[0].details["filters"] == {"pool": "all", "city": "北京", "stage": "new"}
    assert entries[0].details["rows"] == 6
    assert entries[0].org_id == org_with_leads.id


def test_another_org_cannot_download_the_export(client, auth, make, org_with_leads):
    accepted = client.post(
        "/api/v1/exports/deidentified", json={}, headers=auth.login("manager", org=org_with_leads)
    )
    stranger = auth.login("partner_admin", org=make.org("partner"))

    response = client.get(f"/api/v1/exports/{accepted.json['job_id']}/file", headers=stranger)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_agents_may_not_export_and_bad_filters_are_refused(client, auth, org_with_leads):
    agent = auth.login("agent", org=org_with_leads)
    manager = auth.login("manager", org=org_with_leads)

    refused = client.post("/api/v1/exports/deidentified", json={}, headers=agent)
    invalid = client.post("/api/v1/exports/deidentified", json={"q": "张伟"}, headers=manager)

    assert (refused.status_code, refused.json["error"]["code"]) == (403, "forbidden")
    assert (invalid.status_code, invalid.json["error"]["code"]) == (422, "validation_error")


def test_text_a_person_typed_is_never_run_as_a_spreadsheet_formula(client, auth, make):
    org = make.org()
    make.lead(org, source='=HYPERLINK("http://evil.example","点我")', city="北京")

    _, rows, _ = export(client, auth.login("manager", org=org))

    header, row = rows
    assert (
        dict(zip(header, row, strict=True))["source"]
        == '\'=HYPERLINK("http://evil.example","点我")'
    )
