"""A contract at rest: its HTML names the borrower, so it is encrypted in its row like the
lead's own name (bound to the contract's number); its PDF is in the document storage once
rendered. Both hashes are of the plaintext, which key rotation does not change."""

from __future__ import annotations

from crm.compliance.pii import PiiVault
from crm.loans.models import Contract

# a contract whose PDF is not rendered yet (see contracts.ensure_pdf)
PDF_PENDING = ""


def encrypt_html(vault: PiiVault, contract_no: str, html: str) -> str:
    return vault.cipher.encrypt(html, _html_field(contract_no))


def contract_html(vault: PiiVault, contract: Contract) -> str:
    return vault.cipher.decrypt(contract.html, _html_field(contract.contract_no))


def reencrypt_html(vault: PiiVault, contract: Contract) -> bool:
    """Key rotation: the stored HTML encrypted with the active key, unless it is already
    (False)."""
    if not vault.cipher.needs_rotation(contract.html):
        return False
    contract.html = vault.cipher.reencrypt(contract.html, _html_field(contract.contract_no))
    return True


def _html_field(contract_no: str) -> str:
    return f"contract.html:{contract_no}"
