"""Request and response schemas for leads; the lead object never carries plain personal data."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Json, model_validator

from crm.leads.cells import MAX_AMOUNT_WANTED, MAX_TERM_MONTHS
from crm.leads.models import STAGES
from crm.schemas import PageArgs, QueryArgs, RequestBody, Response
from crm.scoring.models import loaded_score_row
from crm.scoring.rules import breakdown
from crm.scoring.schemas import ScoreFactor

Stage = Literal[STAGES]  # type: ignore[valid-type]
Asset = Literal["none", "owned", "mortgaged"]
Money = Decimal


class Qualifications(BaseModel):
    """资质: what a lender looks at. Unknown stays null rather than guessed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    monthly_income: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    employment: Literal["salaried", "self_employed", "business_owner", "other"] | None = None
    social_security: bool | None = None
    provident_fund: bool | None = None
    house: Asset | None = None
    car: Asset | None = None
    insurance_policy: bool | None = None
    business_licence: bool | None = None
    credit_status: Literal["good", "minor_overdue", "serious_overdue", "no_record"] | None = None
    # Lenders' thresholds are durations ("社保连续缴纳满 6 个月", "营业执照满 1 年") and a count of
    # credit-report queries (征信查询次数); whole months state 6-month and N-year rules exactly.
    social_security_months: int | None = Field(None, ge=0, le=600)
    provident_fund_months: int | None = Field(None, ge=0, le=600)
    credit_queries_3m: int | None = Field(None, ge=0, le=200)
    business_licence_months: int | None = Field(None, ge=0, le=1200)


class QualificationsOut(Qualifications):
    """Read back from stored JSON, where money is already a string."""

    model_config = ConfigDict(extra="ignore", strict=False)


class Consent(RequestBody):
    given_at: AwareDatetime
    method: str = Field(min_length=1, max_length=32)
    text_version: str = Field(min_length=1, max_length=32)


class LeadFields(RequestBody):
    """Editable lead fields shared by create and update."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    city: str | None = Field(None, max_length=32)
    amount_wanted: Decimal | None = Field(None, ge=0, le=MAX_AMOUNT_WANTED, decimal_places=2)
    term_months: int | None = Field(None, ge=1, le=MAX_TERM_MONTHS)
    purpose: str | None = Field(None, max_length=100)
    qualifications: Qualifications | None = None
    remark: str | None = Field(None, max_length=2000)


class CreateLead(LeadFields):
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=1, max_length=40)
    id_number: str | None = Field(None, max_length=40)
    source: str = Field(min_length=1, max_length=64)
    consent: Consent


class UpdateLead(LeadFields):
    name: str | None = Field(None, min_length=1, max_length=50)
    phone: str | None = Field(None, min_length=1, max_length=40)
    id_number: str | None = Field(None, max_length=40)
    source: str | None = Field(None, min_length=1, max_length=64)
    consent: Consent | None = None


class LeadOut(Response):
    id: int
    org_id: int
    name_masked: str | None
    phone_masked: str
    id_number_masked: str | None
    city: str | None
    province: str | None
    carrier: str | None
    source: str
    stage: str
    score: int
    owner_id: int | None
    pool: Literal["public", "private"]
    amount_wanted: Decimal | None
    term_months: int | None
    purpose: str | None
    qualifications: QualificationsOut
    age: int | None = None
    gender: str | None
    consent_given_at: datetime | None
    consent_method: str | None
    consent_text_version: str | None
    created_at: datetime
    last_followup_at: datetime | None
    next_followup_at: datetime | None
    # GET /leads/{id} only: why the lead has its score, factor by factor (lists leave it null)
    score_breakdown: list[ScoreFactor] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _with_breakdown(cls, value: Any, handler: Any) -> LeadOut:
        out = handler(value)
        row = loaded_score_row(value)
        if row is not None:
            out.score_breakdown = [ScoreFactor(**f) for f in breakdown(row.breakdown)]
        return out


SortKey = Literal[
    "-score", "score", "created_at", "-created_at", "-last_followup_at", "last_followup_at"
]


class LeadFilters(PageArgs):
    pool: Literal["public", "mine", "all"] = "all"
    stage: Stage | None = None
    source: str | None = None
    city: str | None = None
    owner_id: int | None = None
    org_id: int | None = None
    q: str | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="a full phone number, ID number or name (exact match)",
    )
    min_score: int | None = Field(None, ge=0, le=100)
    sort: SortKey = "-created_at"


class ExportArgs(LeadFilters):
    format: Literal["csv", "xlsx"] = "csv"
    per_page: int = Field(100_000, ge=1, le=100_000)
    # full personal data leaves only with a stated purpose (audited); without one it is masked
    purpose: str | None = Field(None, min_length=4, max_length=500)


class RevealRequest(RequestBody):
    fields: list[Literal["phone", "id_number", "name"]] = Field(min_length=1, max_length=3)
    purpose: str = Field(min_length=4, max_length=500)


class Revealed(Response):
    lead_id: int
    phone: str | None = None
    id_number: str | None = None
    name: str | None = None


class DuplicateOverlap(Response):
    org_id: int
    other_org_id: int
    leads: int


class JobAccepted(Response):
    job_id: str


class ImportForm(QueryArgs):
    """Form fields sent with the uploaded sheet (multipart values arrive as text)."""

    source: str | None = Field(
        None, min_length=1, max_length=64, description="source for rows whose sheet has none"
    )
    mapping: Json[dict[str, str]] | None = Field(
        None, description='JSON object: our field -> header in the file, e.g. {"phone": "客户手机"}'
    )
    consent_method: str | None = Field(None, min_length=1, max_length=32)
    consent_text_version: str | None = Field(None, min_length=1, max_length=32)
    pool_id: int | None = Field(
        None, description="import into this pool of your org (default: the main public pool)"
    )


class EventOut(Response):
    id: int | None
    kind: str
    at: datetime
    actor_id: int | None
    actor_name: str | None = Field(None, description="who did it (display name)")
    data: dict


SourceKind = Literal["form", "partner", "purchased", "referral", "remarketing", "other"]
Price = Annotated[Decimal, Field(ge=0, le=Decimal("100000"), decimal_places=2)]


class NewSource(RequestBody):
    name: str = Field(min_length=1, max_length=64)
    kind: SourceKind = "other"
    cost_per_lead: Price = Decimal("0")


class SourceChange(RequestBody):
    kind: SourceKind | None = None
    cost_per_lead: Price | None = None


class SourceOut(Response):
    id: int
    org_id: int
    name: str
    kind: str
    cost_per_lead: Decimal
    created_at: datetime
