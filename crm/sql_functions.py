"""SQL functions each supported database spells its own way, as SQLAlchemy constructs: a query
calls `seconds_between(a, b)` and the compiler writes PostgreSQL's or SQLite's form."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType, TypeEngine


def _portable(name: str, type_: TypeEngine[Any], *, postgresql: str, sqlite: str) -> type:
    """A function class whose SQL is the `postgresql` or `sqlite` template, formatted with its
    compiled arguments ({0}, {1}, ...)."""
    function = type(name, (FunctionElement,), {"type": type_, "name": name, "inherit_cache": True})
    for dialect, template in (("postgresql", postgresql), ("sqlite", sqlite)):

        def render(element: FunctionElement, compiler: Any, _template: str = template, **kw) -> str:
            return _template.format(*(compiler.process(c, **kw) for c in element.clauses))

        compiles(function, dialect)(render)
    return function


# seconds from the first timestamp to the second
seconds_between = _portable(
    "seconds_between",
    Float(),
    postgresql="EXTRACT(EPOCH FROM ({1} - {0}))",
    sqlite="((julianday({1}) - julianday({0})) * 86400.0)",
)
# "YYYY-MM" of a stored timestamp, in UTC whatever the session's TimeZone (SQLite stores UTC
# text, "2026-11-23 08:00:00.000000")
utc_month = _portable(
    "utc_month",
    String(),
    postgresql="to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM')",
    sqlite="substr({0}, 1, 7)",
)
# the elements of a JSON array as rows: select from `json_elements(col).table_valued("value")`
json_elements = _portable(
    "json_elements", JSON(), postgresql="json_array_elements({0})", sqlite="json_each({0})"
)
# a member of a JSON object, as text (SQLite: as the member's own type)
json_member = _portable(
    "json_member",
    String(),
    postgresql="({0} ->> {1})",
    sqlite="json_extract({0}, '$.' || {1})",
)
# the column itself, which SQLite's planner may not use an index for (its unary "+"): for a
# filter that should be checked on the rows another index found, not drive the search
not_for_index = _portable("not_for_index", NullType(), postgresql="{0}", sqlite="+{0}")
