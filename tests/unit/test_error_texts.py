"""Every error code the API and the dialer can answer has its words in the page's language
(crm/web/error_texts.py), and every one of those words is in the Chinese catalogue: an API
refusal never reaches a Chinese page in English."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel

from crm.web.error_texts import error_texts
from dialer.guards import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
# callables whose argument at the given position is an error code
RAISERS = {"DomainError": 0, "Conflict": 0, "Skip": 0, "DialRefused": 0, "error_response": 1}
FIXED = {"not_found", "forbidden", "validation_error", "internal_error", "unauthorized"}


def raised_codes() -> set[str]:
    codes = set(FIXED) | set(MESSAGES)
    for folder in ("crm", "dialer", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                position = RAISERS.get(name or "")
                if position is None or len(node.args) <= position:
                    continue
                code = node.args[position]
                if isinstance(code, ast.Constant) and isinstance(code.value, str):
                    codes.add(code.value)
    return codes


def english_texts() -> dict[str, str]:
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        return error_texts()


def test_every_code_raised_anywhere_has_words():
    missing = raised_codes() - set(english_texts())
    assert missing == set()


def test_every_codes_words_are_in_the_chinese_catalogue():
    po = ROOT / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    untranslated = {
        code: text
        for code, text in english_texts().items()
        if text not in catalog or not catalog[text].string
    }
    assert untranslated == {}
