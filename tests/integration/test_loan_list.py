"""The loan list (GET /loans): each row shows what the loan's own page shows, and a page of 30
loans costs the database as many statements as a page of 5."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from crm.extensions import db
from crm.orgs.schemas import OrgSettings
from tests.loan_rows import Due, make_lender, make_loan

pytestmark = pytest.mark.integration

TODAY = date.today()


def schedule(i: int) -> list[Due]:
    """Four shapes of loan, amounts apart: on time, M2 and partly paid, M3+, repaid."""
    amount = Decimal(1000 + i)
    return [
        [Due(TODAY - timedelta(100), amount, amount), Due(TODAY + timedelta(20), amount)],
        [Due(TODAY - timedelta(45), amount, Decimal(400)), Due(TODAY - timedelta(15), amount)],
        [Due(TODAY - timedelta(100), amount), Due(TODAY - timedelta(70), amount)],
        [Due(TODAY - timedelta(60), amount, amount), Due(TODAY - timedelta(30), amount, amount)],
    ][i % 4]


@pytest.fixture
def loans(make) -> list[int]:
    """30 loans, every other one a partner's whose lower APR flag marks them (0.10 > 0.05) and
    whose office keeps another time zone."""
    hq = make.org("hq")
    partner_settings = OrgSettings(apr_flag=Decimal("0.05"), timezone="America/New_York")
    partner = make.org("partner", settings=partner_settings.model_dump(mode="json"))
    products = {org.id: make_lender(org)[1] for org in (hq, partner)}
    ids = []
    for i in range(30):
        org = (hq, partner)[i % 2]
        lead = make.lead(org, owner=make.user("agent", org=org), name=f"借款人{i}")
        loan, _ = make_loan(lead, products[org.id], schedule(i))
        ids.append(loan.id)
    return ids


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_page_of_30_loans_takes_as_many_statements_as_a_page_of_5(client, auth, loans):
    admin = auth.login("admin")
    counts = {}
    for per_page in (5, 30):
        with statements() as sent:
            page = client.get(f"/api/v1/loans?per_page={per_page}", headers=admin)
        assert page.status_code == 200, page.json
        assert len(page.json["items"]) == per_page
        counts[per_page] = len(sent)
    assert counts[5] == counts[30]


def test_each_row_of_the_list_shows_what_the_loans_own_page_shows(client, auth, loans):
    admin = auth.login("admin")
    listed = client.get("/api/v1/loans?per_page=30", headers=admin).json["items"]
    assert sorted(row["id"] for row in listed) == sorted(loans)
    for row in listed:
        detail = client.get(f"/api/v1/loans/{row['id']}", headers=admin).json
        del detail["schedule"], detail["repayments"]
        assert row == detail
    # the rows differ in what the comparison is about
    assert {row["bucket"] for row in listed} == {None, "M2", "M3+"}
    assert {row["apr_flagged"] for row in listed} == {True, False}
    assert {row["outstanding_principal"] for row in listed} >= {"0.00", "1602.00", "2004.00"}
