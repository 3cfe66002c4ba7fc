"""The lead list stays an index walk at millions of leads (docs/benchmarks.md, issue #4).

HQ roles list every org, so their queries carry no org_id, and PostgreSQL (no skip scan) cannot
use an index that starts with org_id for them; without a fitting index a page is a sort of the
whole table and a capped count a scan of it. These tests read the migrated schema, so dropping
an index, or offering a sort or filter that no index serves, fails here rather than in production.
"""

from __future__ import annotations

from typing import get_args

import pytest
from sqlalchemy import inspect

from crm.extensions import db
from crm.leads.schemas import SortKey


@pytest.fixture
def leads_indexes(app) -> list[tuple[str, ...]]:
    found = inspect(db.engine)
    keys = found.get_indexes("leads") + found.get_unique_constraints("leads")
    return [tuple(key["column_names"]) for key in keys]


def _served(indexes: list[tuple[str, ...]], columns: tuple[str, ...]) -> bool:
    return any(index[: len(columns)] == columns for index in indexes)


@pytest.mark.parametrize("sort", get_args(SortKey))
def test_every_list_sort_is_read_in_index_order_for_one_org_and_for_hq(leads_indexes, sort):
    # id breaks ties: an import gives all its leads one created_at, and score starts equal;
    # owner_id last lets an agent's count (public pool or their own) stay inside the index
    key = (sort.lstrip("-"), "id")
    assert _served(leads_indexes, ("org_id", *key, "owner_id")), f"no (org_id, {key}) index"
    assert _served(leads_indexes, key), f"no {key} index for HQ, who query every org"


@pytest.mark.parametrize(
    "column",
    ["stage", "source", "city", "owner_id", "phone_bidx", "name_bidx", "id_number_bidx", "score"],
)
def test_every_list_filter_leads_an_index_usable_without_org_id(leads_indexes, column):
    assert _served(leads_indexes, (column,)), f"a filter on {column} would scan every lead"
