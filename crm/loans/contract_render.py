"""Loan-service contracts (借款居间服务合同) rendered from an org's template to HTML and PDF."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from crm.errors import DomainError
from crm.loans.fees import cents, require_decimal
from crm.loans.schedule import METHODS

DEFAULT_TEMPLATE_PATH = (
    Path(__file__).resolve().parents[2] / "templates" / "contracts" / "loan_contract.html"
)
METHOD_NAMES = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_only": "先息后本",
    "bullet": "到期还本付息",
}
# Codes the service layer uses for parties, payers and collectors; any other text is shown as is.
ROLE_NAMES = {"borrower": "借款人", "broker": "居间服务方", "lender": "出借方"}
PERCENT_PLACES = Decimal("0.01")
# Org templates are edited by people, not deployed: a few dozen distinct texts at most.
COMPILED_TEMPLATES = 64


@dataclass(frozen=True)
class ContractParty:
    role: str  # "borrower", "broker", "lender", or a label shown as is
    name: str  # masked for the borrower (张*)
    id_number_masked: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ContractFee:
    name: str
    payer: str  # "borrower" (crm.loans.fees.PAYER)
    collector: str  # "broker" or "lender"
    basis_text: str  # e.g. "按借款金额 3% 一次性收取"
    amount: Decimal  # CNY over the whole loan


@dataclass(frozen=True)
class ContractRow:
    n: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal


@dataclass(frozen=True)
class ContractData:
    """Everything a contract states; rates are fractions (0.1303 is shown as 13.03%)."""

    contract_no: str
    version: int
    org_name: str
    lender_name: str
    product_name: str
    parties: list[ContractParty]
    amount: Decimal
    term_months: int
    repayment_method: str  # a code of crm.loans.schedule.METHODS
    annual_rate: Decimal
    apr: Decimal
    effective_rate: Decimal
    fees: list[ContractFee]
    schedule: list[ContractRow]
    total_interest: Decimal
    total_fees: Decimal
    total_repayment: Decimal
    net_disbursed: Decimal
    consent_text: str
    generated_at: datetime

    def __post_init__(self) -> None:
        # Caught here rather than in the template, where it would read as the org's mistake.
        if self.repayment_method not in METHODS:
            raise ValueError(f"unknown repayment method {self.repayment_method!r}")


def money(value: Decimal | int) -> str:
    """CNY with thousands separators and two decimals, rounded half up: 12,345.60."""
    return f"{cents(require_decimal(value, 'amount')):,.2f}"


def percent(value: Decimal | int) -> str:
    """A rate given as a fraction, as a percentage with two decimals: 0.1303 → 13.03%."""
    rate = require_decimal(value, "rate") * 100
    return f"{rate.quantize(PERCENT_PLACES, ROUND_HALF_UP):.2f}%"


def method_name(code: str) -> str:
    return METHOD_NAMES.get(code, code)


def role_name(code: str) -> str:
    return ROLE_NAMES.get(code, code)


def cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@cache
def default_template() -> str:
    """The repo's default contract template (templates/contracts/loan_contract.html)."""
    return DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")


@cache
def _environment() -> SandboxedEnvironment:
    # Sandboxed because org templates are untrusted; StrictUndefined so a misspelt field fails
    # the render instead of leaving a blank where the contract should state a number.
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(
        money=money, percent=percent, method_name=method_name, role_name=role_name, cn_date=cn_date
    )
    return env


@lru_cache(maxsize=COMPILED_TEMPLATES)
def _compile(source: str) -> Template:
    return _environment().from_string(source)


def render_html(data: ContractData, template: str | None = None) -> str:
    """The contract as HTML, from `template` (an org's Jinja text) or the default one.

    Raises DomainError("invalid_contract_template") when the template does not parse, names a
    field that does not exist, or reaches for something the sandbox forbids.
    """
    context = {field.name: getattr(data, field.name) for field in fields(data)}
    try:
        return _compile(template if template is not None else default_template()).render(context)
    except TemplateSyntaxError as error:
        raise _invalid_template(error, line=error.lineno) from error
    # Arithmetic and type slips inside an untrusted template are its author's to fix, not a 500.
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise _invalid_template(error) from error


def _invalid_template(error: Exception, line: int | None = None) -> DomainError:
    details: dict[str, Any] = {"error": f"{type(error).__name__}: {error}"}
    if line is not None:
        details["line"] = line
    return DomainError(
        "invalid_contract_template", "the contract template cannot be rendered", 422, details
    )


def render_pdf(html: str) -> bytes:
    """The contract HTML as an A4 PDF; resources other than inline data: URLs are never fetched."""
    # Imported here: WeasyPrint loads Pango through cffi, which the web and workers that never
    # print a contract should not pay for (or fail on) at import time.
    from weasyprint import HTML, URLFetcher

    # An org template could point <img>, @import or <link rel=attachment> at file:///etc/… or an
    # internal URL and get it embedded in the PDF; only data: URLs carry no such reach.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def sha256_hex(content: bytes) -> str:
    """The hex SHA-256 stored with a generated contract to prove later it was not altered."""
    return hashlib.sha256(content).hexdigest()
