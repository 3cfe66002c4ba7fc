"""Unit tests for the de-identification rules: age bands, keyed tokens, the masking report."""

from __future__ import annotations

import hmac
from datetime import date

import pytest

from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.deidentify import (
    HEADER,
    RETIRED_PREFIX,
    MaskingReport,
    Tokenizer,
    age_band,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("birth_year", "band"),
    [(None, ""), (2010, "<18"), (2008, "18-24"), (2002, "18-24"), (2001, "25-34"), (1961, "65+")],
)
def test_age_band_edges(birth_year, band):
    assert age_band(birth_year, TODAY) == band


def test_tokens_depend_on_the_keyring_and_on_the_kind():
    keyring = PiiKeyring.generate_json()
    same = Tokenizer(PiiCipher(PiiKeyring.from_json(keyring)))
    again = Tokenizer(PiiCipher(PiiKeyring.from_json(keyring)))
    other = Tokenizer(PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json())))
    index = "a" * 64

    assert same.token("phone", index) == again.token("phone", index)
    assert same.token("phone", index) != other.token("phone", index)
    assert same.token("phone", index)[1:] != same.token("id_number", index)[1:]


def test_a_token_is_hmac_sha256_of_the_blind_index_under_the_derived_key():
    # exports written before and after a change of implementation must still join
    cipher = PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json()))
    key = bytes.fromhex(cipher.blind_index("deidentified-token-key", "v1"))
    index = "c" * 64
    mac = hmac.digest(key, f"phone:{index}".encode(), "sha256")[:12].hex()

    token = Tokenizer(cipher).token("phone", index)

    assert token == "P" + "".join("abcdefghijklmnop"[int(digit, 16)] for digit in mac)


def test_tokens_survive_rotation_of_the_data_keys():
    before = PiiKeyring.from_json(PiiKeyring.generate_json())
    after = PiiKeyring.from_json(before.rotated_json())

    token = Tokenizer(PiiCipher(before)).token("phone", "b" * 64)

    assert Tokenizer(PiiCipher(after)).token("phone", "b" * 64) == token


def test_a_missing_or_retired_index_gives_no_token():
    tokens = Tokenizer(PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json())))

    assert tokens.token("phone", None) == ""
    assert tokens.token("phone", f"{RETIRED_PREFIX}42") == ""


def test_masking_report_counts_groups_below_k():
    report = MaskingReport()
    row = dict.fromkeys(HEADER, "")
    for band, gender, city, n in (("25-34", "male", "北京", 5), ("65+", "female", "拉萨", 2)):
        for _ in range(n):
            report.add(list({**row, "age_band": band, "gender": gender, "city": city}.values()))

    summary = report.as_dict()

    assert (summary["rows"], summary["groups"], summary["smallest_group"]) == (7, 2, 2)
    assert summary["rows_in_groups_below_k"] == 2
