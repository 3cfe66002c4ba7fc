"""The logged-in user's notices."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.notifications import service
from crm.notifications.schemas import MarkedRead, MarkRead, NotificationArgs, NotificationOut
from crm.schemas import Page

bp = ApiBlueprint("notifications", __name__, tag="notifications")


@bp.endpoint("/notifications", query=NotificationArgs, response=Page[NotificationOut])
def list_notifications(session: Session, actor: Actor, query: NotificationArgs):
    """My notices, newest first (recycle warnings, reminders, escalations)."""
    return service.my_notifications(session, actor, query, unread_only=query.unread)


@bp.endpoint("/notifications/read", "POST", body=MarkRead, response=MarkedRead)
def mark_read(session: Session, actor: Actor, body: MarkRead):
    """Mark some of my notices as read."""
    return MarkedRead(marked=service.mark_read(session, actor, body.ids))
