"""Job: render a generated contract's PDF from its stored HTML, once."""

from __future__ import annotations

from crm.auth.actor import SYSTEM
from crm.extensions import db, runtime
from crm.loans.contracts import ensure_pdf
from crm.loans.models import Contract


def run(contract_id: int) -> dict[str, str]:
    """Idempotent: a contract already rendered (by a download that came first, or an earlier
    try) is left as it is."""
    with db.unit_of_work(SYSTEM) as session:
        contract = session.get(Contract, contract_id, with_for_update=True)
        ensure_pdf(session, runtime.documents, runtime.vault, contract)
        return {"contract_no": contract.contract_no, "pdf_sha256": contract.pdf_sha256}
