"""A masked export must not carry a person's phone or ID number in the clear anywhere,
the free-text remark column included (brokers' sheets put the second number there)."""

from __future__ import annotations

from tests.integration.test_import_export import import_file


def test_masked_export_masks_phone_and_id_numbers_inside_the_remark(make, client, auth):
    manager = make.user("manager")  # no pii:export: the export is the masked one
    sheet = (
        "姓名,手机号码,备注\n欧阳锋,13812345678,备用号码13987654321 身份证11010519491231002X\n"
    ).encode()
    assert import_file(manager, sheet, "名单.csv")["created"] == 1
    response = client.get(
        "/api/v1/leads/export",
        query_string={"format": "csv"},
        headers=auth.headers_for(manager.username),
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "138****5678" in text  # the phone column is masked ...
    assert "13987654321" not in text  # ... but the second number in the remark is not
    assert "11010519491231002X" not in text
