"""Importing a lead sheet: read it, validate every row, skip duplicates, insert in batches.

The whole import is one transaction: a file that breaks half-way stores nothing, and a retried
job finds the stored result of the first run instead of importing twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.errors import DomainError
from crm.leads import cells, uploads
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead, Upload
from crm.leads.service import ensure_sources
from crm.leads.sheet import SheetRow, read_sheet
from crm.pools.service import own_pool
from crm.queries import among, get_visible
from crm.scoring.service import insert_scored_leads

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000
BATCH_ROWS = 2_000
# The result is shown to a person and stored as JSON: list the first problems, count them all.
LISTED_PROBLEMS = 10_000
DEFAULT_SOURCE = "import"


@dataclass(frozen=True)
class ImportOptions:
    source: str | None = None
    mapping: dict[str, str] | None = None
    consent_method: str | None = None
    consent_text_version: str | None = None
    # None: the org's main public pool
    pool_id: int | None = None


@dataclass
class ImportTally:
    rows: int = 0
    created: int = 0
    duplicates_in_file: int = 0
    duplicates_in_database: int = 0
    invalid_total: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)
    duplicate_rows: list[dict[str, Any]] = field(default_factory=list)

    def add_invalid(self, row: int, err: DomainError) -> None:
        self.invalid_total += 1
        if len(self.invalid) < LISTED_PROBLEMS:
            self.invalid.append({"row": row, "code": err.code, "message": err.message})

    def add_duplicate(
        self, row: int, where: str, lead_id: int | None = None, first_row: int | None = None
    ) -> None:
        if where == "file":
            self.duplicates_in_file += 1
        else:
            self.duplicates_in_database += 1
        if len(self.duplicate_rows) < LISTED_PROBLEMS:
            entry = {"row": row, "in": where, "lead_id": lead_id, "first_row": first_row}
            self.duplicate_rows.append({k: v for k, v in entry.items() if v is not None})

    def result(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "duplicates": self.duplicates_in_file + self.duplicates_in_database,
            "duplicates_in_file": self.duplicates_in_file,
            "duplicates_in_database": self.duplicates_in_database,
            "duplicate_rows": self.duplicate_rows,
            "invalid": self.invalid,
            "invalid_total": self.invalid_total,
        }


def store_upload(
    session: Session, actor: Actor, vault: PiiVault, filename: str, content: bytes
) -> Upload:
    """Keep a sheet for its import job, sealed (crm/leads/uploads.py)."""
    if not content:
        raise DomainError("empty_file", "the uploaded file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise DomainError(
            "file_too_large",
            f"a lead sheet may be at most {MAX_UPLOAD_BYTES // 2**20} MB",
            413,
            {"max_bytes": MAX_UPLOAD_BYTES},
        )
    upload = Upload(
        org_id=actor.org_id,
        filename=filename[:255],
        content=b"",
        sealed=True,
        uploaded_by=actor.user_id,
    )
    session.add(upload)
    session.flush()  # the id the sealed bytes are bound to
    upload.content = uploads.seal(vault.cipher, upload.id, content)
    session.flush()
    return upload


def check_options(session: Session, actor: Actor, options: ImportOptions) -> None:
    """Refuse options the job would trip over (another org's pool) while the uploader waits."""
    if options.pool_id is not None:
        own_pool(session, actor, options.pool_id)


def run_import(
    session: Session,
    actor: Actor,
    vault: PiiVault,
    upload_id: int,
    options: ImportOptions,
    progress: Callable[[float], None],
    now: datetime | None = None,
) -> dict[str, Any]:
    upload = get_visible(session, Upload, upload_id, "upload")
    if upload.result is not None:
        return upload.result  # a retry of a finished import: nothing to do twice
    now = now or utcnow()
    check_options(session, actor, options)
    content = uploads.content_of(vault.cipher, upload)
    sheet = read_sheet(content, upload.filename, options.mapping, max_rows=MAX_ROWS)
    tally = ImportTally(rows=len(sheet.rows))
    seen: dict[str, int] = {}
    sources: set[str] = set()
    for done, batch in enumerate(_batches(sheet.rows), start=1):
        prepared = _prepare_batch(vault, batch, upload.org_id, actor, options, now, tally, seen)
        fresh, other_orgs = _drop_stored(session, upload.org_id, prepared, tally)
        if fresh:
            insert_scored_leads(session, upload.org_id, fresh, now, other_orgs)
            sources.update(row["source"] for row in fresh)
        tally.created += len(fresh)
        progress(min(done * BATCH_ROWS, tally.rows) / max(tally.rows, 1))
    ensure_sources(session, upload.org_id, sources)
    upload.result, upload.content = tally.result(), b""
    return upload.result


def _batches(rows: list[SheetRow]) -> Iterator[list[SheetRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_ROWS)):
        yield batch


def _prepare_batch(
    vault: PiiVault,
    batch: list[SheetRow],
    org_id: int,
    actor: Actor,
    options: ImportOptions,
    now: datetime,
    tally: ImportTally,
    seen: dict[str, int],
) -> list[tuple[int, dict[str, Any]]]:
    prepared = []
    for row in batch:
        try:
            columns = lead_columns(
                vault, draft_from_row(row.values, options, now), org_id, actor.user_id, now
            )
            columns["pool_id"] = options.pool_id
        except DomainError as err:
            tally.add_invalid(row.row_number, err)
            continue
        first = seen.setdefault(columns["phone_bidx"], row.row_number)
        if first != row.row_number:
            tally.add_duplicate(row.row_number, "file", first_row=first)
            continue
        prepared.append((row.row_number, columns))
    return prepared


def _drop_stored(
    session: Session, org_id: int, prepared: list[tuple[int, dict[str, Any]]], tally: ImportTally
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rows whose phone this org does not hold yet, and how many other orgs hold each."""
    if not prepared:
        return [], {}
    # By phone alone (ix_leads_phone_bidx), keeping this org's rows here: the import's own rows
    # are invisible to the planner's statistics until it commits, so with org_id in the WHERE
    # PostgreSQL walked an org_id-first index over every row imported so far, once per batch.
    # The other orgs' matches are the scoring's cross-org duplicates factor: one lookup serves both.
    leads = Lead.__table__
    phones = [c["phone_bidx"] for _, c in prepared]
    matches = [
        row
        for condition in among(session, leads.c.phone_bidx, phones)
        for row in session.execute(
            select(leads.c.phone_bidx, leads.c.id, leads.c.org_id).where(condition)
        )
    ]
    stored: dict[str, int] = {}
    holders: defaultdict[str, set[int]] = defaultdict(set)
    for bidx, lead_id, owner_org in matches:
        if owner_org == org_id:
            stored[bidx] = lead_id
        else:
            holders[bidx].add(owner_org)
    other_orgs = {bidx: len(orgs) for bidx, orgs in holders.items()}
    fresh = []
    for row_number, columns in prepared:
        lead_id = stored.get(columns["phone_bidx"])
        if lead_id is None:
            fresh.append(columns)
        else:
            tally.add_duplicate(row_number, "database", lead_id=lead_id)
    return fresh, other_orgs


def draft_from_row(values: dict[str, str], options: ImportOptions, now: datetime) -> LeadDraft:
    """One sheet row as a LeadDraft; a cell that cannot be read raises DomainError."""
    get = values.get
    name = (get("name") or "").strip() or None
    if name is not None and len(name) > 50:
        raise DomainError("invalid_name", "a name has at most 50 characters")
    consent = options.consent_method and options.consent_text_version
    return LeadDraft(
        phone=get("phone") or "",
        source=(get("source") or "").strip()[:64] or options.source or DEFAULT_SOURCE,
        name=name,
        id_number=(get("id_number") or "").strip() or None,
        city=(get("city") or "").strip()[:32] or None,
        amount_wanted=cells.parse_amount(get("amount_wanted") or ""),
        term_months=cells.parse_term_months(get("term_months") or ""),
        purpose=(get("purpose") or "").strip()[:100] or None,
        qualifications=_qualifications(values),
        remark=(get("remark") or "").strip()[:2000] or None,
        consent_given_at=now if consent else None,
        consent_method=options.consent_method if consent else None,
        consent_text_version=options.consent_text_version if consent else None,
    )


def _qualifications(values: dict[str, str]) -> dict[str, Any]:
    get = values.get
    income: Decimal | None = cells.parse_amount(get("monthly_income") or "")
    found = {
        "monthly_income": str(income) if income is not None else None,
        "employment": cells.parse_employment(get("employment") or ""),
        "social_security": cells.parse_yes_no(get("social_security") or ""),
        "provident_fund": cells.parse_yes_no(get("provident_fund") or ""),
        "house": cells.parse_asset(get("house") or ""),
        "car": cells.parse_asset(get("car") or ""),
        "insurance_policy": cells.parse_yes_no(get("insurance_policy") or ""),
        "business_licence": cells.parse_yes_no(get("business_licence") or ""),
        "credit_status": cells.parse_credit_status(get("credit_status") or ""),
    }
    return {key: value for key, value in found.items() if value is not None}
