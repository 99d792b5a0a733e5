"""Every report as a PDF: what the reader finds in the file (the Chinese title, a key figure,
the page numbers and the date range in the footer), who may download it (the same rules as the
HTML page), and that rendering fetches nothing from the network."""

from __future__ import annotations

import base64
import datetime
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from PIL import Image

from agency.tenancy import agency_scope
from diagnostics.models import ReportStatus
from execution.metrics.formatting import format_value
from proposals import services as proposal_services
from reporting import reviews
from reporting.briefs.builder import brief_build
from reporting.models import ReviewKind, ReviewStatus
from reporting.pdf.charts import Series, bar_chart, line_chart, nice_top
from reporting.pdf.documents import pdf_filename
from reporting.pdf.render import PortalURLFetcher, pdf_render
from reporting.tests.conftest import BRIEF_DAY
from reporting.views.pdf import attachment_header
from tests.images import png_bytes

ZH = "zh-hans"
# Rendering one report is well under a second; this bound only catches a runaway (a fetch that
# waits on the network, a layout loop), not a slow machine.
PDF_SECONDS = 5


def squeeze(text: str) -> str:
    """pdftotext drops or adds spaces between CJK glyphs: compare without any whitespace."""
    return "".join(text.split())


def pdf_text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content
    assert body.startswith(b"%PDF-")
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"],
        input=body,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return result.stdout.decode("utf-8")


def page_footers(text: str, language: str = ZH) -> list[str]:
    """The "Page N of M" footers expected in the reader's language, one per page."""
    pages = text.count("\f") or 1
    with translation.override(language):
        return [
            gettext("Page %(page)s of %(pages)s") % {"page": n, "pages": pages}
            for n in range(1, pages + 1)
        ]


def assert_footer(text: str, period: str) -> None:
    squeezed_pages = [squeeze(page) for page in text.split("\f") if page.strip()]
    for footer, page in zip(page_footers(text), squeezed_pages, strict=False):
        assert squeeze(footer) in page
        assert squeeze(period) in page  # the date range on every page


@pytest.fixture
def chinese_reader(brand_a_owner):
    brand_a_owner.user.language = ZH
    brand_a_owner.user.save(update_fields=["language"])
    return brand_a_owner


@pytest.fixture
def chinese_staff(demo_manager):
    demo_manager.user.language = ZH
    demo_manager.user.save(update_fields=["language"])
    return demo_manager


def timed_get(client, url):
    started = time.perf_counter()
    response = client.get(url)
    assert time.perf_counter() - started < PDF_SECONDS
    return response


# --- daily brief -------------------------------------------------------------------------------


@pytest.fixture
def stored_brief(brief_data, engagement_a, make_brief):
    day = datetime.date.fromisoformat(BRIEF_DAY)
    with agency_scope(engagement_a.agency_id):
        content = brief_build(engagement=engagement_a, date=day, raise_alerts=False)
    return make_brief(engagement_a, date=day, content=content, sent_at=timezone.now())


def test_brief_pdf_has_the_chinese_title_the_gmv_and_the_footer(
    stored_brief, chinese_reader, client_for, brand_a
):
    url = reverse(
        "reporting:brief_pdf",
        kwargs={"agency_slug": brand_a.agency.slug, "brief_id": stored_brief.pk},
    )
    text = squeeze(pdf_text(timed_get(client_for(chinese_reader), url)))
    assert squeeze(f"数据日报：{brand_a.name} · {BRIEF_DAY}") in text
    with translation.override(ZH):
        gmv = format_value("gmv", "3000.00")
    assert gmv == "¥3,000.00" and gmv in text
    assert "支付金额" in text  # the metric labels, in the reader's language
    assert "手淘搜索" in text  # the traffic-source bar chart's labels (SVG text)


def test_brief_pdf_footer_numbers_every_page_and_names_the_day(
    stored_brief, chinese_reader, client_for, brand_a
):
    url = reverse(
        "reporting:brief_pdf",
        kwargs={"agency_slug": brand_a.agency.slug, "brief_id": stored_brief.pk},
    )
    text = pdf_text(client_for(chinese_reader).get(url))
    assert_footer(text, BRIEF_DAY)


def test_brief_pdf_is_in_the_readers_language(stored_brief, demo_manager, client_for, brand_a):
    url = reverse(
        "reporting:brief_pdf",
        kwargs={"agency_slug": brand_a.agency.slug, "brief_id": stored_brief.pk},
    )
    text = squeeze(pdf_text(client_for(demo_manager).get(url)))  # an English reader
    assert squeeze(f"Daily brief: {brand_a.name} · {BRIEF_DAY}") in text
    assert squeeze("Page 1 of 1") in text or squeeze("Page 1 of 2") in text
    assert "数据日报" not in text


def test_brief_pdf_of_another_brand_is_404(stored_brief, brand_b_owner, client_for, brand_a):
    url = reverse(
        "reporting:brief_pdf",
        kwargs={"agency_slug": brand_a.agency.slug, "brief_id": stored_brief.pk},
    )
    assert client_for(brand_b_owner).get(url).status_code == 404


def test_brief_pdf_refuses_post_after_the_lookup(
    stored_brief, demo_manager, brand_b_owner, client, brand_a
):
    url = reverse(
        "reporting:brief_pdf",
        kwargs={"agency_slug": brand_a.agency.slug, "brief_id": stored_brief.pk},
    )
    client.force_login(brand_b_owner.user)
    assert client.post(url).status_code == 404  # not yours: no hint that it exists
    client.force_login(demo_manager.user)
    assert client.post(url).status_code == 405


# --- weekly and monthly reviews ----------------------------------------------------------------


@pytest.fixture
def monthly_review(brief_data, engagement_a, make_review):
    start, end = datetime.date(2026, 9, 1), datetime.date(2026, 9, 30)

    def make(status=ReviewStatus.PUBLISHED, narrative="九月：搜索流量带动支付金额增长。"):
        with agency_scope(engagement_a.agency_id):
            content = reviews.review_figures(
                engagement=engagement_a, kind=ReviewKind.MONTH, period_start=start, period_end=end
            )
        return make_review(
            engagement_a,
            kind=ReviewKind.MONTH,
            status=status,
            period_start=start,
            period_end=end,
            content=content,
            narrative=narrative,
            published_at=timezone.now() if status == ReviewStatus.PUBLISHED else None,
        )

    return make


def test_monthly_review_pdf_has_the_title_the_gmv_and_the_period(
    monthly_review, chinese_reader, client_for, brand_a
):
    review = monthly_review()
    url = reverse(
        "reporting:review_pdf", kwargs={"agency_slug": brand_a.agency.slug, "review_id": review.pk}
    )
    raw = pdf_text(timed_get(client_for(chinese_reader), url))
    text = squeeze(raw)
    assert squeeze(f"月报 · {brand_a.name}") in text
    # September's GMV: 1,000 + 1,800 + 1,200 + 3,000 (brief_data's four days).
    assert "¥7,000.00" in text
    assert "九月：搜索流量带动支付金额增长。" in text
    assert_footer(raw, "2026-09-01 – 2026-09-30")


def test_weekly_review_pdf(brief_data, engagement_a, make_review, chinese_reader, client_for):
    start, end = datetime.date(2026, 9, 7), datetime.date(2026, 9, 13)
    with agency_scope(engagement_a.agency_id):
        content = reviews.review_figures(
            engagement=engagement_a, kind=ReviewKind.WEEK, period_start=start, period_end=end
        )
    review = make_review(
        engagement_a, kind=ReviewKind.WEEK, period_start=start, period_end=end, content=content
    )
    url = reverse(
        "reporting:review_pdf",
        kwargs={"agency_slug": engagement_a.agency.slug, "review_id": review.pk},
    )
    raw = pdf_text(client_for(chinese_reader).get(url))
    assert squeeze("周报") in squeeze(raw)
    assert "¥4,200.00" in squeeze(raw)  # the 9th and the 10th
    assert_footer(raw, "2026-09-07 – 2026-09-13")


def test_draft_review_pdf_is_404_for_the_brand_and_marked_draft_for_staff(
    monthly_review, brand_a_owner, chinese_staff, client, brand_a
):
    review = monthly_review(status=ReviewStatus.DRAFT)
    url = reverse(
        "reporting:review_pdf", kwargs={"agency_slug": brand_a.agency.slug, "review_id": review.pk}
    )
    client.force_login(brand_a_owner.user)
    assert client.get(url).status_code == 404
    client.force_login(chinese_staff.user)
    text = squeeze(pdf_text(client.get(url)))
    with translation.override(ZH):
        assert squeeze(gettext("Draft: the brand cannot see this report yet.")) in text


def test_review_pdf_of_another_brand_is_404(monthly_review, brand_b_owner, client_for, brand_a):
    review = monthly_review()
    url = reverse(
        "reporting:review_pdf", kwargs={"agency_slug": brand_a.agency.slug, "review_id": review.pk}
    )
    assert client_for(brand_b_owner).get(url).status_code == 404


def test_a_remote_image_in_a_narrative_is_never_fetched(
    monthly_review, chinese_reader, client_for, brand_a, remote_host
):
    review = monthly_review(narrative=f'<img src="{remote_host.url}/narrative.png"> 九月复盘')
    url = reverse(
        "reporting:review_pdf", kwargs={"agency_slug": brand_a.agency.slug, "review_id": review.pk}
    )
    text = squeeze(pdf_text(client_for(chinese_reader).get(url)))
    assert "九月复盘" in text
    assert remote_host.hits == []


# --- the url fetcher itself --------------------------------------------------------------------


@pytest.fixture
def remote_host():
    """An HTTP server on loopback that records every request it gets."""

    class Host:
        hits: list[str]
        url: str

    host = Host()
    host.hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            host.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png_bytes())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_fetcher_refuses_remote_and_file_urls_but_renders_data_and_static(
    demo_agency, remote_host, settings, tmp_path
):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    secret = tmp_path / "secret.txt"
    secret.write_text("do not embed")
    (tmp_path / "hostile.html").write_text(
        '{% extends "reporting/pdf/base.html" %}{% block content %}'
        f'<img src="{remote_host.url}/img.png" alt="remote">'
        f'<link rel="stylesheet" href="{remote_host.url}/style.css">'
        f'<div style="background: url(https://example.com/x.png)">x</div>'
        f'<img src="file://{secret}" alt="local">'
        '<img src="/media/agency-logos/1/logo.png" alt="media">'
        '<img src="/static/favicon.svg" alt="favicon">'
        '<img src="data:image/png;base64,{{ png }}" alt="inline">'
        "{% endblock %}"
    )
    fetcher = PortalURLFetcher()
    with translation.override(ZH):
        pdf = pdf_render(
            template="hostile.html",
            context={"png": base64.b64encode(png_bytes()).decode()},
            agency=demo_agency,
            title="测试报告",
            period=(datetime.date(2026, 9, 1), datetime.date(2026, 9, 30)),
            fetcher=fetcher,
        )
    assert pdf.startswith(b"%PDF-")
    assert remote_host.hits == []
    refused = " ".join(fetcher.refused)
    assert remote_host.url in refused
    assert "https://example.com/x.png" in refused
    assert f"file://{secret}" in refused
    assert "/media/agency-logos/1/logo.png" in refused
    assert "favicon.svg" not in refused  # the portal's own static file, read from disk


def test_the_logo_is_embedded_and_the_colour_used(demo_agency, settings, tmp_path):
    demo_agency.logo.save("logo.png", ContentFile(png_bytes()), save=False)
    demo_agency.primary_color = "#123abc"
    demo_agency.save()
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    (tmp_path / "plain.html").write_text(
        '{% extends "reporting/pdf/base.html" %}{% block content %}<p>正文</p>{% endblock %}'
    )
    fetcher = PortalURLFetcher()
    pdf = pdf_render(
        template="plain.html",
        context={},
        agency=demo_agency,
        title="品牌报告",
        period=None,
        fetcher=fetcher,
    )
    assert fetcher.refused == []
    images = subprocess.run(
        ["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert len(images.strip().splitlines()) == 3  # two header lines and the logo
    # The colour reaches the page (the title and the rule under the header): rasterise it.
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-singlefile", "-", str(tmp_path / "page")],
        input=pdf,
        capture_output=True,
        check=True,
    )
    colours = Image.open(tmp_path / "page.png").convert("RGB").getcolors(maxcolors=1 << 20)
    assert any(abs(r - 0x12) + abs(g - 0x3A) + abs(b - 0xBC) < 12 for _n, (r, g, b) in colours)


def test_a_hostile_title_cannot_break_out_of_the_stylesheet(demo_agency, settings, tmp_path):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    (tmp_path / "plain.html").write_text(
        '{% extends "reporting/pdf/base.html" %}{% block content %}<p>body</p>{% endblock %}'
    )
    pdf = pdf_render(
        template="plain.html",
        context={},
        agency=demo_agency,
        title='</style><img src="http://127.0.0.1:9/x"> "quoted"',
        period=None,
    )
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert '</style><img src="http://127.0.0.1:9/x"> "quoted"' in text


# --- diagnosis ---------------------------------------------------------------------------------


@pytest.fixture
def diagnosis_sections():
    return [
        {
            "key": "overview",
            "title": "店铺现状",
            "body": "近90天支付金额 ¥7,000.00，访客数 1,900。",
        },
        {"key": "advice", "title": "建议", "body": "优先优化搜索流量。"},
    ]


def test_published_diagnosis_pdf_for_the_brand(
    brief_data, engagement_a, make_report, diagnosis_sections, chinese_reader, client_for
):
    report = make_report(
        engagement_a,
        title="品牌现状诊断报告",
        sections=diagnosis_sections,
        published_at=timezone.make_aware(datetime.datetime(2026, 9, 12, 10)),
    )
    url = reverse(
        "reporting:diagnosis_pdf",
        kwargs={
            "agency_slug": engagement_a.agency.slug,
            "engagement_id": engagement_a.pk,
            "report_id": report.pk,
        },
    )
    raw = pdf_text(timed_get(client_for(chinese_reader), url))
    text = squeeze(raw)
    assert "品牌现状诊断报告" in text
    assert squeeze("近90天支付金额 ¥7,000.00") in text
    # The trend: 90 days up to the last day with data on or before the report (the 10th).
    assert_footer(raw, "2026-06-13 – 2026-09-10")


def test_unpublished_diagnosis_pdf_is_404_for_the_brand_and_readable_by_staff(
    engagement_a, make_report, diagnosis_sections, brand_a_owner, chinese_staff, client
):
    report = make_report(
        engagement_a, status=ReportStatus.DRAFT, title="诊断草稿", sections=diagnosis_sections
    )
    url = reverse(
        "reporting:diagnosis_pdf",
        kwargs={
            "agency_slug": engagement_a.agency.slug,
            "engagement_id": engagement_a.pk,
            "report_id": report.pk,
        },
    )
    client.force_login(brand_a_owner.user)
    assert client.get(url).status_code == 404
    client.force_login(chinese_staff.user)
    text = squeeze(pdf_text(client.get(url)))
    assert "诊断草稿" in text  # no data yet: no chart and no date range, still a report


def test_diagnosis_pdf_of_another_brand_is_404(
    engagement_a, make_report, brand_b_owner, client_for
):
    report = make_report(engagement_a)
    url = reverse(
        "reporting:diagnosis_pdf",
        kwargs={
            "agency_slug": engagement_a.agency.slug,
            "engagement_id": engagement_a.pk,
            "report_id": report.pk,
        },
    )
    assert client_for(brand_b_owner).get(url).status_code == 404


# --- proposal ----------------------------------------------------------------------------------


def test_approved_proposal_pdf_has_the_title_targets_fee_and_evidence(
    engagement_a, make_proposal, demo_manager, chinese_reader, client_for
):
    _proposal, version = make_proposal(
        engagement_a, demo_manager, send=True, title="天猫旗舰店全链路运营方案"
    )
    with agency_scope(engagement_a.agency_id):
        proposal_services.version_approve(
            actor=chinese_reader,
            version=version,
            signed_name="张三",
            ip="203.0.113.9",
            user_agent="pytest",
        )
    url = reverse(
        "reporting:proposal_pdf",
        kwargs={"agency_slug": engagement_a.agency.slug, "version_id": version.pk},
    )
    response = timed_get(client_for(chinese_reader), url)
    raw = pdf_text(response)
    text = squeeze(raw)
    assert "天猫旗舰店全链路运营方案" in text
    assert "¥30,000.00" in text  # the monthly base fee
    assert "店铺基础搭建完成" in text  # the month-1 milestone
    assert "张三" in text and "203.0.113.9" in text  # the approval evidence
    assert_footer(raw, "2026-01-01")
    # RFC 5987: the Chinese file name survives, an ASCII fallback for old clients.
    disposition = response["Content-Disposition"]
    expected = f"{engagement_a.store.brand.name}-天猫旗舰店全链路运营方案-v1.pdf"
    assert disposition.startswith('attachment; filename="Brand-')
    assert disposition.endswith(f"filename*=utf-8''{quote(expected)}")


def test_draft_proposal_pdf_is_404_for_the_brand(
    engagement_a, make_proposal, demo_manager, brand_a_owner, client
):
    _proposal, version = make_proposal(engagement_a, demo_manager, title="草稿方案")
    url = reverse(
        "reporting:proposal_pdf",
        kwargs={"agency_slug": engagement_a.agency.slug, "version_id": version.pk},
    )
    client.force_login(brand_a_owner.user)
    assert client.get(url).status_code == 404
    client.force_login(demo_manager.user)
    assert "草稿方案" in squeeze(pdf_text(client.get(url)))


def test_proposal_pdf_of_another_brand_is_404(
    engagement_a, make_proposal, demo_manager, brand_b_owner, client_for
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    url = reverse(
        "reporting:proposal_pdf",
        kwargs={"agency_slug": engagement_a.agency.slug, "version_id": version.pk},
    )
    assert client_for(brand_b_owner).get(url).status_code == 404


# --- the links on the HTML pages ---------------------------------------------------------------


def test_each_report_page_links_its_pdf(
    stored_brief,
    monthly_review,
    engagement_a,
    make_report,
    make_proposal,
    demo_manager,
    brand_a_owner,
    client_for,
):
    slug = engagement_a.agency.slug
    review = monthly_review()
    report = make_report(engagement_a)
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    pages = {
        reverse(
            "reporting:brief_detail", kwargs={"agency_slug": slug, "brief_id": stored_brief.pk}
        ): reverse(
            "reporting:brief_pdf", kwargs={"agency_slug": slug, "brief_id": stored_brief.pk}
        ),
        reverse(
            "reporting:review_detail", kwargs={"agency_slug": slug, "review_id": review.pk}
        ): reverse("reporting:review_pdf", kwargs={"agency_slug": slug, "review_id": review.pk}),
        reverse(
            "diagnostics:report",
            kwargs={"agency_slug": slug, "engagement_id": engagement_a.pk},
        ): reverse(
            "reporting:diagnosis_pdf",
            kwargs={"agency_slug": slug, "engagement_id": engagement_a.pk, "report_id": report.pk},
        ),
        reverse(
            "proposals:version", kwargs={"agency_slug": slug, "version_id": version.pk}
        ): reverse(
            "reporting:proposal_pdf", kwargs={"agency_slug": slug, "version_id": version.pk}
        ),
        reverse(
            "proposals:document", kwargs={"agency_slug": slug, "version_id": version.pk}
        ): reverse(
            "reporting:proposal_pdf", kwargs={"agency_slug": slug, "version_id": version.pk}
        ),
    }
    for member in (demo_manager, brand_a_owner):
        client = client_for(member)
        for page, pdf in pages.items():
            response = client.get(page)
            assert response.status_code == 200, page
            assert f'href="{pdf}"'.encode() in response.content, (member, page)


# --- charts and file names ---------------------------------------------------------------------


def test_line_chart_breaks_on_missing_days_and_escapes_text():
    svg = line_chart(
        days=["09-01", "09-02", "<b>09-03</b>"],
        series=[Series(label="GMV", values=["10", None, "30"], colour="#c81623")],
        value_text=lambda number: f"¥{number:,.0f}",
    )
    assert svg.count("M") == 2  # two pieces: the missing day breaks the line
    assert "&lt;b&gt;09-03&lt;/b&gt;" in svg
    assert "¥50" in svg  # the round top above 30
    assert line_chart(days=["09-01"], series=[], value_text=str) == ""


def test_bar_chart_scales_to_the_largest_value():
    svg = bar_chart(rows=[("手淘搜索", 300, "300"), ("直通车", 150, "150")], colour="#000000")
    widths = [part.split('"')[0] for part in svg.split('width="')[2:]]  # after the svg's own
    assert float(widths[0]) == pytest.approx(2 * float(widths[1]))
    assert bar_chart(rows=[("x", None, "—")], colour="#000") == ""


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (0.3, 0.5), (7, 10), (30, 50), (120, 200), (2400, 2500)]
)
def test_nice_top(value, top):
    assert nice_top(value) == pytest.approx(top)


def test_pdf_filename_drops_separators_and_control_characters():
    assert pdf_filename("品牌/甲", 'a"b\\c', "\r\n2026") == "品牌甲-abc-2026.pdf"
    assert pdf_filename("", "") == "report.pdf"


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("Brand A-weekly-2026.pdf", 'attachment; filename="Brand A-weekly-2026.pdf"'),
        ("plain-name.pdf", 'attachment; filename="plain-name.pdf"'),
        (
            "品牌甲-月报.pdf",
            'attachment; filename="report.pdf"; '
            "filename*=utf-8''%E5%93%81%E7%89%8C%E7%94%B2-%E6%9C%88%E6%8A%A5.pdf",
        ),
    ],
)
def test_attachment_header(filename, header):
    assert attachment_header(filename) == header
