"""How a message reaches a borrower (SMS, WeChat): one interface, recording by default.

A provider adapter (an SMS gateway, a WeChat service account) implements `MessageSender.send`:

- it is called inside the sweep's batch transaction, with the `OutboundMessage` it must write
  (`record(session, message, status)` does that), so the message and the reminder row that
  made it commit or roll back together;
- it finds the number itself, by `message.lead_id` through `PiiVault.reveal` on the lead's
  `phone_enc`: the message carries no number, and its body masked data only (张*, an amount, a
  date), so whatever a provider logs or stores holds no full name, phone or ID number;
- it hands the message to the provider after the commit (`crm.db.after_commit`), never before:
  a batch that rolls back must not have sent anything, and the reminder row is what stops a
  re-run sending twice. It records the row as "queued" and a delivery receipt updates it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from crm.loans.models import OutboundMessage


@dataclass(frozen=True, slots=True)
class Message:
    org_id: int
    lead_id: int
    loan_id: int | None
    channel: str  # sms | wechat
    template: str  # what it is about: a reminder kind such as due_in_3
    body: str


class MessageSender(Protocol):
    def send(self, session: Session, message: Message) -> OutboundMessage:
        """Write the message's OutboundMessage and send it once the transaction commits."""
        ...


def record(session: Session, message: Message, status: str) -> OutboundMessage:
    row = OutboundMessage(
        org_id=message.org_id,
        lead_id=message.lead_id,
        loan_id=message.loan_id,
        channel=message.channel,
        template=message.template,
        body=message.body,
        status=status,
    )
    session.add(row)
    return row


class RecordingSender:
    """The default: no provider is configured, so the message is only recorded ("recorded"),
    and the console shows what would have gone out."""

    def send(self, session: Session, message: Message) -> OutboundMessage:
        return record(session, message, "recorded")
