"""Unit tests for the default PII display masks."""

from __future__ import annotations

import pytest

from crm.compliance.masking import mask_id_number, mask_name, mask_phone


def test_mobile_number_keeps_first_three_and_last_four() -> None:
    assert mask_phone("13800135678") == "138****5678"


@pytest.mark.parametrize(
    ("number", "masked"),
    [("12345678", "123*5678"), ("0101234567", "010***4567"), ("1234567", "*****67")],
)
def test_shorter_phone_numbers_follow_length_rule(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(("number", "masked"), [("123", "*23"), ("12", "**"), ("1", "*"), ("", "")])
def test_very_short_phone_numbers_never_show_every_digit(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_mask_phone_passes_none_through() -> None:
    assert mask_phone(None) is None


def test_masked_phone_keeps_its_length() -> None:
    assert len(mask_phone("13800135678") or "") == 11


def test_resident_id_keeps_region_and_last_four() -> None:
    assert mask_id_number("11010119900307123X") == "110101********123X"


def test_old_15_digit_id_keeps_first_and_last_two() -> None:
    assert mask_id_number("110101900307123") == "11***********23"


@pytest.mark.parametrize(("number", "masked"), [("12345", "12*45"), ("1234", "****"), ("", "")])
def test_short_id_numbers_never_show_every_character(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_mask_id_number_passes_none_through() -> None:
    assert mask_id_number(None) is None


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("张三丰", "张**"), ("欧阳娜娜", "欧***"), ("张", "张")],
)
def test_chinese_name_keeps_only_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_latin_name_keeps_first_letter_and_spaces() -> None:
    assert mask_name("John Smith") == "J*** *****"


def test_name_with_middle_dot_masks_the_dot_too() -> None:
    assert mask_name("迪丽热巴·迪力木拉提") == "迪*********"


def test_name_surrounding_whitespace_is_ignored() -> None:
    assert mask_name("  张三 ") == "张*"


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_masks_to_empty_string(name: str) -> None:
    assert mask_name(name) == ""


def test_mask_name_passes_none_through() -> None:
    assert mask_name(None) is None
