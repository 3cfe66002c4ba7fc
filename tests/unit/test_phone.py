"""Unit tests for lead phone normalization (crm.leads.phone)."""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers
import phonenumbers.carrier
import phonenumbers.geocoder
import pytest
from phonenumbers.geodata import GEOCODE_DATA

from crm.errors import DomainError
from crm.leads import phone
from crm.leads.phone import PhoneInfo, normalize_phone

BEIJING_MOBILE = "13800138000"


def _invalid_message(raw: str | None) -> str:
    with pytest.raises(DomainError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "invalid_phone"
    return caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "0086 13800138000",
        "8613800138000",
        "(+86) 138.0013.8000",
        "138–0013–8000",
        "  13800138000\t",
    ],
)
def test_common_ways_of_writing_a_mobile_give_the_same_number(raw: str) -> None:
    info = normalize_phone(raw)
    assert info.e164 == "+8613800138000"
    assert info.national == BEIJING_MOBILE


def test_full_width_digits_are_accepted() -> None:
    assert normalize_phone("１３８００１３８０００").e164 == "+8613800138000"


def test_full_width_plus_space_and_parentheses_are_accepted() -> None:
    assert normalize_phone("（＋８６）\u3000１３８－００１３－８０００").e164 == "+8613800138000"


def test_beijing_mobile_has_beijing_as_province_and_city() -> None:
    info = normalize_phone(BEIJING_MOBILE)
    assert info.is_mobile
    assert (info.province, info.city) == ("北京", "北京")


def test_shenzhen_mobile_gives_guangdong_and_shenzhen() -> None:
    info = normalize_phone("13010541234")
    assert (info.province, info.city) == ("广东", "深圳")


def test_autonomous_region_mobile_gives_short_province_name() -> None:
    info = normalize_phone("13009501234")
    assert (info.province, info.city) == ("内蒙古", "呼和浩特")


def test_autonomous_prefecture_mobile_gives_short_city_name() -> None:
    info = normalize_phone("13013361234")
    assert (info.province, info.city) == ("云南", "大理")


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("13800138000", "中国移动"),
        ("13012345678", "中国联通"),
        ("18512345678", "中国联通"),
        ("13312345678", "中国电信"),
        ("18912345678", "中国电信"),
        ("19212345678", "中国广电"),
    ],
)
def test_mobile_carrier_is_named_in_chinese(number: str, carrier: str) -> None:
    assert normalize_phone(number).carrier == carrier


def test_shenzhen_fixed_line_is_valid_and_not_mobile() -> None:
    info = normalize_phone("0755-8888 8888")
    assert info == PhoneInfo(
        e164="+8675588888888",
        national="75588888888",
        is_mobile=False,
        province="广东",
        city="深圳",
        carrier=None,
    )


def test_beijing_fixed_line_keeps_area_code_in_national_number() -> None:
    info = normalize_phone("010-8888 8888")
    assert info.national == "1088888888"
    assert (info.province, info.city) == ("北京", "北京")


def test_hong_kong_mobile_is_valid_and_mobile() -> None:
    info = normalize_phone("+852 9123 4567")
    assert info.e164 == "+85291234567"
    assert info.is_mobile


def test_us_number_is_valid_without_chinese_region() -> None:
    info = normalize_phone("+1 202 555 0123")
    assert info.e164 == "+12025550123"
    assert (info.province, info.city) == (None, None)


def test_nationwide_service_number_has_no_province() -> None:
    info = normalize_phone("400-123-4567")
    assert not info.is_mobile
    assert (info.province, info.city, info.carrier) == (None, None, None)


# Latin O, full-width letters, Cyrillic о: all typos for digits, never vanity numbers.
@pytest.mark.parametrize(
    "raw", ["138abc00138", "1380013800O", "１３８ａｂｃ００１３８", "1380013800о"]
)
def test_letters_make_a_phone_invalid(raw: str) -> None:
    assert "letters" in _invalid_message(raw)


def test_keypad_style_vanity_number_is_invalid() -> None:
    _invalid_message("+1 800 FLOWERS")


@pytest.mark.parametrize(
    "raw", ["138/0013/8000", "13800138000#12", "138*0013*8000", "86+13800138000"]
)
def test_characters_other_than_separators_make_a_phone_invalid(raw: str) -> None:
    _invalid_message(raw)


@pytest.mark.parametrize("raw", ["1380", "138001"])
def test_too_short_phone_is_invalid(raw: str) -> None:
    _invalid_message(raw)


def test_four_digits_are_reported_as_too_few() -> None:
    assert "too few" in _invalid_message("1380")


@pytest.mark.parametrize("raw", ["138001380001", "13800138000123456789"])
def test_too_long_phone_is_invalid(raw: str) -> None:
    _invalid_message(raw)


def test_twenty_digits_are_reported_as_too_many() -> None:
    assert "too many" in _invalid_message("13800138000123456789")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "--", "()", "+"])
def test_empty_or_placeholder_phone_is_invalid(raw: str | None) -> None:
    assert "empty" in _invalid_message(raw)


def test_mainland_mobile_with_unassigned_prefix_is_invalid() -> None:
    _invalid_message("12012345678")


def test_error_never_carries_the_full_number() -> None:
    with pytest.raises(DomainError) as caught:
        normalize_phone("1380013800O")
    assert "13800138" not in caught.value.message
    assert caught.value.details == {"value_hint": "138****800O"}


@pytest.mark.parametrize(
    ("description", "province", "city"),
    [
        ("广东省深圳市", "广东", "深圳"),
        ("北京市", "北京", "北京"),
        ("天津", "天津", "天津"),
        ("广东省", "广东", None),
        ("内蒙古自治区呼和浩特市", "内蒙古", "呼和浩特"),
        ("广西壮族自治区南宁市、崇左市", "广西", "南宁"),
        ("宁夏回族自治区银川市", "宁夏", "银川"),
        ("新疆维吾尔自治区乌鲁木齐市", "新疆", "乌鲁木齐"),
        ("西藏自治区拉萨市", "西藏", "拉萨"),
        ("西藏自治区", "西藏", None),
        ("香港特别行政区", "香港", "香港"),
        ("澳门特区", "澳门", "澳门"),
        ("吉林省吉林市", "吉林", "吉林"),
        ("云南省芒市", "云南", "芒市"),
        ("云南省德宏傣族景颇族自治州", "云南", "德宏"),
        ("云南红河", "云南", "红河"),
        ("新疆伊犁哈萨克自治州", "新疆", "伊犁"),
        ("内蒙古兴安盟", "内蒙古", "兴安"),
        ("新疆和田地区", "新疆", "和田"),
        ("湖北省神农架林区", "湖北", "神农架"),
        ("中国", None, None),
        ("美国", None, None),
        ("", None, None),
    ],
)
def test_geocoder_description_splits_into_province_and_city(
    description: str, province: str | None, city: str | None
) -> None:
    assert phone._split_description(description) == (province, city)


def test_every_mainland_geocoder_description_gives_a_province_and_a_bare_city_name() -> None:
    descriptions = {
        entry["zh"] for key, entry in GEOCODE_DATA.items() if key.startswith("86") and "zh" in entry
    }
    for description in descriptions:
        province, city = phone._split_description(description)
        assert province is not None, description
        assert city is not None, description
        suffixes = ("省", "市", "自治区", "自治州", "地区", "盟", "、")
        assert city == "芒市" or not city.endswith(suffixes), description


def _pure_phonenumbers(digits: str) -> PhoneInfo | None:
    """What phonenumbers alone says about a number, without any of phone.py's shortcuts."""
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    number_type = phonenumbers.number_type(number)
    description = phonenumbers.geocoder.description_for_number(number, "zh")
    province, city = phone._split_description(description)
    return PhoneInfo(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national=phonenumbers.national_significant_number(number),
        is_mobile=number_type
        in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE),
        province=province,
        city=city,
        carrier=phonenumbers.carrier.name_for_number(number, "zh") or None,
    )


def _outcome(normalize: Callable[..., PhoneInfo], *args: str) -> PhoneInfo | str:
    try:
        return normalize(*args)
    except DomainError as exc:
        return exc.message


@pytest.mark.parametrize("digits", ["11464009036", "17951001234", "12000001234"])
def test_digits_phonenumbers_reads_as_an_international_call_get_its_verdict(digits: str) -> None:
    assert _pure_phonenumbers(digits) is None
    assert _outcome(normalize_phone, digits) == _outcome(phone._any_number, digits, digits)


def test_fast_path_matches_pure_phonenumbers_for_random_mainland_mobiles() -> None:
    rng = random.Random(86_138)
    phone._range_facts.cache_clear()
    # Four numbers under every 4-digit prefix 1000..1999 covers every 1xx range and the
    # 5- and 6-digit rules (1610x, 1740[0-5]) with suffixes other than the cached "0000".
    numbers = [f"{head}{rng.randrange(10**7):07d}" for head in range(1000, 2000) for _ in range(4)]
    for digits in numbers:
        expected = _pure_phonenumbers(digits)
        got = _outcome(normalize_phone, digits)
        if expected is None:
            assert isinstance(got, str), digits
        else:
            assert got == expected, digits
        assert got == _outcome(phone._any_number, digits, digits), digits
    assert phone._range_facts.cache_info().currsize > 0


@pytest.mark.parametrize("raw", ["2381234567", "75588888888", "8881234567"])
def test_landline_without_its_trunk_zero_is_invalid(raw):
    with pytest.raises(DomainError) as refused:
        normalize_phone(raw)
    assert refused.value.code == "invalid_phone"


def test_landline_with_trunk_zero_or_country_code_is_valid():
    assert normalize_phone("023-8123-4567").e164 == "+862381234567"
    assert normalize_phone("+86 23 8123 4567").city == "重庆"
