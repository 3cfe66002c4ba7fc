"""The lead-list export is a permission of its own (leads:export), not every reader's."""

from __future__ import annotations

import csv
import io

import pytest

from crm.auth.permissions import ROLE_PERMISSIONS


@pytest.mark.parametrize("role", ["agent", "partner_agent", "reviewer"])
def test_a_role_without_leads_export_cannot_download_the_lead_list(client, make, auth, role):
    assert "leads:export" not in ROLE_PERMISSIONS[role]
    org = make.org("partner" if role.startswith("partner") else "hq")
    for n in range(3):
        make.lead(org=org, phone=f"1370000000{n}", remark=f"备注{n}")
    response = client.get(
        "/api/v1/leads/export", query_string={"format": "csv"}, headers=auth.login(role, org=org)
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    # today: 200 with the whole public pool in one file (bypassing the daily open cap, 防爬)
    assert response.status_code == 403, f"{response.status_code}: {len(rows) - 1} leads exported"
    assert response.json["error"]["code"] == "forbidden"
