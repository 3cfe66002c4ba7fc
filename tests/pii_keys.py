"""Keyrings as the operator changes them: for tests that rotate the PII keys."""

from __future__ import annotations

import json


def retired_keys_removed(keyring_json: str) -> str:
    """The keyring once the operator took every key but the active one out of PII_KEYS."""
    data = json.loads(keyring_json)
    data["keys"] = {data["active"]: data["keys"][data["active"]]}
    return json.dumps(data)
