"""Turn an uploaded lead sheet (CSV or XLSX bytes) into canonical rows; no web or database code."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter
from pathlib import PurePath

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from crm.compliance.masking import mask_in_text, mask_name
from crm.errors import DomainError

FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名", "名字", "name"),
    "phone": ("手机号码", "手机号", "手机", "电话", "联系电话", "phone", "mobile"),
    "id_number": ("身份证号", "身份证", "证件号码", "id_number", "id"),
    "city": ("城市", "所在城市", "city"),
    "amount_wanted": ("贷款金额", "需求金额", "金额", "amount", "amount_wanted"),
    "term_months": ("期限", "贷款期限", "term", "term_months"),
    "purpose": ("用途", "贷款用途", "purpose"),
    "source": ("渠道来源", "渠道", "来源", "source", "channel"),
    "provident_fund": ("公积金", "provident_fund"),
    "social_security": ("社保", "social_security"),
    "house": ("房产", "房", "house"),
    "car": ("车产", "车", "car"),
    "insurance_policy": ("保单", "insurance_policy"),
    "business_licence": ("营业执照", "business_licence"),
    "monthly_income": ("月收入", "收入", "monthly_income", "income"),
    "employment": ("职业", "职业身份", "工作类型", "employment"),
    "credit_status": ("征信", "征信情况", "credit_status"),
    "remark": ("备注", "remark", "note"),
}

REQUIRED_FIELDS = ("phone",)
HEADER_SCAN_ROWS = 10
MIN_HEADER_MATCHES = 2

_XLSX_MAGIC = b"PK\x03\x04"
# Old .xls, .et and password-protected .xlsx all live in an OLE2 compound file.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_SPREADSHEETS_WE_CANNOT_READ = {".xlsb", ".ods", ".numbers"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
# Excel keeps 15 significant digits; integers beyond that have been rounded.
_EXCEL_EXACT_INTEGERS = 1e15
_DELIMITERS = (",", "\t", ";")
_SNIFF_CHARS = 64 * 1024
# Everything openpyxl/zipfile/expat raise on a damaged workbook, found by truncating and
# flipping bytes of real files; our own DomainError is deliberately not in this list.
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    InvalidFileException,
    SyntaxError,  # expat's ParseError, and lxml's XMLSyntaxError should lxml get installed
    KeyError,
    ValueError,
    TypeError,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
)
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_BLANKS = re.compile(r"[\s*:]+")


@dataclass(frozen=True, slots=True)
class SheetRow:
    row_number: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class Sheet:
    columns: dict[str, str]
    rows: list[SheetRow]


Record = tuple[int, Sequence[str]]


def header_key(text: str) -> str:
    """Comparable form of a header: NFKC turns （元） into (元), then units, blanks, case go."""
    folded = unicodedata.normalize("NFKC", text)
    return _BLANKS.sub("", _BRACKETED.sub("", folded)).casefold()


_ALIASES: dict[str, str] = {
    header_key(alias): field for field, aliases in FIELDS.items() for alias in aliases
}


def read_sheet(
    data: bytes, filename: str, mapping: dict[str, str] | None = None, max_rows: int = 1_000_000
) -> Sheet:
    """Read CSV/XLSX bytes; `mapping` (field -> header in the file) overrides the aliases."""
    lookup, required = _lookup(mapping)
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise DomainError(
            "unsupported_file_type",
            "old .xls files (and password-protected workbooks) cannot be read; "
            "save the sheet as .xlsx or CSV",
            status=422,
        )
    if data.startswith(_XLSX_MAGIC):
        if suffix in _ZIP_SPREADSHEETS_WE_CANNOT_READ:
            raise DomainError(
                "unsupported_file_type",
                f"{suffix} files cannot be read; save as .xlsx or CSV",
                status=422,
            )
        return _read_xlsx(data, lookup, required, max_rows)
    if suffix in _XLSX_SUFFIXES:
        raise _unreadable(f"{filename} is not a valid .xlsx workbook")
    return _read_csv(data, lookup, required, max_rows)


def _lookup(mapping: dict[str, str] | None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Header key -> field; a mapped field loses its aliases so the user's choice wins."""
    if not mapping:
        return _ALIASES, REQUIRED_FIELDS
    unknown = sorted(f for f in mapping if f not in FIELDS)
    blank = sorted(f for f, header in mapping.items() if not header_key(str(header or "")))
    if unknown or blank:
        raise DomainError(
            "invalid_mapping",
            "the column mapping names unknown fields or empty headers",
            status=422,
            details={"unknown_fields": unknown, "empty_headers": blank},
        )
    lookup = {key: field for key, field in _ALIASES.items() if field not in mapping}
    lookup.update({header_key(header): field for field, header in mapping.items()})
    required = tuple(dict.fromkeys([*REQUIRED_FIELDS, *mapping]))
    return lookup, required


def _unreadable(message: str) -> DomainError:
    return DomainError("unreadable_file", message, status=422)


# ---------------------------------------------------------------- CSV


def _read_csv(
    data: bytes, lookup: dict[str, str], required: tuple[str, ...], max_rows: int
) -> Sheet:
    encoding, sample = _detect_encoding(data)
    delimiter = _pick_delimiter(sample, lookup)
    # Decoding as we go keeps the bytes as the only full copy; a decoded str plus StringIO's
    # 4-bytes-a-character buffer would add ~400 MB at a million rows.
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        # Record number, not line number: it is the row Excel/WPS shows when the user opens it.
        return _build(enumerate(reader, start=1), lookup, required, max_rows)
    except csv.Error as exc:
        raise _unreadable(f"the CSV file is malformed near line {reader.line_num}: {exc}") from exc


def _detect_encoding(data: bytes) -> tuple[str, str]:
    """(encoding, first 64 KiB of text): UTF-8 with or without BOM, then GB18030; UTF-16 only
    with a BOM (Excel's "Unicode text" export)."""
    encodings = ("utf-8-sig", "gb18030")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # NUL never occurs in a text sheet but is common in binaries that happen to decode.
        if "\x00" in text:
            break
        return encoding, text[:_SNIFF_CHARS]
    raise _unreadable("the file is neither an .xlsx workbook nor a UTF-8/GBK text (CSV) file")


def _pick_delimiter(sample: str, lookup: dict[str, str]) -> str:
    """The delimiter under which the most known headers appear; then the widest first row.

    Scoring against the aliases copes with title rows above the header, which defeat
    csv.Sniffer's consistency heuristics.
    """

    def score(delimiter: str) -> tuple[int, int]:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            head = list(islice(reader, HEADER_SCAN_ROWS))
        except csv.Error:
            return (-1, -1)
        matches = max((len(_match_columns(row, lookup)) for row in head), default=0)
        width = next((len(row) for row in head if "".join(row).strip()), 0)
        return (matches, width)

    return max(_DELIMITERS, key=score)  # max keeps the first on ties: comma


# ---------------------------------------------------------------- XLSX


def _read_xlsx(
    data: bytes, lookup: dict[str, str], required: tuple[str, ...], max_rows: int
) -> Sheet:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        raise _unreadable("the .xlsx workbook is damaged or incomplete") from exc
    try:
        return _read_workbook(workbook, lookup, required, max_rows)
    except _XLSX_ERRORS as exc:
        # read_only parses lazily, so a truncated sheet only fails while rows are read.
        raise _unreadable("the .xlsx workbook is damaged or incomplete") from exc
    finally:
        workbook.close()


def _read_workbook(
    workbook: Workbook, lookup: dict[str, str], required: tuple[str, ...], max_rows: int
) -> Sheet:
    """First sheet whose header has every required column; else fail on the first sheet."""
    first_error: DomainError | None = None
    for worksheet in workbook.worksheets:
        # Some exporters write a wrong <dimension>; without a reset rows could be cut short.
        worksheet.reset_dimensions()
        rows = worksheet.iter_rows(values_only=True)
        records = ((n, [_cell_text(v) for v in row]) for n, row in enumerate(rows, start=1))
        try:
            return _build(records, lookup, required, max_rows)
        except DomainError as exc:
            if exc.code != "missing_columns":
                raise
            first_error = first_error or exc
    raise first_error or _missing_columns(required, [])


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def _float_text(value: float) -> str:
    """13800138000.0 -> "13800138000"; past 15 digits Excel has already dropped digits, so
    1.10101199003071e+17 stays as written rather than gaining invented ones."""
    if value.is_integer() and abs(value) < _EXCEL_EXACT_INTEGERS:
        return str(int(value))
    return format(value, ".15g")


# ---------------------------------------------------------------- shared


def _build(
    records: Iterator[Record], lookup: dict[str, str], required: tuple[str, ...], max_rows: int
) -> Sheet:
    head = list(islice(records, HEADER_SCAN_ROWS))
    header_at = _find_header(head, lookup)
    if header_at is None:
        # No row looks like a header. The first may be one with names we do not know (shown
        # so the user can rename them), or a person's (a list saved without its header row):
        # the error is shown and kept where personal data must not be, so it is masked.
        found = next((cells for _, cells in head if "".join(cells).strip()), [])
        raise _missing_columns(required, [mask_name(mask_in_text(c.strip())) for c in found])
    _, header = head[header_at]
    positions = _match_columns(header, lookup)
    if any(field not in positions for field in required):
        raise _missing_columns([f for f in required if f not in positions], header)
    columns = {field: header[i].strip() for field, i in positions.items()}
    rows = _collect(chain(head[header_at + 1 :], records), positions, max_rows)
    return Sheet(columns=columns, rows=rows)


def _find_header(head: list[Record], lookup: dict[str, str]) -> int | None:
    """Index of the first row with >= 2 known headers; a lone phone column also counts so a
    plain list of numbers can be imported."""
    matched = [_match_columns(cells, lookup) for _, cells in head]
    for index, columns in enumerate(matched):
        if len(columns) >= MIN_HEADER_MATCHES:
            return index
    return next((i for i, columns in enumerate(matched) if "phone" in columns), None)


def _match_columns(cells: Iterable[str], lookup: dict[str, str]) -> dict[str, int]:
    """Field -> column index; with two columns for one field the leftmost wins."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(cells):
        field = lookup.get(header_key(cell)) if cell else None
        if field is not None and field not in positions:
            positions[field] = index
    return positions


def _collect(records: Iterable[Record], positions: dict[str, int], max_rows: int) -> list[SheetRow]:
    fields = tuple(positions)
    pick = _picker(tuple(positions.values()))
    strip = str.strip
    rows: list[SheetRow] = []
    with _gc_paused():
        for number, cells in records:
            values = dict(zip(fields, map(strip, pick(cells)), strict=True))
            # Mapped cells first: the join over the whole row is only needed when they are blank.
            if not any(values.values()) and not "".join(cells).strip():
                continue
            if len(rows) >= max_rows:
                raise DomainError(
                    "too_many_rows",
                    f"the sheet has more than {max_rows} data rows",
                    status=422,
                    details={"max_rows": max_rows},
                )
            rows.append(SheetRow(number, values))
    return rows


def _picker(indices: tuple[int, ...]) -> Callable[[Sequence[str]], Sequence[str]]:
    """Cells at `indices` via itemgetter (C speed); rows shorter than the header pad with ""."""
    getter = itemgetter(*indices)
    single = len(indices) == 1  # itemgetter(i) returns the bare cell, not a 1-tuple

    def pick(cells: Sequence[str]) -> Sequence[str]:
        try:
            picked = getter(cells)
        except IndexError:
            width = len(cells)
            return [cells[i] if i < width else "" for i in indices]
        return (picked,) if single else picked

    return pick


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million new row objects set off full cyclic collections again and again (about half
    the read time); rows hold only strings, so no cycles go unfreed while paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _missing_columns(missing: Sequence[str], header: Sequence[str]) -> DomainError:
    return DomainError(
        "missing_columns",
        f"required column(s) not found: {', '.join(missing)}",
        status=422,
        details={"missing": list(missing), "found": [c.strip() for c in header if c.strip()]},
    )
