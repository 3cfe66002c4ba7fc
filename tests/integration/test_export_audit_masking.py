"""The audit log (append-only, hash-chained: never scrubbed later) must not store the
personal data a user searched for; GET /audit must answer it masked like every response."""

from __future__ import annotations


def test_an_export_searched_by_phone_and_name_keeps_them_out_of_the_audit_log(client, make, auth):
    org = make.org()
    make.lead(org=org, phone="13812345678", name="欧阳娜娜")
    headers = auth.login("manager", org=org)
    for q in ("13812345678", "欧阳娜娜", "11010519491231002X"):
        exported = client.get("/api/v1/leads/export", query_string={"q": q}, headers=headers)
        assert exported.status_code == 200
        assert q not in exported.get_data(as_text=True)  # the (masked) file does not show it
    audit = client.get("/api/v1/audit?action=export", headers=headers)
    assert audit.status_code == 200
    text = audit.get_data(as_text=True)
    assert "13812345678" not in text
    assert "11010519491231002X" not in text
    assert "欧阳娜娜" not in text
