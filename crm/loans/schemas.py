"""Request and response schemas for lenders, products, matching, applications and contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from crm.loans.eligibility import ProductRules
from crm.loans.fees import FEE_BASES
from crm.loans.models import APPLICATION_STATUSES, DOCUMENT_KINDS, LENDER_KINDS
from crm.loans.schedule import METHODS
from crm.schemas import PageArgs, RequestBody, Response

# Money and rates travel as string decimals (API.md); a JSON number is accepted, never a float
# rounding: pydantic reads it into Decimal from its text.
MoneyIn = Annotated[Decimal, Field(ge=0, le=Decimal("100000000"), decimal_places=2)]
RateIn = Annotated[Decimal, Field(ge=0, le=1, decimal_places=6)]
LenderKind = Literal[LENDER_KINDS]  # type: ignore[valid-type]
Method = Literal[METHODS]  # type: ignore[valid-type]
Status = Literal[APPLICATION_STATUSES]  # type: ignore[valid-type]
DocumentKind = Literal[DOCUMENT_KINDS]  # type: ignore[valid-type]


class NewLender(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    kind: LenderKind


class LenderOut(Response):
    id: int
    org_id: int
    name: str
    kind: str
    active: bool


class LenderFee(RequestBody):
    """A fee the lender charges the borrower; shown in the contract with its basis."""

    name: str = Field(min_length=1, max_length=40)
    basis: Literal[FEE_BASES]  # type: ignore[valid-type]
    value: Decimal = Field(ge=0, le=Decimal("1000000"), decimal_places=6)


class ProductFields(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    min_amount: MoneyIn
    max_amount: MoneyIn
    min_term_months: int = Field(ge=1, le=360)
    max_term_months: int = Field(ge=1, le=360)
    apr_min: RateIn = Field(description="lowest nominal annual interest rate the lender quotes")
    apr_max: RateIn = Field(description="highest nominal annual interest rate the lender quotes")
    repayment_method: Method
    fees: list[LenderFee] = Field(default_factory=list, max_length=10)
    channel_fee_rate: RateIn = Field(description="share of the amount the lender pays the broker")
    rules: ProductRules = Field(default_factory=ProductRules)
    active: bool = True

    @model_validator(mode="after")
    def _ranges(self) -> ProductFields:
        if self.min_amount <= 0 or self.min_amount > self.max_amount:
            raise ValueError("need 0 < min_amount <= max_amount")
        if self.min_term_months > self.max_term_months:
            raise ValueError("need min_term_months <= max_term_months")
        if self.apr_min > self.apr_max:
            raise ValueError("need apr_min <= apr_max")
        return self


class NewProduct(ProductFields):
    lender_id: int


class ProductOut(Response):
    id: int
    org_id: int
    lender_id: int
    lender_name: str
    name: str
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    apr_min: Decimal
    apr_max: Decimal
    repayment_method: str
    fees: list[dict[str, Any]]
    channel_fee_rate: Decimal
    rules: dict[str, Any]
    apr_worst: Decimal = Field(description="all-in APR (IRR, lender fees included), dearest case")
    apr_flagged: bool = Field(description="above the org's apr_flag (24% by default)")
    active: bool
    offered_to: list[int] = Field(default_factory=list, description="partner org ids (HQ only)")


class ProductFilters(PageArgs):
    active: bool | None = None
    lender_id: int | None = None


class ProductOffers(RequestBody):
    org_ids: list[int] = Field(max_length=500, description="partner orgs that may use it")


class Exclusion(Response):
    rule: str
    code: str
    message: str
    message_en: str


class MatchOut(Response):
    product: ProductOut
    eligible: bool
    exclusions: list[Exclusion]
    to_confirm: list[Exclusion]


class MatchesOut(Response):
    lead_id: int
    eligible: list[MatchOut]
    excluded: list[MatchOut]


class NewApplication(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    lead_id: int
    product_id: int
    amount: MoneyIn
    term_months: int = Field(ge=1, le=360)
    service_fee: MoneyIn = Field(description="the broker's fee (居间服务费), paid at disbursement")
    annual_rate: RateIn | None = Field(None, description="default: the product's apr_max")
    note: str | None = Field(None, max_length=2000)


class UpdateApplication(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    amount: MoneyIn | None = None
    term_months: int | None = Field(None, ge=1, le=360)
    service_fee: MoneyIn | None = None
    annual_rate: RateIn | None = None
    note: str | None = Field(None, max_length=2000)


class Decision(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    decision: Literal["approve", "reject", "request_documents"] | None = None
    approved: bool | None = Field(None, description="API.md v1 form: true approves, false rejects")
    note: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _one_decision(self) -> Decision:
        if (self.decision is None) == (self.approved is None):
            raise ValueError("give either decision or approved")
        if self.decision is None:
            self.decision = "approve" if self.approved else "reject"
        if self.decision != "approve" and not (self.note and self.note.strip()):
            raise ValueError("a rejection or a request for documents needs a note")
        return self


class Cancel(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=200)


class DocumentOut(Response):
    id: int
    application_id: int
    kind: str
    filename: str
    mime: str
    size: int
    sha256: str
    uploaded_by: int | None
    created_at: datetime


class DocumentForm(RequestBody):
    model_config = ConfigDict(extra="forbid")

    kind: DocumentKind


class QuoteRow(Response):
    n: int
    due_date: str
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal


class ApplicationOut(Response):
    id: int
    org_id: int
    lead_id: int
    lead_name_masked: str | None
    product_id: int
    product_name: str
    lender_name: str
    status: str
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    service_fee: Decimal
    apr: Decimal
    effective_rate: Decimal
    apr_flagged: bool
    agent_id: int | None
    reviewer_id: int | None
    note: str | None
    decision_note: str | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    review_started_at: datetime | None
    decided_at: datetime | None
    seconds_in_review: int | None = Field(description="since submission, while awaiting review")
    loan_id: int | None = None


class ApplicationDetail(ApplicationOut):
    documents: list[DocumentOut]
    contracts: list[ContractOut]
    schedule: list[QuoteRow]
    fees: list[dict[str, Any]]
    total_repayment: Decimal
    net_disbursed: Decimal


class ApplicationFilters(PageArgs):
    status: Status | None = None
    lead_id: int | None = None
    queue: Literal["mine", "all"] = Field(
        "all", description="mine: applications assigned to me for review"
    )


class ContractOut(Response):
    id: int
    application_id: int
    version: int
    contract_no: str
    html_sha256: str
    pdf_sha256: str | None = Field(description="null until the PDF is rendered (a moment)")
    created_at: datetime
    signed_at: datetime | None
    signed_ip: str | None
    sign_method: str | None

    @field_validator("pdf_sha256")
    @classmethod
    def _pending(cls, value: str | None) -> str | None:
        return value or None


class SignContract(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    method: Literal["in_person", "e_signature", "video"] = "in_person"


class NewContractTemplate(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str = Field(min_length=20, max_length=200_000)
    consent_text: str = Field(min_length=10, max_length=20_000)


class ContractTemplateOut(Response):
    id: int
    org_id: int
    version: int
    body: str
    consent_text: str
    created_at: datetime


class ScheduleRowOut(Response):
    n: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    total: Decimal
    paid: Decimal
    status: Literal["pending", "partial", "paid", "overdue"]
    days_past_due: int
    paid_at: datetime | None


class RepaymentOut(Response):
    id: int
    loan_id: int
    amount: Decimal
    paid_at: datetime
    allocation: list[dict[str, Any]]
    recorded_by: int | None


class LoanOut(Response):
    id: int
    org_id: int
    application_id: int
    lead_id: int
    lead_name_masked: str | None
    product_id: int
    product_name: str
    lender_id: int
    lender_name: str
    agent_id: int | None
    amount: Decimal
    term_months: int
    annual_rate: Decimal
    repayment_method: str
    service_fee: Decimal
    channel_fee: Decimal
    apr: Decimal
    effective_rate: Decimal
    apr_flagged: bool
    disbursed_at: datetime
    status: str
    team_id: int | None
    team_lead_id: int | None
    service_fee_collected_at: datetime | None
    channel_fee_collected_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    outstanding_principal: Decimal
    days_past_due: int
    bucket: str | None = Field(description="M1 (1-30 days past due), M2, M3, M3+")


class LoanDetail(LoanOut):
    schedule: list[ScheduleRowOut]
    repayments: list[RepaymentOut]


class LoanFilters(PageArgs):
    lead_id: int | None = None


class OverdueRow(Response):
    id: int
    loan_id: int
    lead_id: int
    lead_name_masked: str | None
    agent_id: int | None
    product_name: str
    lender_name: str
    n: int
    due_date: date
    total: Decimal
    paid: Decimal
    days_past_due: int
    bucket: str | None


class Disburse(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    amount: MoneyIn
    disbursed_at: AwareDatetime


class CancelLoan(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=200)


class FeeCollected(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    collected_at: AwareDatetime


class NewRepayment(RequestBody):
    model_config = ConfigDict(extra="forbid", strict=True)

    amount: MoneyIn
    paid_at: AwareDatetime


ApplicationDetail.model_rebuild()
