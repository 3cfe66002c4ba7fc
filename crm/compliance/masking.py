"""Default display masks for PII: what every user sees unless allowed to reveal the value."""

from __future__ import annotations

import re

MASK = "*"


def _keep_ends(value: str, head: int, tail: int) -> str:
    # Keeping both ends of a value this short would reveal all of it, so hide it all instead.
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_phone(national: str | None) -> str | None:
    """Keep first 3 and last 4 digits (138****5678); under 8 digits keep only the last 2."""
    if national is None:
        return None
    if len(national) >= 8:
        return _keep_ends(national, 3, 4)
    return _keep_ends(national, 0, 2)


def mask_id_number(number: str | None) -> str | None:
    """18-char resident ID -> "110101********123X"; other lengths keep the first and last 2."""
    if number is None:
        return None
    if len(number) == 18:
        return _keep_ends(number, 6, 4)
    return _keep_ends(number, 2, 2)


def mask_name(name: str | None) -> str | None:
    """Keep the first character and spaces, star the rest: 张三丰 -> 张**, John Doe -> J*** ***."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        return ""
    return name[0] + "".join(ch if ch.isspace() else MASK for ch in name[1:])


# a mainland mobile number as people write it (+86 138-1234-5678, 8613812345678, 138 1234 5678)
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])"
)
# an 18-character resident ID number
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def mask_in_text(text: str) -> str:
    """`text` with every phone and ID number in it masked, for text that may quote what a person
    typed or a file held (an error about a spreadsheet cell, a log line)."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone("".join(m.groups())), text)


def masked_search(query: str) -> str:
    """A search for a person (their phone, ID number or name) as a record may keep it."""
    masked = mask_in_text(query)
    return masked if masked != query else mask_name(query) or ""
