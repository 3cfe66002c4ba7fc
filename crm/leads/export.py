"""Lead exports as CSV or XLSX: masked unless the exporter may export personal data, and safe to
open in a spreadsheet (no cell is ever evaluated as a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.compliance.masking import mask_in_text, masked_search
from crm.compliance.pii import PII_FIELDS, PiiVault
from crm.db import utcnow
from crm.leads.cells import neutralise_formula
from crm.leads.models import Lead
from crm.leads.schemas import ExportArgs
from crm.leads.service import filtered_leads
from crm.orgs.models import User
from crm.reports.service import org_zone

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = (
    ("id", "线索ID"),
    ("name", "姓名"),
    ("phone", "手机号码"),
    ("id_number", "身份证号"),
    ("city", "城市"),
    ("province", "号码归属省份"),
    ("carrier", "运营商"),
    ("source", "渠道来源"),
    ("stage", "阶段"),
    ("score", "评分"),
    ("owner_id", "负责人"),
    ("amount_wanted", "贷款金额(元)"),
    ("term_months", "期限(月)"),
    ("purpose", "用途"),
    ("remark", "备注"),
    ("created_at", "创建时间"),
    ("last_followup_at", "最近跟进"),
    ("next_followup_at", "下次跟进"),
)
# the words of the pages (zh-CN), as the column titles above: a file people read and pass on
STAGE_WORDS = {
    "new": "新线索",
    "contacted": "已联系",
    "qualified": "已筛选",
    "applied": "已进件",
    "approved": "已审批",
    "disbursed": "已放款",
    "lost": "已流失",
    "rejected": "已拒绝",
}
PUBLIC_POOL = "公海"


@dataclass(frozen=True)
class ExportContext:
    """What turns codes into words: owners' names and the org's clock."""

    vault: PiiVault
    reveal: bool
    owners: dict[int, str]
    zone: ZoneInfo


def lead_rows(leads: Iterable[Lead], context: ExportContext) -> Iterable[list[str]]:
    yield [title for _, title in COLUMNS]
    for lead in leads:
        yield [_cell(lead, key, context) for key, _ in COLUMNS]


def _cell(lead: Lead, key: str, context: ExportContext) -> str:
    if key in ("name", "phone", "id_number"):
        token = getattr(lead, f"{key}_enc")
        if context.reveal and token:
            return context.vault.show(token, key)
        return getattr(lead, f"{key}_masked") or ""
    if key == "owner_id":
        return PUBLIC_POOL if lead.owner_id is None else context.owners.get(lead.owner_id, "")
    value = getattr(lead, key)
    if value is None:
        return ""
    if key == "stage":
        return STAGE_WORDS.get(value, value)
    if key == "remark" and not context.reveal:
        # what an agent typed about the person may quote their number
        return mask_in_text(value)
    if isinstance(value, datetime):
        return value.astimezone(context.zone).strftime("%Y-%m-%d %H:%M")
    return str(value)


def to_csv(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([neutralise_formula(cell) for cell in row] for row in rows)
    # BOM: Excel on Chinese Windows opens BOM-less UTF-8 as GBK and garbles every name
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("线索")
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    # openpyxl would store "=..." as a live formula; a string-typed cell is always plain text
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def export_leads(
    session: Session, actor: Actor, vault: PiiVault, args: ExportArgs
) -> tuple[bytes, str, str]:
    """The filtered leads as a file: (content, mimetype, filename). Audited either way; full
    values need `pii:export` and a stated purpose (credit-reporting rules art. 33)."""
    reveal = actor.can("pii:export") and args.purpose is not None
    zone = org_zone(session, actor)
    owners = dict(session.execute(select(User.id, User.display_name)).all())
    stmt = filtered_leads(actor, vault, args).limit(args.per_page)
    leads = session.scalars(stmt.execution_options(yield_per=2000))
    rows = list(lead_rows(leads, ExportContext(vault, reveal, owners, zone)))
    filters = args.model_dump(
        mode="json", exclude_none=True, exclude={"format", "per_page", "page", "purpose"}
    )
    if "q" in filters:
        # the search is a person's phone, ID number or name: the audit log keeps it for good
        filters["q"] = masked_search(filters["q"])
    audit.record(
        session,
        actor,
        "export",
        actor.org_id,
        fields=list(PII_FIELDS) if reveal else [],
        purpose=args.purpose,
        details={
            "rows": len(rows) - 1,
            "masked": not reveal,
            "filters": filters,
            "format": args.format,
        },
    )
    # named by the org's clock, as the times inside it
    stamp = utcnow().astimezone(zone).strftime("%Y%m%d-%H%M%S")
    if args.format == "xlsx":
        return to_xlsx(rows), XLSX_MIMETYPE, f"leads-{stamp}.xlsx"
    return to_csv(rows), "text/csv; charset=utf-8", f"leads-{stamp}.csv"
