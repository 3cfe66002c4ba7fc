"""How the app's PostgreSQL connections are set up (crm/db.py)."""

from __future__ import annotations

from crm.db import make_engine
from tests.services import pg_schema


def test_app_connections_compile_no_jit_and_keep_the_urls_search_path():
    # a re-score batch at 1M leads spent 416 ms JIT-compiling for 35 ms of work
    with pg_schema() as url:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
                assert conn.exec_driver_sql("SHOW search_path").scalar() in url
        finally:
            engine.dispose()
