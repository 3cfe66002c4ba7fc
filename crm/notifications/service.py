"""Notices to users: stored for the console's list, and pushed live where a console listens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.db import utcnow
from crm.notifications.models import Notification
from crm.queries import paginate
from crm.schemas import PageArgs, PageResult


def notify(
    session: Session,
    org_id: int,
    user_id: int,
    code: str,
    message: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Notification:
    """A notice stamped with the sender's clock (a job's run time, a simulated day)."""
    notice = Notification(
        org_id=org_id,
        user_id=user_id,
        code=code,
        message=message,
        data=data or {},
        created_at=now or utcnow(),
    )
    session.add(notice)
    return notice


def my_notifications(
    session: Session, actor: Actor, args: PageArgs, unread_only: bool = False
) -> PageResult:
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(
        session, stmt.order_by(Notification.created_at.desc(), Notification.id.desc()), args
    )


def mark_read(session: Session, actor: Actor, ids: list[int]) -> int:
    result = session.execute(
        update(Notification)
        .where(
            Notification.user_id == actor.user_id,
            Notification.id.in_(ids),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return result.rowcount
