"""Reads of the setup area: the agency's templates, an engagement's checklist as a member may see
it (brand users: brand-visible items only, and their evidence), one getter per entity that
answers 404 alike for "missing" and "not yours", and the counts the engagement page and the
agency overview flag (overdue items, items waiting for the brand, expiring documents).

An item is overdue when its due date is before the agency's local today and it is neither done
nor "not needed". A document is expired when its expiry date is before today, and expiring when
it expires within its own reminder window (today up to `reminder_days` ahead).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import OrderedDict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from agency.models import Agency, Membership, Role
from engagements.models import Engagement
from execution.models.setup import (
    SetupEvidence,
    SetupItem,
    SetupItemStatus,
    SetupSection,
    SetupTemplate,
    SetupTemplateItem,
)
from execution.workspace import visible_to

CLOSED_STATUSES = (SetupItemStatus.DONE, SetupItemStatus.NOT_NEEDED)
# The longest reminder window an item may have; the reminder job looks this far ahead.
MAX_REMINDER_DAYS = 365
TOP_PRODUCTS = 5
TOP_PRODUCTS_DAYS = 30


def setup_today(agency: Agency) -> datetime.date:
    """The agency's local date: due dates and expiry dates are local dates."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone))


def overdue_q(today: datetime.date) -> Q:
    return Q(due_date__lt=today) & ~Q(status__in=CLOSED_STATUSES)


# --- templates --------------------------------------------------------------------------------


def setup_template_list(*, agency: Agency) -> QuerySet[SetupTemplate]:
    return SetupTemplate.objects.filter(agency=agency).annotate(item_count=Count("items"))


def setup_template_get_for(*, agency: Agency, template_id: int) -> SetupTemplate:
    template = SetupTemplate.objects.filter(agency=agency, pk=template_id).first()
    if template is None:
        raise Http404
    return template


def setup_template_items(*, template: SetupTemplate) -> QuerySet[SetupTemplateItem]:
    return SetupTemplateItem.objects.filter(template=template).order_by("position", "pk")


def setup_template_item_get_for(*, agency: Agency, template_item_id: int) -> SetupTemplateItem:
    item = (
        SetupTemplateItem.objects.filter(agency=agency, pk=template_item_id)
        .select_related("template")
        .first()
    )
    if item is None:
        raise Http404
    return item


def setup_template_for_situation(*, agency: Agency, situation: str) -> SetupTemplate | None:
    """The template offered first for a store: an active one of the store's situation."""
    return (
        SetupTemplate.objects.filter(agency=agency, situation=situation, is_active=True)
        .order_by("created_at", "pk")
        .first()
    )


# --- checklist --------------------------------------------------------------------------------


def setup_items_for(*, engagement: Engagement, membership: Membership) -> QuerySet[SetupItem]:
    """The engagement's items the member may see, with their evidence count."""
    items = SetupItem.objects.filter(engagement=engagement)
    return (
        visible_to(items, membership)
        .select_related("owner__user")
        .annotate(evidence_count=Count("evidence"))
        .order_by("position", "pk")
    )


def setup_item_get_for(
    *, membership: Membership, engagement: Engagement, item_id: int
) -> SetupItem:
    """One item of the engagement; 404 alike when missing, of another engagement or agency, or
    internal and asked for by a brand user."""
    items = visible_to(SetupItem.objects.filter(engagement=engagement, pk=item_id), membership)
    item = items.select_related("owner__user", "engagement__store__brand").first()
    if item is None:
        raise Http404
    return item


def setup_evidence_for(*, item: SetupItem) -> QuerySet[SetupEvidence]:
    return SetupEvidence.objects.filter(item=item).select_related("created_by")


def setup_evidence_get_for(
    *, membership: Membership, engagement: Engagement, evidence_id: int
) -> SetupEvidence:
    """One piece of evidence, seen by whoever may see its item (404 alike otherwise)."""
    evidence = SetupEvidence.objects.filter(item__engagement=engagement, pk=evidence_id)
    if not membership.is_staff_member:
        evidence = evidence.filter(item__brand_visible=True)
    found = evidence.select_related("item").first()
    if found is None:
        raise Http404
    return found


def setup_checklist_exists(*, engagement: Engagement) -> bool:
    return SetupItem.objects.filter(engagement=engagement).exists()


def setup_owner_choices(*, agency: Agency) -> QuerySet[Membership]:
    """Who may own an item: the agency's active staff."""
    from agency.models import STAFF_ROLES

    return (
        Membership.objects.filter(agency=agency, is_active=True, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def setup_brand_owners(*, engagement: Engagement) -> list[Membership]:
    """The brand owners who approve for the engagement's brand (staff scope)."""
    return list(
        Membership.objects.filter(
            agency_id=engagement.agency_id,
            is_active=True,
            role=Role.BRAND_OWNER,
            brands=engagement.store.brand_id,
        ).select_related("user")
    )


def document_state(item: SetupItem, today: datetime.date) -> str:
    """ "expired", "expiring" (within the item's reminder window) or "" for a document item."""
    if not item.expiry_date or item.status == SetupItemStatus.NOT_NEEDED:
        return ""
    if item.expiry_date < today:
        return "expired"
    if item.expiry_date <= today + datetime.timedelta(days=item.reminder_days):
        return "expiring"
    return ""


def item_is_overdue(item: SetupItem, today: datetime.date) -> bool:
    return bool(item.due_date and item.due_date < today and not item.is_closed)


@dataclass
class ChecklistRow:
    item: SetupItem
    overdue: bool
    document_state: str


@dataclass
class ChecklistSection:
    section: str
    label: str
    rows: list[ChecklistRow] = field(default_factory=list)


def setup_checklist(
    *,
    engagement: Engagement,
    membership: Membership,
    today: datetime.date,
    status: str = "",
    owner_id: int | None = None,
    overdue_only: bool = False,
) -> list[ChecklistSection]:
    """The checklist grouped by section (in the sections' order), each row flagged; filtered by
    status, owner and "overdue only" when asked."""
    items = setup_items_for(engagement=engagement, membership=membership)
    if status:
        items = items.filter(status=status)
    if owner_id:
        items = items.filter(owner_id=owner_id)
    if overdue_only:
        items = items.filter(overdue_q(today))
    sections: OrderedDict[str, ChecklistSection] = OrderedDict(
        (value, ChecklistSection(value, label)) for value, label in SetupSection.choices
    )
    for item in items:
        row = ChecklistRow(item, item_is_overdue(item, today), document_state(item, today))
        sections[item.section].rows.append(row)
    return [section for section in sections.values() if section.rows]


def setup_item_owners(*, engagement: Engagement, membership: Membership) -> list[Membership]:
    """The owners of the items a member sees (the filter's choices; brand users cannot list the
    agency's people, but see who owns what they see)."""
    owners: dict[int, Membership] = {}
    for item in setup_items_for(engagement=engagement, membership=membership):
        if item.owner is not None:
            owners[item.owner_id] = item.owner
    return sorted(owners.values(), key=lambda owner: owner.user.display_name.lower())


# --- flags for the engagement page and the agency overview ------------------------------------


def setup_overdue_counts(
    *,
    engagement_ids: list[int],
    today: datetime.date,
    membership: Membership | None = None,
) -> dict[int, int]:
    """Overdue items per engagement, in one query; engagements without any are left out. With
    `membership`, a brand user's counts cover only brand-visible items."""
    items = SetupItem.objects.filter(engagement_id__in=list(engagement_ids)).filter(
        overdue_q(today)
    )
    if membership is not None:
        items = visible_to(items, membership)
    rows = items.values("engagement_id").annotate(overdue=Count("pk")).order_by()
    return {row["engagement_id"]: row["overdue"] for row in rows}


def setup_progress(*, engagement: Engagement, membership: Membership) -> dict:
    """Counts of the checklist as the member may see it, in one query: total, done, not_needed,
    open, overdue, waiting_for_brand, expiring_documents, expired_documents, percent_done (done
    and not needed over total; None without items) and the agency's `today`."""
    today = setup_today(engagement.agency)
    items = visible_to(SetupItem.objects.filter(engagement=engagement), membership)
    live_documents = ~Q(document_kind="") & ~Q(status=SetupItemStatus.NOT_NEEDED)
    counts = items.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=SetupItemStatus.DONE)),
        not_needed=Count("pk", filter=Q(status=SetupItemStatus.NOT_NEEDED)),
        overdue=Count("pk", filter=overdue_q(today)),
        waiting_for_brand=Count("pk", filter=Q(status=SetupItemStatus.BRAND_REVIEW)),
        expired_documents=Count("pk", filter=live_documents & Q(expiry_date__lt=today)),
        # Expiring within the window: checked per row below (the window is each item's own).
        expiring_candidates=Count(
            "pk",
            filter=live_documents
            & Q(expiry_date__gte=today)
            & Q(expiry_date__lte=today + datetime.timedelta(days=MAX_REMINDER_DAYS)),
        ),
    )
    expiring = 0
    if counts.pop("expiring_candidates"):
        window_rows = items.filter(
            live_documents,
            expiry_date__gte=today,
            expiry_date__lte=today + datetime.timedelta(days=MAX_REMINDER_DAYS),
        ).values_list("expiry_date", "reminder_days")
        expiring = sum(
            1 for expiry, days in window_rows if expiry <= today + datetime.timedelta(days=days)
        )
    closed = counts["done"] + counts["not_needed"]
    return {
        **counts,
        "expiring_documents": expiring,
        "open": counts["total"] - closed,
        "percent_done": round(100 * closed / counts["total"]) if counts["total"] else None,
        "today": today,
    }


# --- the prefill of main products ---------------------------------------------------------------


def setup_top_products(*, engagement: Engagement, today: datetime.date) -> list[tuple[str, str]]:
    """The store's best products by GMV over the last 30 days of product facts, as (item id,
    name), to suggest as the main products; empty without product data."""
    from execution.metrics.query import metrics_query

    start = today - datetime.timedelta(days=TOP_PRODUCTS_DAYS)
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=start,
        end=today - datetime.timedelta(days=1),
        grain="total",
        metrics=["gmv"],
        by="product",
    )
    ranked = sorted(
        (row for row in rows if row.get("gmv")),
        key=lambda row: (-row["gmv"], row["item_id"]),
    )
    return [(row["item_id"], row.get("item_name") or "") for row in ranked[:TOP_PRODUCTS]]
