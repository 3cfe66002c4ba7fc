"""The API under generated input (schemathesis over GET /api/openapi.json) from users of every
role: no 5xx, every error in the error shape, every response as documented. A bounded run; the
longer one is `python -m bench.fuzz_api`."""

from __future__ import annotations

import pytest

from tests.fuzzing import Fuzzer, users_of_every_role

pytestmark = pytest.mark.integration

# generated requests per operation (each from a user of a drawn role): ~100 operations
EXAMPLES = 6


def test_generated_requests_get_documented_answers(app, client, make):
    headers, known = users_of_every_role(client, make)
    failures = Fuzzer(app, max_examples=EXAMPLES).run(headers, known)
    assert not failures, "\n\n".join(failures)
