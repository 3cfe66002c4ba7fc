"""Query and response schemas of the reports; rates and money are string decimals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field, model_validator

from crm.reports.funnel import Grouping
from crm.reports.loan_book import Grouping as BookGrouping
from crm.reports.service import PERIOD_NAMES
from crm.schemas import QueryArgs, Response


def _iso_instant(value: Any) -> Any:
    # pydantic alone would take "20261001" as Unix seconds and "2026-10-01T00:00:00" as a date;
    # only ISO text is accepted, and a time needs its offset to mean one instant
    if not isinstance(value, str):
        return value
    text = value.strip()
    if len(text) == len("2026-10-01"):
        return date.fromisoformat(text)
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError("a datetime needs an offset such as +08:00")
    return instant


Instant = Annotated[AwareDatetime | date, BeforeValidator(_iso_instant)]
_FROM = "start, included: a date (midnight in your org's zone) or a datetime with offset (+ as %2B)"
_TO = "end of the period, excluded (a lead created at `to` is not in it); defaults to now"


class PeriodArgs(QueryArgs):
    """A named period, or at most 366 days; without `from` the 30 days before `to`."""

    period: Literal[PERIOD_NAMES] | None = Field(  # type: ignore[valid-type]
        None,
        description="whole days in your org's zone ending today (today, last_30_days, "
        "this_month, ...) or yesterday and last_month; instead of from and to",
    )
    from_: Instant | None = Field(None, alias="from", description=_FROM)
    to: Instant | None = Field(None, description=_TO)

    @model_validator(mode="after")
    def _one_way(self) -> PeriodArgs:
        if self.period is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("give either period or from/to")
        return self


class FunnelArgs(PeriodArgs):
    group_by: Grouping = Field(
        "source", description="`org` needs the orgs:all permission (headquarters)"
    )


class PeriodOut(Response):
    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True)

    from_: datetime = Field(validation_alias="start", serialization_alias="from")
    to: datetime = Field(validation_alias="end")


class StageCountOut(Response):
    stage: str
    count: int = Field(description="leads of the group that ever reached this stage")
    conversion: Decimal | None = Field(
        description="count / the previous stage's count; null on `new` and after a stage of 0"
    )


class FunnelGroupOut(Response):
    key: int | str | None = Field(
        description="source or city name; user, team or org id; null: no owner, team or city"
    )
    label: str | None
    leads: int
    stages: list[StageCountOut]
    lost: int = Field(description="leads lost now (they still count at the stages they reached)")
    rejected: int


class FunnelReportOut(Response):
    period: PeriodOut
    group_by: Grouping
    groups: list[FunnelGroupOut]
    total: FunnelGroupOut


class AgentRowOut(Response):
    user_id: int
    display_name: str
    org_id: int
    team_id: int | None
    team_name: str | None
    calls: int = Field(description="dial attempts started in the period")
    connected: int = Field(description="of those, the calls answered")
    connect_rate: Decimal | None = Field(description="connected / calls; null without calls")
    talk_seconds: int
    followups: int
    applications: int = Field(description="leads this user moved to `applied` in the period")
    disbursed_amount: Decimal = Field(
        description="loans this user sold disbursed in the period, not cancelled"
    )
    available_seconds: int = Field(description="time in the `available` state in the period")
    dialing_seconds: int
    on_call_seconds: int
    wrap_up_seconds: int
    break_seconds: int


class AgentReportOut(Response):
    period: PeriodOut
    agents: list[AgentRowOut]


class ChannelRowOut(Response):
    source: str
    leads: int = Field(description="leads from this source created in the period")
    cost: Decimal = Field(description="leads × the source's cost per lead, CNY")
    applications: int = Field(description="of those leads, how many reached `applied`")
    disbursed: int = Field(description="loans disbursed to those leads so far, not cancelled")
    disbursed_amount: Decimal = Field(description="the amount of those loans")
    cost_per_lead: Decimal | None
    cost_per_disbursed: Decimal | None = Field(description="cost / disbursed; null without any")
    revenue: Decimal = Field(description="service fees + channel fees of those loans")
    commission_cost: Decimal = Field(
        description="commission stated on those loans, net of clawbacks"
    )
    roi: Decimal | None = Field(
        description="(revenue - cost - commission) / (cost + commission); null without cost"
    )


class TeamEconomicsOut(Response):
    team_id: int | None = Field(description="the seller's team when the loan was paid out")
    team: str | None
    disbursed: int
    disbursed_amount: Decimal
    revenue: Decimal
    commission: Decimal


class ChannelReportOut(Response):
    period: PeriodOut
    channels: list[ChannelRowOut]
    teams: list[TeamEconomicsOut] = Field(description="the same cohort's loans per team")


class HourlyArgs(QueryArgs):
    day: date | None = Field(
        None, alias="date", description="the day, in your org's time zone; default today"
    )


class HourOut(Response):
    hour: int = Field(description="0-23, local time")
    calls: int = Field(description="dial attempts started in the hour")
    connected: int = Field(description="of those, answered")
    disbursed: int = Field(description="leads moved to disbursed in the hour")


class HourlyOut(Response):
    day: date
    timezone: str
    hours: list[HourOut]


class LoanBookArgs(QueryArgs):
    group_by: BookGrouping = "lender"
    as_of: date | None = Field(
        None, description="the day the book is read at, in your org's time zone; default today"
    )


class BookGroupOut(Response):
    key: int | None = Field(description="lender, product or org id; null on the total")
    label: str | None
    loans: int = Field(
        description="loans disbursed by the end of as_of, less those cancelled by then"
    )
    active_loans: int = Field(description="of those, the loans still owing principal")
    disbursed_amount: Decimal
    balance: Decimal = Field(description="principal still owed (余额)")
    overdue_principal: Decimal = Field(description="principal of installments unpaid past due")
    overdue_rate: Decimal | None = Field(description="overdue_principal / balance")
    m1: Decimal = Field(description="balance of the loans 1-30 days past due (oldest installment)")
    m2: Decimal = Field(description="… 31-60 days past due")
    m3: Decimal = Field(description="… 61-90 days past due")
    m3_plus: Decimal = Field(description="… over 90 days past due")


class LoanBookOut(Response):
    as_of: date
    timezone: str
    group_by: BookGrouping
    groups: list[BookGroupOut]
    total: BookGroupOut


class DailyTargetsOut(Response):
    calls: int
    connected: int
    talk_minutes: int


class MyDayOut(Response):
    period: PeriodOut
    calls: int = Field(description="dial attempts started today, as the agents report counts")
    connected: int
    talk_seconds: int
    targets: DailyTargetsOut = Field(description="the org's daily targets for each agent")
