"""Page languages: the template filters for Shanghai time and CNY, in Chinese and English."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import render_template_string


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh_CN", "2026-11-23 20:05 · ¥12,000.50"), ("en", "2026-11-23 20:05 · CN¥12,000.50")],
)
def test_times_show_in_shanghai_and_money_in_yuan(app, lang, expected):
    at = datetime(2026, 11, 23, 12, 5, tzinfo=UTC)  # 20:05 in Shanghai
    with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
        text = render_template_string(
            "{{ at | datetime }} · {{ amount | money }}", at=at, amount=Decimal("12000.50")
        )
    assert text == expected


def test_unknown_language_cookie_falls_back_to_chinese(client):
    client.set_cookie("lang", "fr")
    assert "登录" in client.get("/login").text
