"""A module's `_private` names are its own: another module that needs one gets a public name
for it, so the owner can change what is private without breaking a caller it cannot see."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crm", "dialer", "workers")


def _private_imports() -> set[tuple[str, str, str]]:
    found = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found |= {
                        (path.relative_to(ROOT).as_posix(), node.module, alias.name)
                        for alias in node.names
                        if alias.name.startswith("_") and not alias.name.startswith("__")
                    }
    return found


def test_no_module_imports_another_modules_private_name():
    assert _private_imports() == set()
