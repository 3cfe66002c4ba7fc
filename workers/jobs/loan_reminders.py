"""Job: repayment reminders to agents' consoles and borrowers (each installment and kind once)."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.loans.reminders import send_loan_reminders
from crm.loans.senders import RecordingSender
from workers.jobs.console_push import push


def run() -> dict[str, int]:
    # no SMS or WeChat provider is wired yet: messages are recorded (crm/loans/senders.py says
    # what an adapter must do; choosing one from the settings belongs here)
    sender = RecordingSender()
    return send_loan_reminders(lambda: db.unit_of_work(SYSTEM), utcnow(), push, sender)
