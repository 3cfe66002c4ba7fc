"""Lead phone numbers: validate, canonicalize to E.164, look up province, city and carrier."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
import phonenumbers.carrier
import phonenumbers.geocoder
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from crm.compliance.masking import mask_phone
from crm.errors import DomainError

_DEFAULT_REGION = "CN"
_LANG = "zh"


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    """A valid number in canonical form, with what phonenumbers knows about it."""

    e164: str
    national: str
    is_mobile: bool
    province: str | None
    city: str | None
    carrier: str | None


# (is_mobile, province, city, carrier): everything in PhoneInfo that is not the digits themselves.
_Facts = tuple[bool, str | None, str | None, str | None]

# Word processors and spreadsheets turn typed hyphens into the U+2010..U+2015 dashes.
_SEPARATORS = re.compile(r"[\s\-.()\u2010-\u2015]+")
_DIALABLE = re.compile(r"\+?[0-9]+")
_MAINLAND_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[0-9]{10})")
# China's carrier-selected international prefixes (e.g. 17900 + 00 + country code) also start
# with 1; phonenumbers reads such digits as an international call, so they take the slow path.
_CN_INTERNATIONAL_PREFIX = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region(_DEFAULT_REGION).international_prefix
)

_NOT_VALID = "not a valid phone number"
_TOO_SHORT = "phone number has too few digits"
_TOO_LONG = "phone number has too many digits"
_UNKNOWN_COUNTRY = "phone number has an unknown country code"
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: _UNKNOWN_COUNTRY,
    NumberParseException.TOO_SHORT_AFTER_IDD: _TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: _TOO_SHORT,
    NumberParseException.TOO_LONG: _TOO_LONG,
}
_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: _UNKNOWN_COUNTRY,
    ValidationResult.TOO_SHORT: _TOO_SHORT,
    ValidationResult.TOO_LONG: _TOO_LONG,
}

_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北"
    "|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
)
# Province-level places that are one city, so the city carries the province's name (北京/北京).
_CITY_PROVINCES = frozenset({"北京", "天津", "上海", "重庆", "香港", "澳门"})
_DESCRIPTION = re.compile(
    rf"(?P<province>{_PROVINCES})"
    r"(?:省|市|特别行政区|特区|地区|(?:壮族|回族|维吾尔)?自治区)?"
    # An area code shared by several cities reads "四川省成都市、资阳市、眉山市"; the first city
    # named is the main one.
    r"(?P<city>[^、]*)"
)
# Mobile ranges name prefectures in full (大理白族自治州, 兴安盟) while fixed-line ones abbreviate
# (云南红河, 内蒙古兴安): both become the short name brokers write in their sheets. The
# lookbehind keeps two-character names whole (芒市 is a city called 芒市, not 芒).
_ETHNIC_GROUPS = "白|傣|景颇|傈僳|壮|苗|彝|哈尼|藏|朝鲜|羌|哈萨克|柯尔克孜|蒙古|回|土家|布依|侗"
_CITY_SUFFIX = re.compile(rf"(?<=..)(?:市|地区|盟|林区|(?:(?:{_ETHNIC_GROUPS})族?)*自治州)$")


def normalize_phone(raw: str | None) -> PhoneInfo:
    """Validate a phone number as typed in a broker's sheet; raises DomainError("invalid_phone")."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    # phonenumbers would read letters as keypad digits; in lead sheets they are typos (O for 0).
    if any(ch.isalpha() for ch in text):
        raise _invalid("phone number contains letters", text)
    compact = _SEPARATORS.sub("", text)
    if not compact.strip("+"):
        raise _invalid("phone number is empty", text)
    if not _DIALABLE.fullmatch(compact):
        raise _invalid(
            "phone number may contain only digits, a leading +, spaces, dashes, dots and "
            "parentheses",
            text,
        )
    mobile = _MAINLAND_MOBILE.fullmatch(compact)
    if mobile and not _CN_INTERNATIONAL_PREFIX.match(mobile[1]):
        return _mainland_mobile(mobile[1], text)
    if compact.startswith("86"):
        # China's country code without its + (86 0755…, 86-755-…): no number dialled inside
        # China starts with 86, so it is read as +86, as a mobile's bare 86 is above
        compact = "+" + compact
    if compact[0] not in "+01" and not compact.startswith(("400", "800")):
        # Written in China, a number is a mobile (1…), a landline with its trunk 0 (0755…), a
        # nationwide 400/800 line or international (+/00…). phonenumbers would accept
        # "2381234567" as Chongqing's 023 area; in a lead sheet that is a mistyped mobile, and
        # dialling it reaches a stranger.
        raise _invalid("a landline needs its area code with the leading 0", text)
    return _any_number(compact, text)


def _mainland_mobile(national: str, text: str) -> PhoneInfo:
    facts = _range_facts(national[:7])
    if facts is None:
        raise _invalid(_NOT_VALID, text)
    return PhoneInfo("+86" + national, national, *facts)


# Thousands of ranges give the same answer; sharing one tuple per answer keeps the cache small.
_SHARED_FACTS: dict[_Facts, _Facts] = {}


@functools.lru_cache(maxsize=1 << 18)
def _range_facts(prefix: str) -> _Facts | None:
    """Facts shared by every number of a 7-digit range (号段); None if its numbers are invalid.

    Exact, not a heuristic, for phonenumbers' metadata (checked on 9.0.43 over all 1,000,000
    ranges; tests/unit/test_phone.py re-checks a sample): an 11-digit CN number starting with 1
    can only match the mobile pattern, which reads at most 7 digits, and is never shortened by
    national-prefix stripping; geocoder keys are at most 86 + 7 digits, carrier keys shorter.
    The 2**18 bound (~40 MB when full) holds every range of the largest province (Guangdong,
    ~38k of the ~330k that phonenumbers knows) and most of a nationwide sheet's.
    """
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix + "0000"))
    # +86 is one region's code, so is_valid_number is exactly "has a type": the type is matched
    # once here and handed on, instead of again by is_valid_number, the geocoder and the
    # carrier lookup (its patterns were most of an import's phone work)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return None
    facts = _facts(number, kind)
    return _SHARED_FACTS.setdefault(facts, facts)


def _any_number(compact: str, text: str) -> PhoneInfo:
    try:
        number = phonenumbers.parse(compact, _DEFAULT_REGION)
    except NumberParseException as exc:
        raise _invalid(_PARSE_ERRORS.get(exc.error_type, _NOT_VALID), text) from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        raise _invalid(_IMPOSSIBLE.get(reason, _NOT_VALID), text)
    return PhoneInfo(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.national_significant_number(number),
        *_facts(number, phonenumbers.number_type(number)),
    )


# phonenumbers cannot tell NANP landlines from mobiles (FIXED_LINE_OR_MOBILE); like its carrier
# module, count them as mobile rather than rule them out.
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# the types phonenumbers' carrier module names a carrier for
_CARRIED = _MOBILE | {PhoneNumberType.PAGER}


def _facts(number: phonenumbers.PhoneNumber, kind: int) -> _Facts:
    """What the geocoder and the carrier module say of a valid number of type `kind`, asked as
    their description_for_number and name_for_number ask once they have the type."""
    if phonenumbers.is_number_type_geographical(kind, number.country_code):
        description = phonenumbers.geocoder.description_for_valid_number(number, _LANG)
    else:
        description = phonenumbers.geocoder.country_name_for_number(number, _LANG)
    province, city = _split_description(description)
    carried = kind in _CARRIED
    carrier = phonenumbers.carrier.name_for_valid_number(number, _LANG) if carried else None
    return kind in _MOBILE, province, city, carrier or None


def _split_description(description: str) -> tuple[str | None, str | None]:
    """Split a geocoder description: 广东省深圳市 -> (广东, 深圳); 中国, 美国 -> (None, None)."""
    match = _DESCRIPTION.match(description)
    if match is None:
        return None, None
    province = match["province"]
    city = _CITY_SUFFIX.sub("", match["city"])
    if not city:
        return province, province if province in _CITY_PROVINCES else None
    return province, city


def _invalid(message: str, text: str) -> DomainError:
    # The raw value is personal data: the message never carries it, the hint only masked.
    return DomainError("invalid_phone", message, details={"value_hint": mask_phone(text)})
