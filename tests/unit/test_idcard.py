"""Unit tests for resident ID number validation (crm.leads.idcard)."""

from __future__ import annotations

import datetime

import pytest

from crm.errors import DomainError
from crm.leads.idcard import parse_id_number
from tests.sample_data import resident_id

TODAY = datetime.date(2024, 6, 15)


_id = resident_id


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def _invalid_message(raw: str | None, today: datetime.date = TODAY) -> str:
    with pytest.raises(DomainError) as caught:
        parse_id_number(raw, today=today)
    assert caught.value.code == "invalid_id_number"
    return caught.value.message


def test_helper_reproduces_the_gb_11643_sample_number() -> None:
    assert _id("110105", "19491231", "002") == "11010519491231002X"


def test_valid_number_with_x_check_character_is_parsed() -> None:
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info.number == "11010519491231002X"
    assert info.birth_date == datetime.date(1949, 12, 31)
    assert info.region_code == "110105"


def test_lowercase_x_is_accepted_and_uppercased() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"


def test_full_width_characters_and_spaces_are_accepted() -> None:
    number = _id()
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in number)
    spaced = f" {full_width[:6]}\u3000{full_width[6:14]} {full_width[14:]} "
    assert parse_id_number(spaced, today=TODAY).number == number


def test_number_parsed_without_today_uses_the_current_date() -> None:
    assert parse_id_number(_id(birth="19900307")).birth_date == datetime.date(1990, 3, 7)


def test_odd_seventeenth_digit_means_male() -> None:
    assert parse_id_number(_id(sequence="123"), today=TODAY).gender == "male"


def test_even_seventeenth_digit_means_female() -> None:
    assert parse_id_number(_id(sequence="124"), today=TODAY).gender == "female"


def test_age_counts_completed_years() -> None:
    info = parse_id_number(_id(birth="19900307"), today=TODAY)
    assert info.age_on(datetime.date(2024, 3, 6)) == 33
    assert info.age_on(datetime.date(2024, 3, 7)) == 34


def test_leap_day_birthday_ages_on_first_of_march_in_common_years() -> None:
    info = parse_id_number(_id(birth="20000229"), today=TODAY)
    assert info.age_on(datetime.date(2019, 2, 28)) == 18
    assert info.age_on(datetime.date(2019, 3, 1)) == 19


def test_wrong_check_character_is_invalid() -> None:
    assert "check digit" in _invalid_message(_wrong_check(_id()))


def test_month_13_is_invalid() -> None:
    assert "does not exist" in _invalid_message(_id(birth="19901301"))


def test_february_30_is_invalid() -> None:
    assert "does not exist" in _invalid_message(_id(birth="19900230"))


def test_february_29_is_valid_only_in_leap_years() -> None:
    assert parse_id_number(_id(birth="20000229"), today=TODAY).birth_date.day == 29
    _invalid_message(_id(birth="19000229"))


def test_future_birth_date_is_invalid() -> None:
    assert "future" in _invalid_message(_id(birth="20240616"))


def test_birth_date_of_today_is_valid() -> None:
    assert parse_id_number(_id(birth="20240615"), today=TODAY).birth_date == TODAY


def test_birth_date_before_1900_is_invalid() -> None:
    assert "1900" in _invalid_message(_id(birth="18991231"))


@pytest.mark.parametrize("region", ["040305", "940305"])
def test_region_code_must_start_with_1_to_8(region: str) -> None:
    assert "region" in _invalid_message(_id(region=region))


def test_old_15_digit_number_is_invalid_and_asks_for_18_digits() -> None:
    assert "18 digits" in _invalid_message("110105491231002")


@pytest.mark.parametrize(
    "raw", [_id()[:17], _id() + "1", "1101051949123100X2", "11010519491231002Y"]
)
def test_wrong_length_or_misplaced_characters_are_invalid(raw: str) -> None:
    _invalid_message(raw)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_number_is_invalid(raw: str | None) -> None:
    assert "empty" in _invalid_message(raw)


def test_error_never_carries_the_full_number() -> None:
    number = _wrong_check(_id())
    with pytest.raises(DomainError) as caught:
        parse_id_number(number, today=TODAY)
    assert number[6:14] not in caught.value.message
    assert caught.value.details == {"value_hint": number[:6] + "*" * 8 + number[14:]}
