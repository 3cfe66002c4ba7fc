"""A statement as a file for payroll and for the payee: CSV, XLSX or PDF, the same rows in each."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook

from crm.commissions.models import Statement, StatementLine
from crm.loans.contract_render import render_pdf

KIND_NAMES = {
    "service_fee": "服务费分成",
    "channel_fee": "渠道费分成",
    "clawback": "追回",
    "cap": "月度上限调整",
    "adjustment": "人工调整",
}
ROLE_NAMES = {"agent": "电销", "team_lead": "组长", "partner_org": "城市合伙人"}
STATUS_NAMES = {"draft": "草稿", "approved": "已审批", "paid": "已发放"}
HEADER = ["序号", "类型", "贷款编号", "计提基数", "比例", "金额", "说明"]
_env = Environment(
    loader=PackageLoader("crm", "../templates"), autoescape=select_autoescape(["html"])
)


def rows(lines: list[StatementLine]) -> list[list[str]]:
    return [
        [
            str(n),
            KIND_NAMES.get(line.kind, line.kind),
            str(line.loan_id or ""),
            _text(line.base),
            f"{line.rate:.4%}" if line.rate is not None else "",
            _text(line.amount),
            line.note or "",
        ]
        for n, line in enumerate(lines, 1)
    ]


def statement_file(
    statement: Statement, lines: list[StatementLine], payee_name: str, fmt: str
) -> tuple[bytes, str, str]:
    """(content, mimetype, file name) of the statement in `fmt` (csv, xlsx or pdf)."""
    name = f"结算单-{statement.period}-{payee_name}.{fmt}"
    body = rows(lines)
    total = ["", "合计", "", "", "", _text(statement.total), ""]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerows([HEADER, *body, total])
        # with a BOM, Excel on Chinese Windows opens it as UTF-8 instead of GBK
        return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8", name
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = statement.period
        for row in [HEADER, *body, total]:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return buffer.getvalue(), mime, name
    html = _env.get_template("commissions/statement.html").render(
        statement=statement,
        payee_name=payee_name,
        role=ROLE_NAMES.get(statement.payee_role, statement.payee_role),
        status=STATUS_NAMES.get(statement.status, statement.status),
        header=HEADER,
        rows=body,
        total=_text(statement.total),
    )
    return render_pdf(html), "application/pdf", name


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"
