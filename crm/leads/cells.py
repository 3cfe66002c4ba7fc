"""Parsers for the messy cell texts of lead sheets, and the formula guard for exports."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from crm.compliance.masking import mask_in_text
from crm.errors import DomainError

_AMOUNT_UNITS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}
# Applied after NFKC + casefold, so ￥ has become ¥ and full-width commas are commas.
_AMOUNT_NOISE = re.compile(r"[\s,¥$]|人民币|元|rmb|cny")
_DECIMAL = re.compile(r"\d+(?:\.\d+)?|\.\d+")

_YES = frozenset({"有", "是", "是的", "y", "yes", "true", "1", "√", "✓", "✔"})
_NO = frozenset({"无", "没有", "否", "不", "n", "no", "false", "0", "×", "✗", "✘", "none"})
_YES_PREFIXES = ("有",)  # 有社保, 有公积金, 有房 ...
_NO_PREFIXES = ("无", "没")  # 无社保, 没有公积金 ...

_MORTGAGE_WORDS = ("按揭", "贷", "月供", "抵押")
_OWNED_WORDS = ("全款", "自有")
_RENTED_WORDS = ("租",)

# Keyword -> value, first match wins: checked in order so "无逾期" is good before "逾期" is minor.
_EMPLOYMENT_WORDS = (
    (("企业主", "老板", "法人", "公司股东"), "business_owner"),
    (("个体", "自雇", "自由职业", "个体户"), "self_employed"),
    (("上班", "工薪", "受薪", "职员", "员工", "公务员", "事业单位", "国企", "白领"), "salaried"),
)
_CREDIT_WORDS = (
    (("白户", "无记录", "无征信"), "no_record"),
    (("良好", "正常", "无逾期", "优", "好"), "good"),
    (("严重", "黑", "呆账", "连三累六", "失信"), "serious_overdue"),
    (("逾期", "轻微", "查询多", "花"), "minor_overdue"),
)

# what a lead may ask for, in the create form (crm/leads/schemas.py) and in a sheet alike
MAX_AMOUNT_WANTED = Decimal(100_000_000)
MAX_TERM_MONTHS = 360

_TERM = re.compile(r"(\d+(?:\.\d+)?)(年|years?|y|个月|月|months?|m|期)?")
_YEAR_UNITS = frozenset({"年", "year", "years", "y"})

# OWASP "CSV injection": these leading characters make Excel/WPS/LibreOffice evaluate a cell.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _key(text: str) -> str:
    """NFKC folds full-width digits/letters (１５万, ＹＥＳ) into the forms matched below."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def parse_amount(text: str) -> Decimal | None:
    """Yuan as a Decimal: "30万" -> 300000, "5,000元" -> 5000, "8k" -> 8000, "" -> None."""
    raw = text.strip()
    if not raw:
        return None
    number = _AMOUNT_NOISE.sub("", _key(raw))
    multiplier = 1
    if number and number[-1] in _AMOUNT_UNITS:
        multiplier = _AMOUNT_UNITS[number[-1]]
        number = number[:-1]
    if not _DECIMAL.fullmatch(number):
        # a cell of the wrong column may hold a phone or ID number: the job result keeps it
        shown = mask_in_text(raw)
        raise DomainError(
            "invalid_amount", f"not an amount: {shown!r}", status=422, details={"value": shown}
        )
    amount = Decimal(number) * multiplier
    if amount > MAX_AMOUNT_WANTED or amount != amount.quantize(Decimal("0.01")):
        shown = mask_in_text(raw)
        raise DomainError(
            "invalid_amount",
            f"an amount is at most {MAX_AMOUNT_WANTED:,} yuan, to the fen: {shown!r}",
            status=422,
            details={"value": shown},
        )
    # "1.5万" multiplies to Decimal("15000.0"); drop the spurious exponent for whole yuan.
    whole = amount.to_integral_value()
    return whole if amount == whole else amount


def parse_yes_no(text: str) -> bool | None:
    """有/是/Y/√ -> True, 无/否/N/× -> False, "" or anything unrecognised -> None."""
    key = _key(text)
    if not key:
        return None
    if key in _YES:
        return True
    if key in _NO:
        return False
    if key.startswith(_YES_PREFIXES):
        return True
    if key.startswith(_NO_PREFIXES):
        return False
    return None


def parse_asset(text: str) -> str | None:
    """House/car column -> "owned" | "mortgaged" | "none"; "" or unrecognised -> None."""
    key = _key(text)
    if not key:
        return None
    negated = key.startswith(_NO_PREFIXES)
    if any(word in key for word in _MORTGAGE_WORDS):
        # "无按揭"/"无房贷" may mean owned outright or no property at all: don't guess.
        return None if negated else "mortgaged"
    if any(word in key for word in _OWNED_WORDS):
        return "owned"
    if any(word in key for word in _RENTED_WORDS):
        return "none"
    answer = parse_yes_no(key)
    if answer is None:
        return None
    return "owned" if answer else "none"


def parse_employment(text: str) -> str | None:
    """职业 -> "salaried" | "self_employed" | "business_owner" | "other"; "" -> None."""
    return _first_keyword(text, _EMPLOYMENT_WORDS, otherwise="other")


def parse_credit_status(text: str) -> str | None:
    """征信 -> "good" | "minor_overdue" | "serious_overdue" | "no_record"; unknown -> None."""
    return _first_keyword(text, _CREDIT_WORDS, otherwise=None)


def _first_keyword(
    text: str, table: tuple[tuple[tuple[str, ...], str], ...], otherwise: str | None
) -> str | None:
    key = _key(text)
    if not key:
        return None
    for words, value in table:
        if any(word in key for word in words):
            return value
    return otherwise


def parse_term_months(text: str) -> int | None:
    """Loan term in months: "12", "12期", "12个月" -> 12, "1年" -> 12, "3年" -> 36."""
    raw = text.strip()
    key = _key(raw)
    if not key:
        return None
    if key == "半年":
        return 6
    match = _TERM.fullmatch(key)
    months = None
    if match:
        value = Decimal(match.group(1))
        months = value * 12 if match.group(2) in _YEAR_UNITS else value
    if months is None or not 0 < months <= MAX_TERM_MONTHS or months != months.to_integral_value():
        shown = mask_in_text(raw)
        raise DomainError(
            "invalid_term",
            f"not a loan term of 1 to {MAX_TERM_MONTHS} months: {shown!r}",
            status=422,
            details={"value": shown},
        )
    return int(months)


def neutralise_formula(value: str) -> str:
    """Prefix an apostrophe so a spreadsheet shows "=HYPERLINK(...)" as text, never runs it."""
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value
