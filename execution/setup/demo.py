"""Demo store setup for `seed_demo`: Brand A's year-long engagement gets its checklist from the
agency's "existing store" template, with the store's three best-selling products as its main
products, started six weeks ago, and then worked on as the team would: some items done (one
detail page approved by the brand owner), some in progress, two overdue, the homepage refresh
waiting for the brand's approval, the brand authorisation expiring within 30 days, and a few
pieces of evidence (notes, links, a one-page PDF scan).

Written through the services, as the staff and the brand owner would. Idempotent: an engagement
that has a checklist is left alone.
"""

from __future__ import annotations

import datetime
import io

from django.core.files.base import ContentFile

from agency.models import Agency, Membership, Role
from engagements.models import Engagement
from execution.models.setup import BrandDecision, SetupItem, SetupItemStatus
from execution.setup import selectors, services

DEMO_ENGAGEMENT = "Brand A 全链路增长 2026"
FALLBACK_PRODUCTS = [
    ("6543210987", "玻尿酸保湿精华水 150ml"),
    ("6543210988", "氨基酸洁面乳 120g"),
    ("6543210989", "烟酰胺亮肤面霜 50g"),
]
START_DAYS_AGO = 45


def _pdf_bytes() -> bytes:
    """A real one-page PDF (a blank scan stands in for the licence)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (60, 85), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def _fields(item: SetupItem, **changes) -> services.ItemFields:
    current = {name: getattr(item, name) for name in services.ItemFields.__dataclass_fields__}
    return services.ItemFields(**{**current, **changes})


def setup_seed_demo(*, agency: Agency, today: datetime.date | None = None) -> None:
    """Load the demo checklist into the `demo` agency (call inside its `agency_scope`)."""
    if agency.slug != "demo":
        return
    engagement = (
        Engagement.objects.filter(agency=agency, title=DEMO_ENGAGEMENT)
        .select_related("store__brand", "account_manager__user", "agency")
        .first()
    )
    if engagement is None or selectors.setup_checklist_exists(engagement=engagement):
        return
    today = today or selectors.setup_today(agency)
    manager = engagement.account_manager
    staff = {m.role: m for m in selectors.setup_owner_choices(agency=agency)}
    operator = staff.get(Role.OPERATOR, manager)
    owner = (
        Membership.objects.filter(
            agency=agency, role=Role.BRAND_OWNER, is_active=True, brands=engagement.store.brand_id
        )
        .select_related("user")
        .first()
    )
    services.setup_templates_ensure_defaults(agency=agency)
    template = selectors.setup_template_for_situation(
        agency=agency, situation=engagement.store.situation
    )
    if template is None:
        return
    products = selectors.setup_top_products(engagement=engagement, today=today)[:3]
    main_products = [
        services.MainProduct(item_id=item_id, name=name or fallback_name)
        for (item_id, name), (_id, fallback_name) in zip(
            products or FALLBACK_PRODUCTS, FALLBACK_PRODUCTS, strict=False
        )
    ]
    start = today - datetime.timedelta(days=START_DAYS_AGO)
    items = services.setup_checklist_create(
        actor=manager,
        engagement=engagement,
        template=template,
        main_products=main_products,
        start_date=start,
        owner=operator,
    )
    by_kind = {item.document_kind: item for item in items if item.document_kind}
    visual = [item for item in items if item.section == "visual"]
    settings_items = [item for item in items if item.section == "base_settings"]

    def status(item: SetupItem, value: str) -> SetupItem:
        return services.setup_item_set_status(actor=manager, item=item, status=value)

    def update(item: SetupItem, **changes) -> SetupItem:
        return services.setup_item_update(actor=manager, item=item, fields=_fields(item, **changes))

    # The brand authorisation: renewed last year, expiring within 30 days; done, with its scan.
    authorisation = by_kind.get("brand_authorisation")
    if authorisation is not None:
        authorisation = update(
            authorisation,
            owner=manager,
            issue_date=today - datetime.timedelta(days=345),
            expiry_date=today + datetime.timedelta(days=20),
        )
        services.setup_evidence_add(
            actor=manager,
            item=authorisation,
            upload=ContentFile(_pdf_bytes(), name="品牌授权书-2025.pdf"),
            note="授权方：Brand A 品牌管理有限公司；授权期限一年，续期材料已向品牌方索取。",
        )
        status(authorisation, SetupItemStatus.DONE)
    # Quality reports: still collecting the lab reports, past its due date.
    reports = by_kind.get("quality_report")
    if reports is not None:
        reports = update(
            reports,
            issue_date=today - datetime.timedelta(days=200),
            expiry_date=today + datetime.timedelta(days=165),
        )
        services.setup_evidence_add(
            actor=operator,
            item=reports,
            note="精华水、洁面乳的质检报告已收到；面霜的报告还在等检测机构出具。",
        )
        status(reports, SetupItemStatus.IN_PROGRESS)
    # The visual system: the homepage waits for the brand; the first detail page was approved.
    homepage = next((item for item in visual if not item.product_item_id), None)
    if homepage is not None:
        homepage = update(homepage, due_date=today + datetime.timedelta(days=3))
        services.setup_evidence_add(
            actor=operator,
            item=homepage,
            url="https://www.figma.com/file/brand-a-homepage-autumn",
            note="秋季首页改版初稿：主推精华水礼盒，banner 三张轮播。",
        )
        status(homepage, SetupItemStatus.IN_PROGRESS)
        status(homepage, SetupItemStatus.BRAND_REVIEW)
    detail_pages = [item for item in visual if item.product_item_id]
    if detail_pages and owner is not None:
        first = status(detail_pages[0], SetupItemStatus.BRAND_REVIEW)
        services.setup_item_brand_decide(
            actor=owner, item=first, decision=BrandDecision.APPROVED, comment="可以上线。"
        )
    if len(detail_pages) > 1:
        status(detail_pages[1], SetupItemStatus.IN_PROGRESS)  # overdue: due two weeks ago
    if len(detail_pages) > 2:
        update(detail_pages[2], due_date=today + datetime.timedelta(days=14))
    # Base settings: the audit done, titles under way.
    titles = [item for item in settings_items if item.product_item_id]
    for item in settings_items:
        if not item.product_item_id:
            status(item, SetupItemStatus.DONE)
    if titles:
        services.setup_evidence_add(
            actor=operator,
            item=titles[0],
            note="新标题：Brand A玻尿酸保湿精华水补水保湿爽肤水女正品官方旗舰店",
        )
        status(titles[0], SetupItemStatus.DONE)
    for offset, item in enumerate(titles[1:], start=1):
        update(item, due_date=today + datetime.timedelta(days=5 * offset))
        if offset == 1:
            status(item, SetupItemStatus.IN_PROGRESS)
    # An item the team added itself: the pages of the next platform event.
    services.setup_item_create(
        actor=manager,
        engagement=engagement,
        fields=services.ItemFields(
            section="visual",
            title="大促活动版首页与详情页",
            description="预售期与正式期两套首页，主推三款详情页加大促利益点。",
            owner=operator,
            due_date=today + datetime.timedelta(days=21),
            needs_brand_approval=True,
        ),
    )
