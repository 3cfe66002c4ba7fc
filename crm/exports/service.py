"""De-identified dataset exports: asked for by an analyst, written by a job, downloaded once ready.

The job streams the leads in keyset batches of plain column rows (no ORM object per lead) through
crm/compliance/deidentify.py into a gzip-compressed CSV, with its masking report."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Row, Text, cast, func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.compliance.deidentify import (
    HEADER,
    SOURCE_COLUMNS,
    TEXT_COLUMNS,
    MaskingReport,
    Tokenizer,
    deidentified_row,
)
from crm.compliance.pii import PiiVault
from crm.db import utcnow
from crm.errors import Conflict, NotFound
from crm.exports.models import DatasetExport
from crm.exports.schemas import DeidentifiedExportRequest
from crm.gc_tuning import fewer_collections
from crm.leads.models import Lead
from crm.leads.schemas import LeadFilters
from crm.leads.service import filtered_leads
from crm.sql_functions import utc_month

BATCH_SIZE = 5_000
# gzip level 1: a tenth of level 6's CPU for a file only a little larger; the export is CPU-bound
GZIP_LEVEL = 1
# the CSV is built in memory up to this size, on disk beyond it
SPOOL_BYTES = 32 * 1024 * 1024


def request_export(
    session: Session, actor: Actor, body: DeidentifiedExportRequest, job_id: str
) -> DatasetExport:
    export = DatasetExport(
        org_id=actor.org_id,
        job_id=job_id,
        requested_by=actor.user_id,
        filters=body.model_dump(mode="json", exclude_none=True),
    )
    session.add(export)
    session.flush()
    return export


def write_export(
    session: Session,
    actor: Actor,
    vault: PiiVault,
    export_id: int,
    today: date,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[float], None] = lambda _: None,
) -> dict[str, Any]:
    """Write the dataset of export `export_id`; returns its masking report. A retry of an
    export already written returns the report it wrote."""
    export = session.get(DatasetExport, export_id)
    if export is None:
        raise NotFound("export")
    if export.finished_at is not None:
        return export.report or {}
    report = MaskingReport()
    tokens = Tokenizer(vault.cipher)
    filters = LeadFilters(**export.filters)
    total = max(session.scalar(_counted(actor, vault, filters)) or 0, 1)
    with fewer_collections(), tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        with gzip.GzipFile(fileobj=spool, mode="wb", compresslevel=GZIP_LEVEL) as packed:
            text = io.TextIOWrapper(packed, encoding="utf-8", newline="")
            out = csv.writer(text)
            out.writerow(HEADER)
            for batch in _batches(session, actor, vault, filters, batch_size):
                for lead in batch:
                    row = deidentified_row(lead, tokens, today)
                    report.add(row)
                    out.writerow(row)
                progress(report.rows / total)
            text.flush()
            text.detach()
        spool.seek(0)
        export.content = spool.read()
    export.report = report.as_dict()
    export.finished_at = utcnow()
    audit.record(
        session,
        actor,
        "deidentified_export",
        export.org_id,
        details={"export_id": export.id, "filters": export.filters, "rows": report.rows},
    )
    return export.report


def _selected(actor: Actor, vault: PiiVault, filters: LeadFilters):
    return filtered_leads(actor, vault, filters).order_by(None)


def _counted(actor: Actor, vault: PiiVault, filters: LeadFilters):
    return _selected(actor, vault, filters).with_only_columns(func.count())


def _batches(
    session: Session, actor: Actor, vault: PiiVault, filters: LeadFilters, batch_size: int
) -> Iterator[list[Row[Any]]]:
    """The filtered leads' SOURCE_COLUMNS, batch by batch, in id order (keyset: each batch is
    one index range scan, however deep into the table it is)."""
    columns = [Lead.id, *(_column(name) for name in SOURCE_COLUMNS)]
    base = _selected(actor, vault, filters).with_only_columns(*columns).order_by(Lead.id)
    after = 0
    while True:
        batch = session.execute(base.where(Lead.id > after).limit(batch_size)).all()
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        after = batch[-1].id


def _column(name: str) -> Any:
    if name == "created_month":
        return utc_month(Lead.created_at).label(name)
    column = getattr(Lead, name)
    # as text: no datetime, Decimal or JSON built by the driver and then taken apart again
    return cast(column, Text).label(name) if name in TEXT_COLUMNS else column


def export_file(session: Session, actor: Actor, job_id: str) -> tuple[bytes, str]:
    """The finished dataset of the caller's org as (gzip content, filename); audited."""
    export = session.scalars(select(DatasetExport).where(DatasetExport.job_id == job_id)).first()
    if export is None:
        raise NotFound("export")
    if export.content is None:
        raise Conflict("export_not_ready", "the export is still being written; see GET /jobs/{id}")
    audit.record(
        session,
        actor,
        "deidentified_download",
        export.org_id,
        details={"export_id": export.id, "rows": (export.report or {}).get("rows")},
    )
    return export.content, f"deidentified-{export.id}.csv.gz"
