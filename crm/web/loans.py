"""Loan pages: lenders and products, the application queue and one application, a loan with its
schedule and repayments, and the overdue list.

The data comes from the loans API (crm/loans/*api.py), which checks its permissions again on every
call; the pages carry the workflow's rules so the buttons shown are the steps the API allows."""

from __future__ import annotations

from flask import Blueprint, render_template

from crm.loans.applications import STEPS
from crm.loans.documents import OPEN_FOR_DOCUMENTS
from crm.loans.fees import FEE_BASES
from crm.loans.models import APPLICATION_STATUSES, DOCUMENT_KINDS, LENDER_KINDS
from crm.loans.schedule import METHODS
from crm.web.auth import page

bp = Blueprint("web_loans", __name__)


@bp.get("/loans/products")
@page("products:manage")
def products():
    """Lenders and products with their ranges, fees, rules and the all-in APR flag."""
    return render_template(
        "loans/products.html",
        active_nav="products",
        lender_kinds=LENDER_KINDS,
        methods=METHODS,
        fee_bases=FEE_BASES,
    )


@bp.get("/applications")
@page("applications:read")
def application_list():
    """A reviewer's queue (longest waiting first) or every application the user may see."""
    return render_template(
        "loans/applications.html", active_nav="applications", statuses=APPLICATION_STATUSES
    )


@bp.get("/applications/<int:application_id>")
@page("applications:read")
def application_detail(application_id: int):
    """One application: terms, fees, schedule, documents, contract, and the next steps."""
    return render_template(
        "loans/application.html",
        active_nav="applications",
        application_id=application_id,
        steps={target: sorted(sources) for target, (sources, _side) in STEPS.items()},
        open_for_documents=sorted(OPEN_FOR_DOCUMENTS),
        document_kinds=DOCUMENT_KINDS,
    )


@bp.get("/loans/overdue")
@page("loans:read")
def overdue():
    """Unpaid installments past due with their M1/M2/M3 bucket, the oldest first."""
    return render_template("loans/overdue.html", active_nav="overdue")


@bp.get("/loans/<int:loan_id>")
@page("loans:read")
def loan_detail(loan_id: int):
    """A loan's schedule with each installment's status, its repayments, and repayment entry."""
    return render_template("loans/loan.html", active_nav="overdue", loan_id=loan_id)
