"""A cancelled (reversed) loan owes nothing (POST /loans/{id}/cancel: "nothing more is due"; the
overdue list, the reminders and the loan book leave it out), so it cannot be shown overdue."""

from __future__ import annotations

from tests.loan_helpers import disburse, hq_world, post, signed_application


def test_a_cancelled_loan_is_not_reported_overdue(client, auth, make):
    w = hq_world(make, auth, client)
    app = signed_application(client, make, w)
    loan = disburse(client, w, app["id"], "50000.00", days_ago=70)
    assert loan.status_code == 201, loan.json
    loan_id = loan.json["id"]
    assert (
        post(client, w.admin, f"/loans/{loan_id}/cancel", {"reason": "借款人撤回"}).status_code
        == 200
    )

    # consistent parts of the API: the overdue list leaves it out
    overdue = client.get("/api/v1/loans/overdue", headers=w.admin).json
    assert [r["loan_id"] for r in overdue["items"]] == []

    got = client.get(f"/api/v1/loans/{loan_id}", headers=w.admin).json
    listed = client.get("/api/v1/loans", headers=w.admin).json["items"][0]
    assert got["status"] == "cancelled"
    assert (got["days_past_due"], got["bucket"]) == (0, None), (got["days_past_due"], got["bucket"])
    assert "overdue" not in {r["status"] for r in got["schedule"]}
    assert (listed["days_past_due"], listed["bucket"]) == (0, None)
