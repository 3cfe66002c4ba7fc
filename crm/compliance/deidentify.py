"""De-identified lead datasets for analysts: which columns are dropped, tokenised, generalised or
kept, the keyed tokens that let two exports join, and the masking report (k-anonymity).

Plain functions over plain values: the export job feeds them rows, no Flask and no ORM objects."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Any

from crm.compliance.crypto import PiiCipher
from crm.leads.cells import neutralise_formula
from crm.leads.models import FUNNEL
from crm.leads.schemas import Qualifications

# A group of (age band, gender, city) smaller than this singles people out too easily.
K_ANONYMITY = 5
# Retention retires a lead's phone index with this prefix (crm/compliance/retention.py); such a
# lead has no phone left to tokenise.
RETIRED_PREFIX = "retired:"

QUALIFICATIONS = tuple(Qualifications.model_fields)
DROPPED = ("name", "lead_id", "owner_id", "purpose", "remark", "lost_reason", "birth_year")
TOKENISED = ("phone", "id_number")
GENERALISED = {"birth_year": "age_band", "created_at": "created_month"}
# kept as they are, in the lead's columns of the same name
PLACES = ("gender", "city", "province", "carrier", "source")
KEPT = (*PLACES, "stage", "reached_stage", "score", "amount_wanted", "term_months", *QUALIFICATIONS)
HEADER = ("phone_token", "id_number_token", "age_band", "created_month", *KEPT)
# lower bounds of the age bands; an analyst needs the band, never the birth year
_BANDS = (18, 25, 35, 45, 55, 65)
# hex digits written as letters: a token never contains a run of digits that could be mistaken
# for (or searched as) a fragment of a phone or ID number, and no spreadsheet reads it as a number
_LETTERS = bytes.maketrans(b"0123456789abcdef", b"abcdefghijklmnop")
_IPAD = bytes(byte ^ 0x36 for byte in range(256))
_OPAD = bytes(byte ^ 0x5C for byte in range(256))
# The label the token key is derived under; a new version gives unrelated tokens.
TOKEN_KEY_VERSION = "v1"


class Tokenizer:
    """Keyed tokens for personal values that stay joinable across exports.

    The key is HMAC(blind-index key, label): derived from the PII key material, so the same
    deployment always gives the same token for the same person, and it survives data-key
    rotation (the index key is never rotated). A token is a MAC of the blind index under that
    derived key, never the blind index itself, so a dataset cannot be joined back to the leads
    table by anyone without the keyring."""

    def __init__(self, cipher: PiiCipher, version: str = TOKEN_KEY_VERSION) -> None:
        key = bytes.fromhex(cipher.blind_index("deidentified-token-key", version))
        # HMAC-SHA256 (RFC 2104) with the keyed inner and outer states hashed once: each token
        # then costs two hash copies, against OpenSSL 3 looking the digest up by name on every
        # one-shot hmac.digest call (2.7 times slower; a million leads are two million tokens)
        key = key.ljust(hashlib.sha256().block_size, b"\0")
        self._inner = hashlib.sha256(key.translate(_IPAD))
        self._outer = hashlib.sha256(key.translate(_OPAD))

    def token(self, kind: str, blind_index: str | None) -> str:
        if not blind_index or blind_index.startswith(RETIRED_PREFIX):
            return ""
        inner = self._inner.copy()
        inner.update(f"{kind}:{blind_index}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        # 12 bytes = 96 bits: collisions stay out of reach at 10M people
        return kind[0].upper() + outer.digest()[:12].hex().encode().translate(_LETTERS).decode()


@lru_cache(maxsize=1024)  # an export asks for each birth year again and again
def age_band(birth_year: int | None, today: date) -> str:
    if birth_year is None:
        return ""
    age = today.year - birth_year
    if age < _BANDS[0]:
        return f"<{_BANDS[0]}"
    for low, high in pairwise(_BANDS):
        if age < high:
            return f"{low}-{high - 1}"
    return f"{_BANDS[-1]}+"


# the lead columns a row of the dataset is made from, in this order
SOURCE_COLUMNS = (
    *("phone_bidx", "id_number_bidx", "birth_year", "created_month"),
    *PLACES,
    *("stage", "reached_rank", "score", "amount_wanted", "term_months", "qualifications"),
)


def deidentified_row(lead: Sequence[Any], tokens: Tokenizer, today: date) -> list[str]:
    """One dataset row (HEADER order) from a lead's ("id", *SOURCE_COLUMNS) values.

    `created_month` is the UTC "YYYY-MM" of the lead's creation; `amount_wanted` and
    `qualifications` come as text (see TEXT_COLUMNS)."""
    # unpacked by position: a million attribute lookups on result rows cost seconds
    (
        _,
        phone,
        id_number,
        birth_year,
        created_month,
        *places,
        stage,
        rank,
        score,
        amount,
        term,
        quals,
    ) = lead
    return [
        tokens.token("phone", phone),
        tokens.token("id_number", id_number),
        age_band(birth_year, today),
        created_month,
        # typed by people (a source named "=HYPERLINK(...)"): shown as text, never run
        *[neutralise_formula(value or "") for value in places],
        stage,
        FUNNEL[rank],
        str(score),
        "" if amount is None else _amount(amount),
        "" if term is None else str(term),
        *_qualifications(quals),
    ]


# Read as text, not through the column types: building a datetime, a Decimal and a decoded JSON
# document per row in the driver, only to take a few values out again, was two thirds of the
# export's time on PostgreSQL (bench/deidentified_export.py).
TEXT_COLUMNS = frozenset({"amount_wanted", "qualifications"})


@lru_cache(maxsize=4096)  # amounts wanted are round figures, met again and again
def _amount(amount: str) -> str:
    return format(Decimal(amount), ".2f")


@lru_cache(maxsize=16_384)  # a few thousand combinations cover a million leads (7,498 in the bench)
def _qualifications(stored: str | None) -> tuple[str, ...]:
    values = json.loads(stored) if stored else {}
    return tuple(_text(values.get(name)) for name in QUALIFICATIONS)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class MaskingReport:
    """What was done to the data, and how identifying the quasi-identifiers still are."""

    rows: int = 0
    dropped: tuple[str, ...] = DROPPED
    tokenised: tuple[str, ...] = TOKENISED
    generalised: dict[str, str] = field(default_factory=lambda: dict(GENERALISED))
    quasi_identifiers: tuple[str, ...] = ("age_band", "gender", "city")
    k: int = K_ANONYMITY
    groups: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def add(self, row: Sequence[str]) -> None:
        self.rows += 1
        # HEADER: age_band is column 2, gender and city are the first kept columns
        self.groups[row[2], row[4], row[5]] += 1

    def as_dict(self) -> dict[str, Any]:
        sizes = self.groups.values()
        return {
            "rows": self.rows,
            "columns": list(HEADER),
            "dropped": list(self.dropped),
            "tokenised": list(self.tokenised),
            "generalised": self.generalised,
            "quasi_identifiers": list(self.quasi_identifiers),
            "groups": len(self.groups),
            # k-anonymity of the dataset: the smallest group of people who look alike
            "smallest_group": min(sizes, default=0),
            "k": self.k,
            "rows_in_groups_below_k": sum(n for n in sizes if n < self.k),
        }
