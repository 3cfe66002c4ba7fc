"""Validation of Chinese resident ID numbers (居民身份证号) and what they encode."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from crm.compliance.masking import mask_id_number
from crm.errors import DomainError

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
# ISO 7064 MOD 11-2 as GB 11643 states it: weight of position i is 2**(17 - i) mod 11, and the
# check character is looked up by the weighted sum mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH = datetime.date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class IdNumberInfo:
    number: str
    birth_date: datetime.date
    gender: str
    region_code: str

    def age_on(self, day: datetime.date) -> int:
        """Completed years on `day`; someone born on 29 February ages on 1 March in common years."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


def parse_id_number(raw: str | None, today: datetime.date | None = None) -> IdNumberInfo:
    """Validate an 18-character resident ID; raises DomainError("invalid_id_number")."""
    number = "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()
    if not number:
        raise _invalid("ID number is empty", number)
    if len(number) == 15 and number.isdigit():
        raise _invalid("15-digit ID numbers are no longer valid; 18 digits are required", number)
    if not _SHAPE.fullmatch(number):
        raise _invalid("ID number must be 17 digits followed by a digit or X", number)
    if number[0] not in "12345678":
        raise _invalid("ID number does not start with a valid region code", number)
    birth_date = _birth_date(number, today or datetime.date.today())
    if number[17] != check_character(number[:17]):
        raise _invalid("ID number check digit does not match; please look for a typo", number)
    return IdNumberInfo(
        number=number,
        birth_date=birth_date,
        gender="male" if int(number[16]) % 2 else "female",
        region_code=number[:6],
    )


def check_character(first17: str) -> str:
    """The 18th character an ID number starting with these 17 digits must end with."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(number: str, today: datetime.date) -> datetime.date:
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _invalid("ID number contains a birth date that does not exist", number) from None
    if birth_date > today:
        raise _invalid("ID number contains a birth date in the future", number)
    if birth_date < _EARLIEST_BIRTH:
        raise _invalid("ID number contains a birth date before 1900", number)
    return birth_date


def _invalid(message: str, number: str) -> DomainError:
    # An ID number is sensitive personal data: the message never carries it, the hint only masked.
    return DomainError("invalid_id_number", message, details={"value_hint": mask_id_number(number)})
