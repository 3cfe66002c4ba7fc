"""Contracts render in a sandbox to a printable PDF that shows every fee and real CJK text."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal

import pytest

from crm.errors import DomainError
from crm.loans.apr import quote
from crm.loans.contract_render import (
    ContractData,
    ContractFee,
    ContractParty,
    ContractRow,
    default_template,
    render_html,
    render_pdf,
    sha256_hex,
)
from crm.loans.fees import Fee

pytestmark = pytest.mark.integration

MASKED_ID = "110101********123X"
FEES = [
    (Fee("居间服务费", "broker", "upfront_rate", Decimal("0.015")), "按借款金额 1.5% 一次性收取"),
    (Fee("账户管理费", "lender", "monthly_rate", Decimal("0.001")), "每月按借款金额 0.1% 收取"),
]


def make_contract(term_months: int = 12, **overrides) -> ContractData:
    """A 10,000-yuan 等额本息 loan at 8.01% whose two fees bring the APR (IRR) to 13.03%."""
    amount = Decimal(10000)
    q = quote(
        amount,
        term_months,
        Decimal("0.0801"),
        "equal_installment",
        [f for f, _ in FEES],
        date(2026, 1, 15),
    )
    monthly_fees = sum((i.fee for i in q.schedule), Decimal(0))
    fee_amounts = [q.upfront_fees, monthly_fees]
    values = {
        "contract_no": "LL-2026-000017",
        "version": 1,
        "org_name": "杭州示例助贷服务有限公司",
        "lender_name": "示例消费金融有限公司",
        "product_name": "薪享贷",
        "parties": [
            ContractParty("borrower", "张*", MASKED_ID, "浙江省杭州市西湖区***"),
            ContractParty("broker", "杭州示例助贷服务有限公司"),
            ContractParty("lender", "示例消费金融有限公司"),
        ],
        "amount": amount,
        "term_months": term_months,
        "repayment_method": "equal_installment",
        "annual_rate": Decimal("0.0801"),
        "apr": q.apr,
        "effective_rate": q.effective_rate,
        "fees": [
            ContractFee(fee.name, fee.payer, fee.collector, basis, value)
            for (fee, basis), value in zip(FEES, fee_amounts, strict=True)
        ],
        "schedule": [
            ContractRow(i.n, i.due_date, i.principal, i.interest, i.fee, i.total)
            for i in q.schedule
        ],
        "total_interest": q.total_interest,
        "total_fees": q.total_fees,
        "total_repayment": q.total_repayment,
        "net_disbursed": q.net_disbursed,
        "consent_text": "本人已阅读并理解本合同全部条款，知悉上表所列全部费用及综合年化成本。",
        "generated_at": datetime(2026, 1, 10, 14, 30),
    }
    return ContractData(**{**values, **overrides})


@pytest.fixture(scope="module")
def pdf_reader():
    """pypdfium2, after checking WeasyPrint can load Pango (installed by scripts/setup)."""
    try:
        import weasyprint  # noqa: F401
    except OSError as error:
        reason = f"WeasyPrint cannot load its system libraries ({error}): run scripts/setup test"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    import pypdfium2

    return pypdfium2


def test_html_discloses_apr_every_fee_and_masks_the_borrower():
    html = render_html(make_contract())
    assert "13.03%" in html
    assert "综合年化成本 APR（IRR 法）" in html
    for fee, _ in FEES:
        assert fee.name in html
    assert "按借款金额 1.5% 一次性收取" in html
    assert MASKED_ID in html
    assert "等额本息" in html
    assert "10,000.00" in html
    assert "9,850.00" in html  # net disbursed after the 150-yuan upfront fee


def test_html_escapes_data_values():
    data = make_contract(product_name="<script>alert(1)</script>")
    html = render_html(data)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_org_template_gets_the_same_fields_and_filters():
    template = (
        "{{ contract_no }} {{ amount|money }} {{ apr|percent }} {{ repayment_method|method_name }}"
    )
    assert render_html(make_contract(), template) == "LL-2026-000017 10,000.00 13.03% 等额本息"


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{{ ''.__class__.__mro__ }}", id="mro"),
        pytest.param("{{ ''.__class__.__mro__[1].__subclasses__() }}", id="subclasses"),
        pytest.param("{{ fees.__class__.__init__.__globals__ }}", id="globals"),
        pytest.param("{{ '{0.__class__}'.format(amount) }}", id="format-string"),
        pytest.param("{{ cycler.__init__.__globals__.os }}", id="cycler-globals"),
        pytest.param("{{ amount|attr('__class__') }}", id="attr-filter"),
    ],
)
def test_template_reaching_outside_the_sandbox_is_an_invalid_template(template):
    with pytest.raises(DomainError) as refused:
        render_html(make_contract(), template)
    assert refused.value.code == "invalid_contract_template"
    assert refused.value.status == 422
    assert refused.value.details["error"].startswith("SecurityError")


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{% for fee in fees %}{{ fee.name }}", id="syntax"),
        pytest.param("{{ borrower_salary }}", id="undefined"),
        pytest.param("{{ amount / 0 }}", id="arithmetic"),
    ],
)
def test_broken_template_is_an_invalid_template(template):
    with pytest.raises(DomainError) as refused:
        render_html(make_contract(), template)
    assert refused.value.code == "invalid_contract_template"


def test_unknown_repayment_method_is_refused_before_rendering():
    with pytest.raises(ValueError):
        make_contract(repayment_method="balloon")


def test_pdf_page_one_shows_chinese_text_and_the_apr(pdf_reader):
    pdf_bytes = render_pdf(render_html(make_contract()))
    assert pdf_bytes.startswith(b"%PDF-")
    assert len(sha256_hex(pdf_bytes)) == 64

    document = pdf_reader.PdfDocument(pdf_bytes)
    try:
        page = document[0]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points

        image = page.render(scale=1).to_pil().convert("L")
        histogram = image.histogram()
        non_white = sum(histogram[:200]) / (image.width * image.height)
        assert non_white > 0.03, f"page 1 is nearly blank ({non_white:.1%} dark pixels)"

        # Text extraction maps glyphs back to characters through the embedded font: tofu boxes
        # or a font without CJK would not give "借款" back.
        text = page.get_textpage().get_text_bounded()
        assert "借 款 居 间 服 务 合 同" in text  # the title is letter-spaced
        assert "13.03%" in text
        assert "借款" in text and "居间服务费" in text and "账户管理费" in text
        assert MASKED_ID in text
    finally:
        document.close()


def test_pdf_never_fetches_local_files(pdf_reader, tmp_path):
    # Unguarded, WeasyPrint would attach this file to the PDF (compressed, so the check reads the
    # attachments rather than grepping the bytes).
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    template = default_template().replace(
        "</body>",
        f'<link rel="attachment" href="file://{secret}"><img src="file://{secret}"></body>',
    )
    document = pdf_reader.PdfDocument(render_pdf(render_html(make_contract(), template)))
    try:
        assert document.count_attachments() == 0
    finally:
        document.close()
