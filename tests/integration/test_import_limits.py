"""A sheet row is held to the same limits as the create form (amount <= 100,000,000,
term 1..360 months); one absurd cell is that row's problem, not the whole import's."""

from __future__ import annotations

import io

import pytest


def _upload(client, headers, content: bytes, filename: str):
    return client.post(
        "/api/v1/leads/import",
        headers=headers,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(content), filename)},
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [("期限", "3000年"), ("期限", "100年"), ("贷款金额", "10000亿"), ("贷款金额", "5亿")],
)
def test_an_out_of_range_amount_or_term_is_reported_for_its_row(client, auth, column, value):
    headers = auth.login("manager")
    sheet = f"姓名,手机号码,{column}\n张三,13800001111,{value}\n李四,13800002222,\n".encode()
    accepted = _upload(client, headers, sheet, "名单.csv")
    assert accepted.status_code == 202, accepted.json
    job = client.get(f"/api/v1/jobs/{accepted.json['job_id']}", headers=headers).json
    assert job["status"] == "finished", job.get("error")
    assert job["result"]["created"] == 1, job["result"]
    assert [item["row"] for item in job["result"]["invalid"]] == [2]
