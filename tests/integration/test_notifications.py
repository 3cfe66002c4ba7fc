"""A user's notices: only their own, newest first, marked read."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.extensions import db
from crm.notifications.service import notify


def _notify(user, code="lead_recycled", message="线索已回收到公海"):
    with db.unit_of_work(SYSTEM) as session:
        notice = notify(session, user.org_id, user.id, code, message, {"lead_id": 1})
        session.flush()
        return notice.id


def test_user_sees_only_their_notices_newest_first(client, make, auth):
    me, other = make.user("agent"), make.user("agent")
    first, second = _notify(me), _notify(me, "followup_due", "今天有3个待跟进")
    _notify(other)
    body = client.get("/api/v1/notifications", headers=auth.headers_for(me.username)).json
    assert [n["id"] for n in body["items"]] == [second, first]
    assert body["items"][0]["code"] == "followup_due"


def test_marking_read_affects_only_own_unread_notices(client, make, auth):
    me, other = make.user("agent"), make.user("agent")
    mine, theirs = _notify(me), _notify(other)
    headers = auth.headers_for(me.username)
    marked = client.post(
        "/api/v1/notifications/read", json={"ids": [mine, theirs]}, headers=headers
    )
    assert marked.json == {"marked": 1}
    assert client.get("/api/v1/notifications?unread=true", headers=headers).json["items"] == []
    unread = client.get(
        "/api/v1/notifications?unread=true", headers=auth.headers_for(other.username)
    ).json["items"]
    assert [n["id"] for n in unread] == [theirs]
