"""The demo world in a real browser: after seed-demo, every chart and table of the dashboard, the
wallboard and the big screen shows figures (no chart of zeros: the funnel down to disbursed, the
applications of today), and the screens agree with each other, for HQ's manager, who sees every
org, and for each partner's admin, who sees their own office."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from crm.auth.actor import SYSTEM
from crm.auth.passwords import Passwords
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.db import Database
from crm.demo import ORGS, seed
from crm.demo_world.options import WorldOptions
from crm.demo_world.world import build
from crm.leads.models import FUNNEL
from crm.loans.storage import LocalStorage
from crm.migrate import upgrade_to_head
from tests.live_server import (
    LiveServer,
    fresh_database,
    set_org_settings,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.e2e
# three weeks are enough for every screen (tests/integration/test_demo_world.py checks a
# settled month); the screens show the last 30 days and today
WORLD = WorldOptions(days=21, leads_per_day=20)
VIEWERS = ("manager", "sz_admin", "cd_admin")


def afternoon_zone(now: datetime | None = None) -> str:
    """A fixed-offset zone (Etc/GMT-N is UTC+N) where it is four in the afternoon now, give or
    take half an hour: today has most of a working day behind it and the floor is still at work,
    whatever the hour the suite runs at."""
    offset = (16 - (now or datetime.now(UTC)).hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def prepare_world(url: str, pii_keys: str, folder: Path) -> None:
    """The demo's people, in offices where it is the afternoon (afternoon_zone), then their
    history."""
    import crm.model_registry  # noqa: F401 - every mapper must exist before the first query

    upgrade_to_head(url)
    database = Database()
    database.configure(url)
    vault = PiiVault(PiiCipher(PiiKeyring.from_json(pii_keys)))
    transaction = partial(database.unit_of_work, SYSTEM)
    try:
        with transaction() as session:
            seed(session, Passwords(1, 1024), vault, leads=False)
        for name, _kind, _cities in ORGS:
            set_org_settings(url, name, timezone=afternoon_zone())
        build(transaction, Passwords(1, 1024), vault, LocalStorage(folder / "docs"), WORLD)
    finally:
        database.engine.dispose()


@pytest.fixture(scope="module")
def world_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e-world")
    pii_keys = PiiKeyring.generate_json()
    # SQLite, as the other browser tests: the integration suite covers PostgreSQL
    saved = os.environ.pop("TEST_DATABASE_URL", None)
    try:
        with fresh_database(folder) as url:
            prepare_world(url, pii_keys, folder)
            server = start_server({"PII_KEYS": pii_keys}, url, folder)
            try:
                yield server
            finally:
                stop_server(server)
    finally:
        if saved is not None:
            os.environ["TEST_DATABASE_URL"] = saved


def numbers(page, selector: str) -> list[float]:
    """The figures in the cells or tiles `selector` finds (¥, %, 分钟 and separators dropped)."""
    return page.eval_on_selector_all(
        selector,
        "cells => cells.map(c => parseFloat(c.textContent.replace(/[^0-9.]/g, '')) || 0)",
    )


def chart_series(page, element_id: str) -> list[list[float]]:
    """Each series' values of an ECharts chart, as drawn."""
    return page.evaluate(
        """id => window.echarts.getInstanceByDom(document.getElementById(id)).getOption()
               .series.map(s => s.data.map(d => typeof d === 'object' ? d.value : d))""",
        element_id,
    )


def column(page, table: str, title: str) -> list[float]:
    index = page.eval_on_selector_all(
        f"#{table} thead th", "ths => ths.map(th => th.textContent)"
    ).index(title)
    return numbers(page, f"#{table} tbody tr td:nth-child({index + 1})")


def live_kpis(page) -> dict[str, str]:
    page.wait_for_selector("#live-status[data-status=connected]")
    page.wait_for_function("document.querySelector('[data-testid=kpi-calls]')?.textContent > '0'")
    return {
        key: page.get_by_test_id(f"kpi-{key}").inner_text()
        for key in ("calls", "connected", "connect_rate", "talk", "applications")
    }


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_chart_and_table_of_the_manager_screens_has_figures(login_page, world_app, viewer):
    """The dashboard's last 30 days, then the wallboard's and the big screen's today."""
    browsed = login_page(viewer, server=world_app)
    page = browsed.page
    browsed.open("/dashboard")
    page.get_by_test_id("stage-contacted").wait_for()
    page.wait_for_selector("#agent-table tbody tr td.num")
    stages = {stage: int(page.get_by_test_id(f"stage-{stage}").inner_text()) for stage in FUNNEL}
    assert all(stages.values()), stages  # a partner's small office too, down to disbursed
    assert sum(chart_series(page, "funnel-chart")[0]) == sum(stages.values())
    assert min(column(page, "funnel-groups", "线索")) > 0
    calls, connected = column(page, "agent-table", "通话量"), column(page, "agent-table", "已接通")
    assert sum(calls) > sum(connected) > 0
    assert sum(column(page, "agent-table", "进件")) > 0
    assert min(column(page, "channel-table", "成本")) > 0
    browsed.screenshot(f"demo-world-dashboard-{viewer}")

    browsed.open("/wallboard")
    kpis = live_kpis(page)
    assert int(kpis["calls"]) > int(kpis["connected"]) and kpis["connect_rate"].endswith("%")
    # today's applications: every office has had one by the afternoon (its morning appointment
    # at the latest: crm/demo_world/world.py _good_day), on a call that was answered
    assert int(kpis["applications"]) > 0 and int(kpis["talk"]) > 0, kpis
    assert sum(numbers(page, "#agent-rows td.num:nth-child(5)")) == int(kpis["calls"])
    browsed.screenshot(f"demo-world-wallboard-{viewer}")

    browsed.open("/bigscreen")
    assert live_kpis(page) == kpis
    page.wait_for_selector("#bs-cities li")
    funnel = chart_series(page, "bs-funnel")[0]
    hourly_calls, hourly_connected, _disbursed = chart_series(page, "bs-hourly")
    assert funnel == list(stages.values())
    assert sum(hourly_calls) == int(kpis["calls"])
    assert sum(hourly_connected) == int(kpis["connected"])
    assert min(numbers(page, "#bs-cities li b")) > 0
    assert sum(numbers(page, "#bs-agents li b")) > 0  # agents at work now
    assert browsed.errors == []
    browsed.screenshot(f"demo-world-bigscreen-{viewer}")
