"""Languages for the pages: zh-CN by default, English on request; Shanghai time, CNY money."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, jsonify, redirect, request
from flask_babel import Babel, format_currency, format_datetime, get_locale, get_translations

from crm.web.error_texts import error_texts

ROOT = Path(__file__).resolve().parents[2]
LANG_COOKIE = "lang"
DEFAULT_LOCALE = "zh_CN"
# URL/HTML language tag -> gettext locale
LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
TIMEZONE = "Asia/Shanghai"

bp = Blueprint("web_i18n", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES.values() else DEFAULT_LOCALE


def html_lang() -> str:
    """The current language as an HTML/BCP 47 tag (`zh-CN` or `en`)."""
    return "en" if str(get_locale()) == "en" else "zh-CN"


def _datetime_filter(value: datetime | str | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, pattern)  # flask-babel converts to the Shanghai zone


def _money_filter(value: Decimal | str | int | None) -> str:
    if value in (None, ""):
        return ""
    return format_currency(Decimal(value), "CNY")


@bp.get("/lang/<code>")
def switch_language(code: str):
    """Remember the language in a cookie and go back to the page the user came from."""
    target = "/"
    referrer = urlsplit(request.referrer or "")
    # only a path on this host, so the switch cannot be used as an open redirect
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, LANGUAGES[code], max_age=365 * 24 * 3600, samesite="Lax", path="/"
        )
    return response


@bp.get("/i18n/messages.json")
def messages():
    """The gettext catalogue of the current language for static/js/i18n.js (msgid -> text),
    and what each error code means in it."""
    catalog = getattr(get_translations(), "_catalog", {})
    entries = {k: v for k, v in catalog.items() if isinstance(k, str) and k}
    response = jsonify({"lang": html_lang(), "messages": entries, "errors": error_texts()})
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Vary"] = "Cookie"
    return response


def compile_catalogues(source: Path, target: Path) -> Path:
    """Compile every `<locale>/LC_MESSAGES/*.po` under `source` into `target` (missing or older
    ones only) and return `target`. The app does this at start, whatever starts it (`python
    wsgi.py`, gunicorn, a worker, the CLI): a checkout installed with pip alone has no .mo
    files, and gettext without them serves every page in English. Written under a temporary
    name and renamed, so processes starting together never read a half-written catalogue."""
    for po in source.glob("*/LC_MESSAGES/*.po"):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh)
        fd, partial = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(partial, mo)
    return target


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    compiled = compile_catalogues(ROOT / "translations", Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compiled))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["datetime"] = _datetime_filter
    app.jinja_env.filters["money"] = _money_filter
    app.jinja_env.globals["html_lang"] = html_lang
    app.register_blueprint(bp)
