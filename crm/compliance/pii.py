"""Personal data of a lead in its three stored forms: ciphertext, blind index and masked text."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from crm.compliance.crypto import PiiCipher
from crm.compliance.masking import mask_id_number, mask_name, mask_phone

PII_FIELDS = ("name", "phone", "id_number")


@dataclass(frozen=True, slots=True)
class Protected:
    enc: str
    bidx: str
    masked: str


def normalize_name(name: str) -> str:
    # "张 三" and "张三" are the same person for a lookup; full-width letters fold via NFKC
    return "".join(unicodedata.normalize("NFKC", name).split())


class PiiVault:
    """The only place that turns plain personal data into stored columns and back."""

    def __init__(self, cipher: PiiCipher) -> None:
        self.cipher = cipher

    @property
    def active_key_id(self) -> str:
        return self.cipher.active_key_id

    def protect_name(self, name: str) -> Protected:
        clean = normalize_name(name)
        return Protected(
            self.cipher.encrypt(clean, "lead.name"),
            self.cipher.blind_index("name", clean),
            mask_name(clean) or "",
        )

    def protect_phone(self, e164: str, national: str) -> Protected:
        return Protected(
            self.cipher.encrypt(e164, "lead.phone"),
            self.phone_index(e164),
            mask_phone(national) or "",
        )

    def protect_id_number(self, number: str) -> Protected:
        return Protected(
            self.cipher.encrypt(number, "lead.id_number"),
            self.id_number_index(number),
            mask_id_number(number) or "",
        )

    def phone_index(self, e164: str) -> str:
        return self.cipher.blind_index("phone", e164)

    def id_number_index(self, number: str) -> str:
        return self.cipher.blind_index("id_number", number)

    def name_index(self, name: str) -> str:
        return self.cipher.blind_index("name", normalize_name(name))

    def reveal(self, token: str, field: str) -> str:
        """The stored value (phones in E.164, as the dialer needs them)."""
        return self.cipher.decrypt(token, f"lead.{field}")

    def show(self, token: str, field: str) -> str:
        """The value as a person reads it: mainland phones without +86, as brokers write them."""
        value = self.reveal(token, field)
        if field == "phone" and value.startswith("+86"):
            return value[3:]
        return value

    def reencrypt(self, token: str, field: str) -> str:
        return self.cipher.reencrypt(token, f"lead.{field}")
