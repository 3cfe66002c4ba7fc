"""The backup drill (crm/backup.py) on a real PostgreSQL database with the demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from crm.backup import DrillReport, decrypt_sample, drill
from crm.compliance.crypto import PiiCipher, PiiKeyring
from tests.live_server import prepare_database
from tests.services import PG_URL, pg_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database() -> tuple[str, str]:
    keys = PiiKeyring.generate_json()
    with pg_schema(PG_URL) as url:
        prepare_database(url, keys)
        yield url, keys


def test_a_dump_restores_into_a_fresh_database_with_every_row_and_readable_personal_data(
    database, tmp_path
):
    url, keys = database
    report = drill(url, keys, tmp_path)
    assert report.ok, report.problems
    assert report.counts["leads"][0] > 0 and report.counts["users"][0] > 0
    assert all(original == restored for original, restored in report.counts.values())
    assert report.decrypted > 0
    assert report.dump_bytes > 0


def test_personal_data_under_another_keyring_is_reported(database):
    url, _ = database
    report = DrillReport(0, {})
    decrypt_sample(
        make_url(url), PiiCipher(PiiKeyring.from_json(PiiKeyring.generate_json())), report
    )
    assert report.problems and "does not decrypt" in report.problems[0]
