"""Browser tests: a live server on the demo data, headless Chromium through Playwright, and a
`login_page(username)` that returns a logged-in page recording its console errors.

Chromium is Debian's (`/usr/bin/chromium`), driven through `executable_path`, so nothing is
downloaded. Without it the tests skip with the reason, except under CI=true where that fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from crm.demo import DEMO_PASSWORD
from tests.live_server import LiveServer, seed_where_calls_ring, serve

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server (`python wsgi.py`) on embedded SQLite with the demo data: HQ 融信总部 with
    admin/manager/lead_bj/agent_bj1, partner 深圳城市合伙人 with sz_admin/sz_agent1, public-pool
    leads in every org; calls always answer and ring fast, and the callee stays on the line (30
    s) until the agent hangs up; a console back within 5 s finds its call still up; calling
    hours span the whole day."""
    env = {
        "SIM_TIME_SCALE": "0.02",
        "SIM_ANSWER_RATE": "1.0",
        "SIM_TALK_SECONDS": "1500",
        "SIM_SEED": str(seed_where_calls_ring(40)),
        "CONSOLE_GRACE_SECONDS": "5",
    }
    folder = tmp_path_factory.mktemp("e2e")
    with ExitStack() as stack:
        # always SQLite: the browser suite checks pages, the integration suite covers PostgreSQL;
        # the variable is hidden only while the server's database is made, for tests run after
        saved = os.environ.pop("TEST_DATABASE_URL", None)
        try:
            server = stack.enter_context(serve(folder, **env))
        finally:
            if saved is not None:
                os.environ["TEST_DATABASE_URL"] = saved
        yield server


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class BrowserPage:
    """A Playwright page plus what its console said; `.page` is the Playwright object."""

    page: object
    base: str
    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def open(self, path: str):
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        published = os.environ.get("SCREENSHOTS")
        if published:
            target = Path(published)
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / path.name)
        return path


def _record_console(browsed: BrowserPage) -> None:
    def on_console(message) -> None:
        if message.type == "error":
            browsed.errors.append(message.text)
            if "Content Security Policy" in message.text:
                browsed.csp_violations.append(message.text)

    browsed.page.on("console", on_console)
    browsed.page.on("pageerror", lambda error: browsed.errors.append(str(error)))


@pytest.fixture
def new_page(browser, request) -> Iterator[Callable[..., BrowserPage]]:
    """`new_page()`: a fresh browser context (own cookies, so logged out) at 1366×768, on the
    demo server (`live_app`) or on the `server` given."""
    contexts = []

    def make(server: LiveServer | None = None) -> BrowserPage:
        server = server or request.getfixturevalue("live_app")
        context = browser.new_context(
            viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        browsed = BrowserPage(context.new_page(), server.base)
        _record_console(browsed)
        return browsed

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def login_page(new_page) -> Callable[..., BrowserPage]:
    """`login_page("agent_bj1")`: a page logged in through the login form, on the user's home."""

    def login(
        username: str, password: str = DEMO_PASSWORD, server: LiveServer | None = None
    ) -> BrowserPage:
        browsed = new_page(server)
        browsed.open("/login")
        browsed.page.fill("input[name=username]", username)
        browsed.page.fill("input[name=password]", password)
        with browsed.page.expect_navigation():
            browsed.page.click("button[type=submit]")
        browsed.page.wait_for_load_state("networkidle")
        return browsed

    return login
