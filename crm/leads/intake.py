"""From one lead's raw input (an API body or a sheet row) to the columns we store.

Create and import share this path, so a number that is invalid in the form is invalid in the sheet
too, and plain personal data never reaches a column."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crm.compliance.pii import PiiVault
from crm.leads.idcard import parse_id_number
from crm.leads.phone import PhoneInfo, normalize_phone


@dataclass(slots=True)
class LeadDraft:
    phone: str
    source: str
    name: str | None = None
    id_number: str | None = None
    city: str | None = None
    amount_wanted: Decimal | None = None
    term_months: int | None = None
    purpose: str | None = None
    qualifications: dict[str, Any] = field(default_factory=dict)
    remark: str | None = None
    consent_given_at: datetime | None = None
    consent_method: str | None = None
    consent_text_version: str | None = None


def phone_columns(vault: PiiVault, phone: PhoneInfo) -> dict[str, Any]:
    protected = vault.protect_phone(phone.e164, phone.national)
    return {
        "phone_enc": protected.enc,
        "phone_bidx": protected.bidx,
        "phone_masked": protected.masked,
        "is_mobile": phone.is_mobile,
        "province": phone.province,
        "phone_city": phone.city,
        "carrier": phone.carrier,
    }


def name_columns(vault: PiiVault, name: str | None) -> dict[str, Any]:
    if not name or not name.strip():
        return {"name_enc": None, "name_bidx": None, "name_masked": None}
    protected = vault.protect_name(name)
    return {"name_enc": protected.enc, "name_bidx": protected.bidx, "name_masked": protected.masked}


def id_number_columns(vault: PiiVault, raw: str | None, today: date) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {
            "id_number_enc": None,
            "id_number_bidx": None,
            "id_number_masked": None,
            "birth_year": None,
            "gender": None,
        }
    info = parse_id_number(raw, today)
    protected = vault.protect_id_number(info.number)
    # only the year and gender stay in the clear: enough for scoring, not enough to identify
    return {
        "id_number_enc": protected.enc,
        "id_number_bidx": protected.bidx,
        "id_number_masked": protected.masked,
        "birth_year": info.birth_date.year,
        "gender": info.gender,
    }


def lead_columns(
    vault: PiiVault, draft: LeadDraft, org_id: int, created_by: int | None, now: datetime
) -> dict[str, Any]:
    """Every column of a new lead; raises DomainError for an invalid phone or ID number."""
    phone = normalize_phone(draft.phone)
    columns = {
        "org_id": org_id,
        **phone_columns(vault, phone),
        **name_columns(vault, draft.name),
        **id_number_columns(vault, draft.id_number, now.date()),
        "pii_key_id": vault.active_key_id,
        "city": draft.city or phone.city,
        "source": draft.source,
        "amount_wanted": draft.amount_wanted,
        "term_months": draft.term_months,
        "purpose": draft.purpose,
        "qualifications": draft.qualifications,
        "remark": draft.remark,
        "consent_given_at": draft.consent_given_at,
        "consent_method": draft.consent_method,
        "consent_text_version": draft.consent_text_version,
        "score": 0,
        "stage": "new",
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    return columns
