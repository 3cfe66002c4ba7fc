"""The console under gunicorn's gevent worker, as production serves it (ASYNC_MODE=gevent, one
greenlet per console): test_dialer_live's call, disconnect, tenancy and wallboard tests run again
against such a server. The simulated carrier's and the wallboard's threads are greenlets there,
and psycopg waits cooperatively."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crm.config import Settings
from tests.integration.test_dialer_live import (  # noqa: F401 - the fixtures and the tests
    agent_fixture,
    answering_server,
    connect_fixture,
    fresh_agents_fixture,
    test_a_console_that_disconnects_mid_call_closes_its_call,
    test_a_full_call_pops_the_masked_lead_and_the_disposition_lands_on_the_timeline,
    test_partner_agent_cannot_dial_or_see_hq_leads_and_gets_none_of_their_events,
    test_the_wallboard_sees_agent_states_calls_and_kpis_change,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("dialer-gevent")
    with answering_server(folder, ASYNC_MODE="gevent") as live:
        assert "Using worker: gevent" in live.log()
        yield live


def test_an_async_mode_the_server_cannot_run_stops_it_starting(tmp_path):
    env = {"LOANLINE_INSTANCE": str(tmp_path), "SECRET_KEY": "k" * 48, "PII_KEYS": "{}"}
    assert Settings.from_env(env | {"ASYNC_MODE": "gevent"}).async_mode == "gevent"
    with pytest.raises(ValueError, match="ASYNC_MODE must be one of threading, gevent"):
        Settings.from_env(env | {"ASYNC_MODE": "eventlet"})
