"""Reading uploaded lead sheets (crm.leads.sheet) and parsing their cells (crm.leads.cells)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook

from crm.errors import DomainError
from crm.leads import cells
from crm.leads.sheet import FIELDS, Sheet, header_key, read_sheet
from tests.sample_data import SAMPLE_DATA

DATA = SAMPLE_DATA
SAMPLE_ROWS = 322  # counted from the files: 323 CSV records and 324 sheet rows, minus headers
SAMPLE_HEADERS = (
    "姓名,手机号码,身份证号,城市,贷款金额(元),渠道来源,公积金,社保,房产,车产,月收入,备注"
)
SAMPLE_FIELDS = (
    "name phone id_number city amount_wanted source provident_fund social_security house car "
    "monthly_income remark"
)
SAMPLE_COLUMNS = dict(zip(SAMPLE_FIELDS.split(), SAMPLE_HEADERS.split(","), strict=True))


def _xlsx(*sheets: list[list[object]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for index, rows in enumerate(sheets):
        worksheet = workbook.create_sheet(f"Sheet{index + 1}")
        for row in rows:
            worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _patch_sheet_xml(data: bytes, old: bytes, new: bytes) -> bytes:
    """Rewrite the first sheet's XML, to store values the way Excel (not openpyxl) writes them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                assert old in content
                content = content.replace(old, new)
            target.writestr(name, content)
    return buffer.getvalue()


def _error(data: bytes, filename: str, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        read_sheet(data, filename, **kwargs)
    assert caught.value.status == 422
    return caught.value


def _phones(sheet: Sheet) -> list[str]:
    return [row.values["phone"] for row in sheet.rows]


# ---------------------------------------------------------------- sample files


def test_gbk_csv_with_chinese_headers_reads_all_rows() -> None:
    sheet = read_sheet((DATA / "leads_sample_gbk.csv").read_bytes(), "leads_sample_gbk.csv")

    assert len(sheet.rows) == SAMPLE_ROWS
    assert sheet.columns == SAMPLE_COLUMNS
    first, last = sheet.rows[0], sheet.rows[-1]
    assert first.row_number == 2
    assert first.values["name"] == "黎涵怡(重复)"
    assert first.values["amount_wanted"] == "30万"
    assert first.values["remark"] == '=HYPERLINK("http://x","点我")'
    assert first.values["monthly_income"] == ""
    assert last.row_number == SAMPLE_ROWS + 1
    assert set(last.values) == set(SAMPLE_COLUMNS)


def test_xlsx_sample_skips_title_row_and_matches_the_csv() -> None:
    sheet = read_sheet((DATA / "leads_sample.xlsx").read_bytes(), "leads_sample.xlsx")
    csv_sheet = read_sheet((DATA / "leads_sample_gbk.csv").read_bytes(), "leads.csv")

    assert len(sheet.rows) == SAMPLE_ROWS
    assert sheet.columns == SAMPLE_COLUMNS
    assert [row.row_number for row in sheet.rows] == list(range(3, SAMPLE_ROWS + 3))
    # The sample's =HYPERLINK remarks are formulas with no cached value, so data_only reads
    # them as empty; every other cell must agree with the CSV export of the same rows.
    for xlsx_row, csv_row in zip(sheet.rows, csv_sheet.rows, strict=True):
        assert {**xlsx_row.values, "remark": ""} == {**csv_row.values, "remark": ""}


def test_too_many_rows_is_refused_with_the_limit() -> None:
    data = (DATA / "leads_sample_gbk.csv").read_bytes()

    error = _error(data, "leads.csv", max_rows=SAMPLE_ROWS - 1)

    assert error.code == "too_many_rows"
    assert error.details == {"max_rows": SAMPLE_ROWS - 1}
    assert len(read_sheet(data, "leads.csv", max_rows=SAMPLE_ROWS).rows) == SAMPLE_ROWS


def test_truncated_xlsx_is_unreadable() -> None:
    data = (DATA / "leads_sample.xlsx").read_bytes()

    assert _error(data[: len(data) // 2], "leads.xlsx").code == "unreadable_file"


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"], ids=["with-bom", "without-bom"])
def test_utf8_csv_with_or_without_bom_reads_chinese_headers(encoding: str) -> None:
    sheet = read_sheet("姓名,手机号,城市\n张三,13800138000,深圳\n".encode(encoding), "leads.csv")

    assert sheet.columns == {"name": "姓名", "phone": "手机号", "city": "城市"}
    assert sheet.rows[0].values == {"name": "张三", "phone": "13800138000", "city": "深圳"}


def test_full_width_bracketed_unit_in_a_header_is_ignored() -> None:
    data = "姓名,手机号码,贷款金额（元）\n李四,13900139000,30万\n".encode()

    sheet = read_sheet(data, "leads.csv")

    assert sheet.columns["amount_wanted"] == "贷款金额（元）"
    assert sheet.rows[0].values == {"name": "李四", "phone": "13900139000", "amount_wanted": "30万"}


@pytest.mark.parametrize("delimiter", ["\t", ";"], ids=["tab", "semicolon"])
def test_tab_or_semicolon_separated_file_is_detected(delimiter: str) -> None:
    data = "客户姓名,手机,备注\n王五,13700137000,5,000 要快\n".replace(",", delimiter, 4)

    sheet = read_sheet(data.encode(), "leads.txt")

    assert sheet.rows[0].values == {"name": "王五", "phone": "13700137000", "remark": "5,000 要快"}


def test_excel_unicode_text_export_utf16_is_read() -> None:
    data = "姓名\t手机号码\n赵六\t13600136000\n".encode("utf-16")

    assert _phones(read_sheet(data, "leads.txt")) == ["13600136000"]


def test_english_headers_ignore_case_spaces_and_units() -> None:
    data = b" Name ,MOBILE,Amount (CNY),Note\nAmy,13800138000,8k,hi\n"
    expected = {
        "name": "Name",
        "phone": "MOBILE",
        "amount_wanted": "Amount (CNY)",
        "remark": "Note",
    }

    sheet = read_sheet(data, "leads.csv")

    assert sheet.columns == expected
    assert sheet.rows[0].values["amount_wanted"] == "8k"


def test_custom_mapping_maps_an_unknown_header() -> None:
    data = "姓名,客户手机,城市\n张三,13800138000,深圳\n".encode()

    sheet = read_sheet(data, "leads.csv", mapping={"phone": "客户手机"})

    assert sheet.columns["phone"] == "客户手机"
    assert _phones(sheet) == ["13800138000"]


def test_custom_mapping_overrides_the_alias_column() -> None:
    data = "姓名,电话,客户手机\n张三,0755-1234567,13800138000\n".encode()

    assert _phones(read_sheet(data, "a.csv")) == ["0755-1234567"]
    assert _phones(read_sheet(data, "a.csv", mapping={"phone": "客户手机"})) == ["13800138000"]


def test_mapping_to_an_unknown_field_is_refused() -> None:
    error = _error("姓名,手机\n".encode(), "a.csv", mapping={"wechat": "微信"})

    assert error.code == "invalid_mapping"
    assert error.details["unknown_fields"] == ["wechat"]


def test_mapped_header_absent_from_the_file_is_a_missing_column() -> None:
    error = _error("姓名,手机\n张三,138\n".encode(), "a.csv", mapping={"city": "地区"})

    assert error.code == "missing_columns"
    assert error.details == {"missing": ["city"], "found": ["姓名", "手机"]}


def test_missing_phone_column_reports_missing_and_found_headers() -> None:
    data = "姓名,城市,微信\n张三,深圳,zs001\n".encode()

    error = _error(data, "leads.csv")

    assert error.code == "missing_columns"
    assert error.details == {"missing": ["phone"], "found": ["姓名", "城市", "微信"]}


def test_file_without_any_known_header_reports_its_first_row_masked() -> None:
    # the first row may be a header we do not know, or a person (no header row at all)
    error = _error("客户,微信\n张三,zs001\n".encode(), "leads.csv")

    assert error.details == {"missing": ["phone"], "found": ["客*", "微*"]}


def test_header_row_after_the_first_ten_rows_is_not_searched() -> None:
    data = ("说明\n" * 10 + "姓名,手机\n张三,13800138000\n").encode()

    assert _error(data, "leads.csv").code == "missing_columns"


def test_title_rows_above_the_header_are_skipped_and_counted() -> None:
    data = "2026年11月 电销名单,,\n导出人：小王,,\n姓名,手机号,城市\n张三,13800138000,深圳\n"

    sheet = read_sheet(data.encode(), "leads.csv")

    assert [(row.row_number, row.values["name"]) for row in sheet.rows] == [(4, "张三")]


def test_a_lone_phone_column_is_a_header() -> None:
    sheet = read_sheet("手机号\n13800138000\n13900139000\n".encode(), "numbers.csv")

    assert _phones(sheet) == ["13800138000", "13900139000"]


def test_quoted_fields_keep_commas_and_newlines_and_rows_count_records() -> None:
    data = '姓名,手机,备注\n张三,13800138000,"第一行,\n第二行"\n李四,13900139000,"+1 已沟通"\n'

    sheet = read_sheet(data.encode(), "leads.csv")

    assert [row.values["remark"] for row in sheet.rows] == ["第一行,\n第二行", "+1 已沟通"]
    # Excel shows the multi-line cell as one row, so 李四 is on row 3, not line 4.
    assert [row.row_number for row in sheet.rows] == [2, 3]


def test_empty_rows_are_skipped_but_row_numbers_stay_true() -> None:
    data = "姓名,手机,城市\n\n , ,\n张三,13800138000,深圳\n,,\n"

    sheet = read_sheet(data.encode(), "leads.csv")

    assert [(row.row_number, row.values["phone"]) for row in sheet.rows] == [(4, "13800138000")]


def test_short_rows_pad_missing_cells_and_unknown_columns_are_ignored() -> None:
    data = "姓名,微信,手机,城市\n张三,zs001,13800138000\n".encode()

    sheet = read_sheet(data, "leads.csv")

    assert sheet.rows[0].values == {"name": "张三", "phone": "13800138000", "city": ""}


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        "姓名,手机\n张三,138\n".encode() + b"\x00\x00\xff\xfe",
        b"\xff\xff\xff\x80\x80",
    ],
    ids=["png", "text-with-nul", "invalid-bytes"],
)
def test_a_csv_that_is_not_text_is_unreadable(data: bytes) -> None:
    assert _error(data, "leads.csv").code == "unreadable_file"


# ---------------------------------------------------------------- file type


def test_old_binary_xls_is_unsupported() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

    assert _error(data, "leads.xls").code == "unsupported_file_type"


def test_xlsx_is_recognised_by_content_not_extension() -> None:
    data = _xlsx([["姓名", "手机"], ["张三", "13800138000"]])

    assert _phones(read_sheet(data, "leads.csv")) == ["13800138000"]


def test_file_named_xlsx_that_is_not_a_workbook_is_unreadable() -> None:
    assert _error("姓名,手机\n".encode(), "leads.xlsx").code == "unreadable_file"


def test_zip_that_is_not_a_workbook_is_unreadable() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    assert _error(buffer.getvalue(), "leads.xlsx").code == "unreadable_file"


# ---------------------------------------------------------------- XLSX cells


def test_xlsx_phone_stored_as_a_number_reads_as_digits() -> None:
    data = _xlsx([["姓名", "手机号码"], ["张三", 13800138000], ["李四", 13900139000.0]])

    assert _phones(read_sheet(data, "leads.xlsx")) == ["13800138000", "13900139000"]


def test_xlsx_phone_written_as_float_text_by_excel_reads_as_digits() -> None:
    data = _xlsx([["姓名", "手机号码"], ["张三", 13800138000]])
    data = _patch_sheet_xml(data, b"<v>13800138000</v>", b"<v>1.3800138E10</v>")

    assert _phones(read_sheet(data, "leads.xlsx")) == ["13800138000"]


def test_xlsx_id_number_stored_as_float_keeps_its_lost_digits_visible() -> None:
    data = _xlsx([["手机", "身份证号"], ["13800138000", 1.10101199003071e17]])

    row = read_sheet(data, "leads.xlsx").rows[0]

    assert row.values["id_number"] == "1.10101199003071e+17"


def test_xlsx_dates_booleans_and_fractions_become_text() -> None:
    header = ["手机", "备注", "征信", "月收入", "期限"]
    row = ["13800138000", dt.datetime(2026, 11, 3), True, 1.5, dt.datetime(2026, 1, 2, 9, 30)]
    data = _xlsx([header, row])

    values = read_sheet(data, "leads.xlsx").rows[0].values

    assert values["remark"] == "2026-11-03"
    assert values["credit_status"] == "TRUE"
    assert values["monthly_income"] == "1.5"
    assert values["term_months"] == "2026-01-02 09:30:00"


def test_xlsx_first_sheet_without_a_header_row_is_passed_over() -> None:
    instructions = [["导入说明"], ["请从第二个工作表开始填写"]]
    leads = [["名单"], ["姓名", "手机号"], ["张三", "13800138000"]]

    sheet = read_sheet(_xlsx(instructions, leads), "leads.xlsx")

    assert [(row.row_number, row.values["phone"]) for row in sheet.rows] == [(3, "13800138000")]


def test_xlsx_without_phone_column_reports_the_header() -> None:
    error = _error(_xlsx([["姓名", "城市"], ["张三", "深圳"]]), "leads.xlsx")

    assert error.details == {"missing": ["phone"], "found": ["姓名", "城市"]}


def test_field_aliases_do_not_collide_after_normalisation() -> None:
    keys = [header_key(alias) for aliases in FIELDS.values() for alias in aliases]

    assert len(keys) == len(set(keys))


# ---------------------------------------------------------------- value parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30万", Decimal(300000)),
        ("1.5万", Decimal(15000)),
        ("8万", Decimal(80000)),
        ("50000", Decimal(50000)),
        ("5,000元", Decimal(5000)),
        ("￥8000", Decimal(8000)),
        ("8k", Decimal(8000)),
        ("8K", Decimal(8000)),
        ("３０万", Decimal(300000)),
        (" 20 万元 ", Decimal(200000)),
        ("1234.5", Decimal("1234.5")),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_amount_understands_broker_shorthand(text: str, expected: Decimal | None) -> None:
    assert cells.parse_amount(text) == expected


def test_parse_amount_returns_whole_yuan_without_exponent() -> None:
    assert str(cells.parse_amount("1.5万")) == "15000"


@pytest.mark.parametrize("text", ["面议", "10-20万", "-5000", "万", "1.2.3", "abc"])
def test_parse_amount_refuses_garbage(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        cells.parse_amount(text)

    assert caught.value.code == "invalid_amount"
    assert caught.value.details == {"value": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ["有", "是", "Y", "yes", "TRUE", "1", "有社保", "有公积金", "√"]],
        *[(t, False) for t in ["无", "没有", "否", "N", "no", "false", "0", "×", "无社保"]],
        ("", None),
        ("不清楚吧", None),
        ("待确认", None),
    ],
)
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert cells.parse_yes_no(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, "owned") for t in ["有房", "全款房", "有", "有车", "全款车"]],
        *[(t, "mortgaged") for t in ["按揭房", "按揭", "贷款车", "按揭车", "有房贷"]],
        *[(t, "none") for t in ["无", "无房", "没有", "无车", "租房"]],
        ("", None),
        ("无按揭", None),
        ("不详", None),
    ],
)
def test_parse_asset(text: str, expected: str | None) -> None:
    assert cells.parse_asset(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("12期", 12), ("12个月", 12), ("1年", 12), ("3年", 36), ("1.5年", 18), ("", None)],
)
def test_parse_term_months(text: str, expected: int | None) -> None:
    assert cells.parse_term_months(text) == expected


@pytest.mark.parametrize("text", ["很久", "0", "1.3年", "12-24期"])
def test_parse_term_months_refuses_garbage(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        cells.parse_term_months(text)

    assert caught.value.code == "invalid_term"


FORMULA_LIKE = ['=HYPERLINK("http://x","点我")', "+1 已沟通", "-5", "@SUM(A1:A2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("value", FORMULA_LIKE)
def test_neutralise_formula_prefixes_an_apostrophe_to_formula_like_cells(value: str) -> None:
    assert cells.neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["下午方便接电话", "13800138000", "a=b", " =1", ""])
def test_neutralise_formula_leaves_plain_text_unchanged(value: str) -> None:
    assert cells.neutralise_formula(value) == value
