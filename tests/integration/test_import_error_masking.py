"""A refused import's error must not carry a person's phone or name in the clear."""

from __future__ import annotations

import io


def _upload(client, headers, content: bytes, filename: str, **form):
    return client.post(
        "/api/v1/leads/import",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), filename), **form},
    )


def test_headerless_sheet_error_does_not_echo_the_first_persons_phone_name_and_id(client, auth):
    headers = auth.login("manager")
    # a bought list saved without its header row: every row is a person
    sheet = "欧阳锋,13812345678,11010519491231002X\n黄药师,13987654321,\n".encode()
    accepted = _upload(client, headers, sheet, "名单.csv")
    assert accepted.status_code == 202, accepted.json
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers)
    assert job.json["status"] == "failed"
    assert job.json["error"]["code"] == "missing_columns"
    text = job.get_data(as_text=True)
    assert "13812345678" not in text
    assert "11010519491231002X" not in text
    assert "欧阳锋" not in text
