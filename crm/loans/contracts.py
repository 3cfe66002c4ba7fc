"""Contracts: generated from the org's template with every fee disclosed (明示收费), stored
immutable with their hashes, versioned, signed with time and IP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.compliance import audit
from crm.compliance.pii import PiiVault
from crm.db import after_rollback, utcnow
from crm.errors import DomainError, NotFound
from crm.leads.models import Lead
from crm.loans import contract_render as render
from crm.loans.applications import advance, application_fees, application_quote, get_application
from crm.loans.contract_sealing import PDF_PENDING, contract_html, encrypt_html
from crm.loans.models import Application, Contract, ContractTemplate
from crm.loans.products import application_product
from crm.loans.schemas import NewContractTemplate
from crm.loans.storage import DocumentStorage, storage_key
from crm.orgs.models import Org
from crm.pools.ownership import org_settings

DEFAULT_CONSENT = (
    "借款人已阅读并理解本合同全部条款，特别是综合年化成本（APR）及各项费用的收取方、收取方式与标准；"
    "居间服务方已明示全部收费项目，除本合同列明的费用外不另行收取任何费用。"
    "借款人同意居间服务方为办理本次借款处理其个人信息，并可随时撤回该同意。"
)
_BASIS_TEXT = {
    "upfront_rate": "按借款金额 {pct} 于放款时一次性收取",
    "upfront_fixed": "放款时一次性收取",
    "monthly_rate": "每期按借款金额 {pct} 收取",
    "monthly_fixed": "每期固定收取",
}


@dataclass(frozen=True, slots=True)
class ContractFile:
    contract: Contract
    content: bytes
    mime: str


def set_template(session: Session, actor: Actor, data: NewContractTemplate) -> ContractTemplate:
    """A new version of the org's template; it is tried on sample terms first, so a broken
    template is refused here rather than when an application needs its contract."""
    render.render_html(_sample(), data.body)
    latest = session.scalar(select(func.max(ContractTemplate.version))) or 0
    template = ContractTemplate(
        org_id=actor.org_id,
        version=latest + 1,
        body=data.body,
        consent_text=data.consent_text,
        created_by=actor.user_id,
    )
    session.add(template)
    session.flush()
    return template


def generate(
    session: Session,
    actor: Actor,
    storage: DocumentStorage,
    vault: PiiVault,
    application_id: int,
    now: datetime | None = None,
) -> Contract:
    """A new contract version for an approved application (never an overwrite of the last)."""
    now = now or utcnow()
    application = get_application(session, actor, application_id, for_update=True)
    actor.require("applications:write")
    if application.status != "approved":
        raise DomainError(
            "application_locked",
            "a contract is generated for an approved application that is not yet signed",
            details={"status": application.status},
        )
    template = session.scalars(
        select(ContractTemplate)
        .where(ContractTemplate.org_id == application.org_id)
        .order_by(ContractTemplate.version.desc())
        .limit(1)
    ).first()
    previous = _latest(session, application.id)
    version = previous.version + 1 if previous else 1
    data = _contract_data(session, vault, application, version, template, now)
    html = render.render_html(data, template.body if template else None)
    contract = Contract(
        org_id=application.org_id,
        application_id=application.id,
        version=version,
        contract_no=data.contract_no,
        template_id=template.id if template else None,
        terms=_terms(data),
        # it names the borrower: encrypted at rest like the lead's own name
        html=encrypt_html(vault, data.contract_no, html),
        html_sha256=render.sha256_hex(html.encode()),
        pdf_key=storage_key(application.org_id, application.id, ".pdf"),
        pdf_sha256=PDF_PENDING,
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(contract)
    session.flush()
    return contract


def ensure_pdf(
    session: Session, storage: DocumentStorage, vault: PiiVault, contract: Contract
) -> bytes:
    """The contract's PDF, rendered from its stored HTML the first time it is needed (by the
    job queued when it was generated, or by a download that came first): rendering takes
    0.5-3 s, which no request that generates a contract should wait for. Rendered once, then
    kept with its hash."""
    if contract.pdf_sha256 != PDF_PENDING:
        return storage.get(contract.pdf_key)
    pdf = render.render_pdf(contract_html(vault, contract))
    storage.put(contract.pdf_key, pdf)
    after_rollback(session, lambda: storage.delete(contract.pdf_key))
    contract.pdf_sha256 = render.sha256_hex(pdf)
    return pdf


def sign(
    session: Session, actor: Actor, application_id: int, method: str, now: datetime | None = None
) -> Contract:
    """The borrower signed the latest version: recorded with time, IP and who witnessed it."""
    now = now or utcnow()
    application = get_application(session, actor, application_id, for_update=True)
    contract = _latest(session, application.id)
    if contract is None:
        raise DomainError("no_contract", "generate the contract before it is signed")
    advance(session, actor, application.id, "contract_signed", now)
    contract.signed_at, contract.signed_ip = now, actor.ip
    contract.signed_by, contract.sign_method = actor.user_id, method
    return contract


def list_contracts(session: Session, application_id: int) -> list[Contract]:
    return list(
        session.scalars(
            select(Contract)
            .where(Contract.application_id == application_id)
            .order_by(Contract.version.desc())
        )
    )


def download(
    session: Session,
    actor: Actor,
    storage: DocumentStorage,
    vault: PiiVault,
    application_id: int,
    version: int,
    kind: str,
) -> ContractFile:
    """A contract names the borrower: reading it is audited like any look at personal data."""
    application = get_application(session, actor, application_id)
    found = select(Contract).where(
        Contract.application_id == application.id, Contract.version == version
    )
    if kind == "pdf":
        # the first download may render the PDF (as the job does, under the same lock), and
        # key rotation moves the file to a new storage key and deletes the old one once it has
        # committed (crm/compliance/rotation.py): either waits for the other
        found = found.with_for_update()
    contract = session.scalars(found).one_or_none()
    if contract is None:
        raise NotFound("contract")
    audit.record(
        session,
        actor,
        "contract_download",
        application.org_id,
        lead_id=application.lead_id,
        fields=["name"],
        purpose="loan contract",
        details={"application_id": application.id, "version": version, "format": kind},
    )
    if kind == "html":
        html = contract_html(vault, contract)
        return ContractFile(contract, html.encode(), "text/html; charset=utf-8")
    return ContractFile(contract, ensure_pdf(session, storage, vault, contract), "application/pdf")


def _latest(session: Session, application_id: int) -> Contract | None:
    return session.scalars(
        select(Contract)
        .where(Contract.application_id == application_id)
        .order_by(Contract.version.desc())
        .limit(1)
    ).first()


def _contract_data(
    session: Session,
    vault: PiiVault,
    application: Application,
    version: int,
    template: ContractTemplate | None,
    now: datetime,
) -> render.ContractData:
    product, lender_name = application_product(session, application.product_id)
    lead = session.get(Lead, application.lead_id)
    org = session.get(Org, application.org_id)
    start = now.astimezone(ZoneInfo(org_settings(session, application.org_id).timezone)).date()
    q = application_quote(application, start)
    fees = application_fees(application)
    return render.ContractData(
        contract_no=f"LL{application.org_id:04d}{application.id:08d}-{version}",
        version=version,
        org_name=org.name,
        lender_name=lender_name,
        product_name=product.name,
        parties=[
            render.ContractParty(
                "借款人",
                # a contract is signed in the borrower's own name; reading it is audited
                vault.reveal(lead.name_enc, "name") if lead.name_enc else "",
                lead.id_number_masked,
            ),
            render.ContractParty("居间服务方", org.name),
            render.ContractParty("出借方", lender_name),
        ],
        amount=application.amount,
        term_months=application.term_months,
        repayment_method=application.repayment_method,
        annual_rate=application.annual_rate,
        apr=q.apr,
        effective_rate=q.effective_rate,
        fees=[
            render.ContractFee(
                fee.name,
                "借款人",
                "居间服务方" if fee.collector == "broker" else "出借方",
                _BASIS_TEXT[fee.basis].format(pct=f"{fee.value:.2%}"),
                fee.upfront(application.amount)
                + fee.monthly(application.amount) * application.term_months,
            )
            for fee in fees
        ],
        schedule=[
            render.ContractRow(r.n, r.due_date, r.principal, r.interest, r.fee, r.total)
            for r in q.schedule
        ],
        total_interest=q.total_interest,
        total_fees=q.total_fees,
        total_repayment=q.total_repayment,
        net_disbursed=q.net_disbursed,
        consent_text=template.consent_text if template else DEFAULT_CONSENT,
        generated_at=now,
    )


def _terms(data: render.ContractData) -> dict:
    return {
        "amount": str(data.amount),
        "term_months": data.term_months,
        "annual_rate": str(data.annual_rate),
        "apr": str(data.apr),
        "effective_rate": str(data.effective_rate),
        "fees": [
            {"name": f.name, "basis": f.basis_text, "amount": str(f.amount)} for f in data.fees
        ],
        "total_repayment": str(data.total_repayment),
    }


def _sample() -> render.ContractData:
    """Terms to try a new template on."""
    return render.ContractData(
        contract_no="SAMPLE",
        version=1,
        org_name="样例机构",
        lender_name="样例银行",
        product_name="样例产品",
        parties=[render.ContractParty("借款人", "张三", "110101********123X")],
        amount=Decimal("10000.00"),
        term_months=1,
        repayment_method="bullet",
        annual_rate=Decimal("0.12"),
        apr=Decimal("0.12"),
        effective_rate=Decimal("0.1268"),
        fees=[],
        schedule=[
            render.ContractRow(
                1, date(2026, 2, 1), Decimal("10000"), Decimal("100"), Decimal(0), Decimal("10100")
            )
        ],
        total_interest=Decimal("100"),
        total_fees=Decimal("0"),
        total_repayment=Decimal("10100"),
        net_disbursed=Decimal("10000"),
        consent_text=DEFAULT_CONSENT,
        generated_at=datetime(2026, 1, 1).astimezone(),
    )
