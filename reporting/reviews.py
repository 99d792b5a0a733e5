"""Weekly and monthly reviews (周报 / 月报): the services that draft, refresh, edit and publish
them, and the selectors that read them for pages.

A review covers a closed period: a week runs Monday to Sunday, a month is a calendar month. Its
`content` (JSON, decimals as strings) is built once from the shared metric query: the period's
core metrics against the previous period of the same kind, against the live targets (pacing as of
the period's last day), daily series for the charts, traffic by source, the top campaigns and
products, the alerts raised for the period's days grouped by rule, and the action items of the
previous review of the same kind with their status. Text (metric labels, alert messages) is not
stored: it is rendered when read, in the reader's language.

Drafting is idempotent: the unique key (agency, engagement, kind, period_start) makes a second
draft of the same period return the first. A draft's figures change only when staff ask for a
refresh; a published review never changes (its carried-over action items are frozen at publish).
An action item's status, by contrast, is follow-up work: it may change after publishing, and the
next review shows where it stands.

Shape of `content` (version 1; money and ratios as decimal strings, counts as numbers, a
missing value as null):
    version, kind, generated_at, period {start, end, days}, previous_period {start, end, days},
    data_days, previous_data_days (days with any data),
    metrics {name: {value, previous, change (absolute), change_ratio (relative, 4 places)}}
        for CORE_METRICS,
    targets [TargetPace.as_dict()] (targets whose period overlaps the review's, as of its end),
    charts {days, previous_days, series {name: {current: [...], previous: [...]}}} (daily),
    sources [{source, visitors, paying_buyers, conversion_rate, gmv, new_buyers, share,
        previous_visitors}], campaigns [{ad_tool, campaign, impressions, clicks, ctr, ad_spend,
        cpc, ad_gmv, roi}] (top by spend), campaigns_total, products [{item_id, item_name,
        visitors, paying_buyers, conversion_rate, gmv}] (top by GMV), products_total,
    insights [{rule, severity, count, days, causes, causes_total,
        example {date, cause, severity, evidence}}] (the period's alerts by rule, worst first),
    previous_review {id, kind, period_start, period_end} or null,
    previous_actions [{id, title, owner, due_date, status}]
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agency.models import BRAND_ROLES, STAFF_ROLES, Agency, Membership
from agency.notifications import notification_send
from engagements.models import Engagement, EngagementStatus, EngagementTeamMember
from execution.metrics.formatting import (
    change_tone,
    format_absolute_change,
    format_change,
    format_percent,
    format_value,
    metric_label,
    to_decimal,
)
from execution.metrics.pacing import add_months, targets_pacing
from execution.metrics.query import metrics_query
from execution.metrics.registry import METRICS
from execution.metrics.rules import RULES, finding_text
from execution.metrics.schema import AdTool
from execution.models import Alert, AlertSeverity
from reporting import permissions
from reporting.models import ActionStatus, Review, ReviewActionItem, ReviewKind, ReviewStatus

logger = logging.getLogger(__name__)

CONTENT_VERSION = 1
CORE_METRICS = (
    "gmv",
    "visitors",
    "paying_buyers",
    "conversion_rate",
    "aov",
    "uv_value",
    "new_buyers",
    "repeat_buyers",
    "ad_spend",
    "roi",
    "cpc",
    "ctr",
    "refund_rate",
)
CHART_METRICS = ("gmv", "visitors", "conversion_rate", "ad_spend", "roi")
SOURCE_METRICS = ["visitors", "paying_buyers", "conversion_rate", "gmv", "new_buyers"]
CAMPAIGN_METRICS = ["impressions", "clicks", "ctr", "ad_spend", "cpc", "ad_gmv", "roi"]
PRODUCT_METRICS = ["visitors", "paying_buyers", "conversion_rate", "gmv"]
TOP_CAMPAIGNS = 10
TOP_PRODUCTS = 10
# Ratios shown as a multiple (ROI 3.25), not as a percentage.
SEVERITY_RANK = {AlertSeverity.CRITICAL: 3, AlertSeverity.WARNING: 2, AlertSeverity.INFO: 1}
SHARE_PLACES = Decimal("0.0001")


class ReviewRefused(ValidationError):
    """A review action breaks a rule; the message names the field and says what to do."""


# --- periods --------------------------------------------------------------------------------


def agency_today(agency: Agency) -> datetime.date:
    """The agency's local date (reports use local dates)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone))


def review_period(kind: str, period_start: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last day of the review period starting on `period_start`; refuses an unknown
    kind and a start that does not begin a whole week (Monday) or month (the 1st)."""
    if kind not in ReviewKind.values:
        raise ReviewRefused(
            {
                "kind": _("Unknown kind of review “%(kind)s”: choose weekly or monthly.")
                % {"kind": kind}
            }
        )
    if not isinstance(period_start, datetime.date) or isinstance(period_start, datetime.datetime):
        raise ReviewRefused({"period_start": _("Give the first day of the period as a date.")})
    if kind == ReviewKind.WEEK:
        if period_start.weekday() != 0:
            raise ReviewRefused(
                {
                    "period_start": _(
                        "A weekly review covers Monday to Sunday: %(date)s is not a Monday."
                    )
                    % {"date": period_start.isoformat()}
                }
            )
        return period_start, period_start + datetime.timedelta(days=6)
    if period_start.day != 1:
        raise ReviewRefused(
            {
                "period_start": _(
                    "A monthly review covers a calendar month: start it on the 1st, not on "
                    "%(date)s."
                )
                % {"date": period_start.isoformat()}
            }
        )
    return period_start, add_months(period_start, 1) - datetime.timedelta(days=1)


def previous_period(kind: str, period_start: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of the same kind just before: the week before, or the calendar month before."""
    if kind == ReviewKind.WEEK:
        start = period_start - datetime.timedelta(days=7)
    else:
        start = add_months(period_start, -1)
    return start, period_start - datetime.timedelta(days=1)


def periods_due(today: datetime.date) -> list[tuple[str, datetime.date]]:
    """Which reviews fall due on `today` (the agency's local date): on a Monday the week before;
    from the 4th of a month the month before (ad platforms credit late orders for days, so the
    month's ad figures settle in its first days)."""
    due = []
    if today.weekday() == 0:
        due.append((ReviewKind.WEEK.value, today - datetime.timedelta(days=7)))
    if today.day >= 4:
        due.append((ReviewKind.MONTH.value, add_months(today.replace(day=1), -1)))
    return due


# --- figures --------------------------------------------------------------------------------


def json_value(value):
    """JSON-safe: decimals as strings, dates as ISO, counts as numbers."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _change(value, previous) -> tuple[Decimal | int | None, Decimal | None]:
    """Absolute and relative change of a value against the previous period's; None where one
    side has no value (a relative change also needs a non-zero previous value)."""
    if value is None or previous is None:
        return None, None
    absolute = value - previous
    if not previous:
        return absolute, None
    relative = (Decimal(value) - Decimal(previous)) / abs(Decimal(previous))
    return absolute, relative.quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def _days(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def _totals(store_ids, start, end, metrics) -> dict:
    rows = metrics_query(store_ids=store_ids, start=start, end=end, grain="total", metrics=metrics)
    return rows[0] if rows else {}


def _overlaps(pace, start, end) -> bool:
    return pace.period_start <= end and pace.period_end >= start


def _insights(engagement: Engagement, start, end) -> list[dict]:
    """The alerts raised for the period's days, one entry per rule: how often, on how many days,
    about what, and the worst example (highest severity, then the latest day)."""
    alerts = Alert.objects.filter(engagement=engagement, date__gte=start, date__lte=end).order_by(
        "date", "pk"
    )
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.rule, []).append(alert)
    insights = []
    for rule, rule_alerts in groups.items():
        worst = max(rule_alerts, key=lambda a: (SEVERITY_RANK.get(a.severity, 0), a.date, a.pk))
        causes = sorted({alert.cause for alert in rule_alerts if alert.cause})
        insights.append(
            {
                "rule": rule,
                "severity": worst.severity,
                "count": len(rule_alerts),
                "days": len({alert.date for alert in rule_alerts}),
                "causes": causes[:10],
                "causes_total": len(causes),
                "example": {
                    "date": worst.date.isoformat(),
                    "cause": worst.cause,
                    "severity": worst.severity,
                    "evidence": worst.evidence,
                },
            }
        )
    insights.sort(key=lambda i: (-SEVERITY_RANK.get(i["severity"], 0), -i["count"], i["rule"]))
    return insights


def _action_snapshot(item: ReviewActionItem) -> dict:
    return {
        "id": item.pk,
        "title": item.title,
        "owner": item.owner.user.display_name if item.owner_id else "",
        "due_date": json_value(item.due_date),
        "status": item.status,
    }


def review_previous(
    *, engagement: Engagement, kind: str, period_start: datetime.date
) -> Review | None:
    """The latest review of the same kind before this period (the one whose action items this
    review follows up), whatever its status."""
    return (
        Review.objects.filter(engagement=engagement, kind=kind, period_start__lt=period_start)
        .order_by("-period_start")
        .first()
    )


def _previous_actions(previous: Review | None) -> list[dict]:
    if previous is None:
        return []
    items = previous.action_items.select_related("owner__user").order_by("due_date", "pk")
    return [_action_snapshot(item) for item in items]


def review_figures(
    *, engagement: Engagement, kind: str, period_start: datetime.date, period_end: datetime.date
) -> dict:
    """The `content` of a review of this period: every figure from the shared metric query (the
    period's ratios from its summed parts), JSON-safe. A constant number of queries whatever the
    length of the history."""
    store_ids = [engagement.store_id]
    previous_start, previous_end = previous_period(kind, period_start)
    current = _totals(store_ids, period_start, period_end, list(CORE_METRICS))
    previous = _totals(store_ids, previous_start, previous_end, list(CORE_METRICS))
    metrics = {}
    for name in CORE_METRICS:
        value, before = current.get(name), previous.get(name)
        absolute, relative = _change(value, before)
        metrics[name] = {
            "value": json_value(value),
            "previous": json_value(before),
            "change": json_value(absolute),
            "change_ratio": json_value(relative),
        }

    daily = {
        row["period_start"]: row
        for row in metrics_query(
            store_ids=store_ids,
            start=previous_start,
            end=period_end,
            grain="day",
            metrics=list(CHART_METRICS),
        )
    }
    days, previous_days = _days(period_start, period_end), _days(previous_start, previous_end)
    series = {
        name: {
            "current": [json_value(daily.get(day, {}).get(name)) for day in days],
            "previous": [json_value(daily.get(day, {}).get(name)) for day in previous_days],
        }
        for name in CHART_METRICS
    }

    source_rows = metrics_query(
        store_ids=store_ids,
        start=period_start,
        end=period_end,
        grain="total",
        metrics=SOURCE_METRICS,
        by="source",
    )
    previous_sources = {
        row["source"]: row
        for row in metrics_query(
            store_ids=store_ids,
            start=previous_start,
            end=previous_end,
            grain="total",
            metrics=["visitors"],
            by="source",
        )
    }
    all_visitors = sum(row["visitors"] or 0 for row in source_rows)
    sources = []
    for row in sorted(source_rows, key=lambda r: (-(r["visitors"] or 0), r["source"])):
        share = None
        if all_visitors:
            share = (Decimal(row["visitors"] or 0) / all_visitors).quantize(
                SHARE_PLACES, rounding=ROUND_HALF_UP
            )
        sources.append(
            {
                "source": row["source"],
                **{name: json_value(row[name]) for name in SOURCE_METRICS},
                "share": json_value(share),
                "previous_visitors": previous_sources.get(row["source"], {}).get("visitors"),
            }
        )

    campaign_rows = metrics_query(
        store_ids=store_ids,
        start=period_start,
        end=period_end,
        grain="total",
        metrics=CAMPAIGN_METRICS,
        by="campaign",
    )
    campaign_rows.sort(key=lambda r: (-(r["ad_spend"] or 0), r["ad_tool"], r["campaign"]))
    product_rows = metrics_query(
        store_ids=store_ids,
        start=period_start,
        end=period_end,
        grain="total",
        metrics=PRODUCT_METRICS,
        by="product",
    )
    product_rows.sort(key=lambda r: (-(r["gmv"] or 0), -(r["visitors"] or 0), r["item_id"]))

    paces = [
        pace
        for pace in targets_pacing(engagement=engagement, as_of=period_end)
        if _overlaps(pace, period_start, period_end)
    ]
    previous_review = review_previous(engagement=engagement, kind=kind, period_start=period_start)
    data_days = sum(1 for day in days if day in daily)
    return {
        "version": CONTENT_VERSION,
        "kind": kind,
        "period": {
            "start": period_start.isoformat(),
            "end": period_end.isoformat(),
            "days": len(days),
        },
        "previous_period": {
            "start": previous_start.isoformat(),
            "end": previous_end.isoformat(),
            "days": len(previous_days),
        },
        "generated_at": timezone.now().isoformat(),
        "data_days": data_days,
        "previous_data_days": sum(1 for day in previous_days if day in daily),
        "metrics": metrics,
        "targets": [pace.as_dict() for pace in paces],
        "charts": {
            "days": [day.isoformat() for day in days],
            "previous_days": [day.isoformat() for day in previous_days],
            "series": series,
        },
        "sources": sources,
        "campaigns": [
            {
                key: json_value(value)
                for key, value in row.items()
                if key not in ("period_start", "period_end")
            }
            for row in campaign_rows[:TOP_CAMPAIGNS]
        ],
        "campaigns_total": len(campaign_rows),
        "products": [
            {
                "item_id": row["item_id"],
                "item_name": row["item_name"],
                **{name: json_value(row[name]) for name in PRODUCT_METRICS},
            }
            for row in product_rows[:TOP_PRODUCTS]
        ],
        "products_total": len(product_rows),
        "insights": _insights(engagement, period_start, period_end),
        "previous_review": None
        if previous_review is None
        else {
            "id": previous_review.pk,
            "kind": previous_review.kind,
            "period_start": previous_review.period_start.isoformat(),
            "period_end": previous_review.period_end.isoformat(),
        },
        "previous_actions": _previous_actions(previous_review),
    }


# --- services -------------------------------------------------------------------------------


def _require_editor(actor: Membership | None) -> None:
    if actor is not None and not permissions.can_edit_review(actor):
        raise PermissionDenied


def _require_draft(review: Review) -> None:
    if review.is_published:
        raise ReviewRefused(_("This review is published and can no longer be changed."))


def _review_url(review: Review) -> str:
    return reverse(
        "reporting:review_detail",
        kwargs={"agency_slug": review.engagement.agency.slug, "review_id": review.pk},
    )


def _engagement_staff(engagement: Engagement) -> list[Membership]:
    """The account manager and the engagement's team (active), who write the review."""
    team = EngagementTeamMember.objects.filter(engagement=engagement).values("membership_id")
    return list(
        Membership.objects.filter(is_active=True, role__in=STAFF_ROLES)
        .filter(Q(pk=engagement.account_manager_id) | Q(pk__in=team))
        .select_related("user")
        .order_by("pk")
    )


def review_brand_recipients(*, engagement: Engagement) -> list[Membership]:
    """The brand's users who hear of a published review (staff scope: memberships are
    agency-level rows)."""
    return list(
        Membership.objects.filter(
            is_active=True,
            role__in=BRAND_ROLES,
            brands=engagement.store.brand_id,
        )
        .select_related("user")
        .order_by("pk")
    )


def validate_draft_period(
    *,
    engagement: Engagement,
    kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    today: datetime.date | None = None,
) -> tuple[datetime.date, datetime.date]:
    """The period's bounds, or a ReviewRefused naming the field that is wrong."""
    start, end = review_period(kind, period_start)
    if period_end is not None and period_end != end:
        raise ReviewRefused(
            {
                "period_end": _("This period runs from %(start)s to %(end)s, not to %(given)s.")
                % {"start": start.isoformat(), "end": end.isoformat(), "given": period_end}
            }
        )
    today = today or agency_today(engagement.agency)
    if end >= today:
        raise ReviewRefused(
            {
                "period_start": _(
                    "The period %(start)s to %(end)s has not ended yet: a review covers a "
                    "finished period."
                )
                % {"start": start.isoformat(), "end": end.isoformat()}
            }
        )
    if end < engagement.start_date:
        raise ReviewRefused(
            {
                "period_start": _(
                    "The engagement starts on %(date)s, after this period ends (%(end)s)."
                )
                % {"date": engagement.start_date.isoformat(), "end": end.isoformat()}
            }
        )
    return start, end


def _review_draft(
    *,
    engagement: Engagement,
    kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    actor: Membership | None = None,
    today: datetime.date | None = None,
) -> tuple[Review, bool]:
    _require_editor(actor)
    start, end = validate_draft_period(
        engagement=engagement,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        today=today,
    )
    existing = Review.objects.filter(engagement=engagement, kind=kind, period_start=start).first()
    if existing is not None:
        return existing, False
    content = review_figures(engagement=engagement, kind=kind, period_start=start, period_end=end)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                engagement=engagement,
                kind=kind,
                period_start=start,
                period_end=end,
                content=content,
            )
            # Inside the creating transaction: the draft and its one notice exist together, and
            # a concurrent run that loses the race (IntegrityError below) notifies nobody.
            recipients = [
                member
                for member in _engagement_staff(engagement)
                if actor is None or member.pk != actor.pk
            ]
            notification_send(
                agency=engagement.agency,
                recipients=recipients,
                brand=engagement.store.brand,
                template="review_draft_ready",
                context={"review": review, "engagement": engagement, "actor": actor},
                url=_review_url(review),
            )
    except IntegrityError:
        return Review.objects.get(engagement=engagement, kind=kind, period_start=start), False
    return review, True


def review_draft(
    *,
    engagement: Engagement,
    kind: str,
    period_start: datetime.date,
    period_end: datetime.date | None = None,
    actor: Membership | None = None,
) -> Review:
    """The draft review of the period (a whole week from Monday or a calendar month, already
    ended), with its figures. Drafting a period that has a review returns that review unchanged.
    The engagement's staff are told once, when the draft is created. `actor` None: the scheduler.
    """
    review, _created = _review_draft(
        engagement=engagement,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        actor=actor,
    )
    return review


def reviews_draft_due(*, today: datetime.date) -> list[Review]:
    """Draft the reviews due on `today` (the agency's local date) for every active engagement of
    the agency in scope whose dates cover the period; returns the drafts created by this call.
    Safe to run every hour: a period with a review is skipped. One engagement's failure does not
    stop the others; it is logged and raised after the rest are done."""
    created: list[Review] = []
    failures: list[Exception] = []
    for kind, period_start in periods_due(today):
        start, end = review_period(kind, period_start)
        engagements = (
            Engagement.objects.filter(status=EngagementStatus.ACTIVE, start_date__lte=end)
            .exclude(end_date__lt=start)
            .exclude(
                pk__in=Review.objects.filter(kind=kind, period_start=start).values("engagement_id")
            )
            .select_related("store__brand", "agency")
            .order_by("pk")
        )
        for engagement in engagements:
            try:
                review, was_created = _review_draft(
                    engagement=engagement, kind=kind, period_start=start, today=today
                )
            except Exception as error:  # reported below, once the others are drafted
                logger.exception(
                    "Drafting the %s review of engagement %s from %s failed",
                    kind,
                    engagement.pk,
                    start,
                )
                failures.append(error)
                continue
            if was_created:
                created.append(review)
    if failures:
        raise failures[0]
    return created


@transaction.atomic
def review_refresh(*, actor: Membership, review: Review) -> Review:
    """Recompute a draft's figures from the data as it is now (late ad figures, corrected
    exports, new alerts); the narrative and action items stay."""
    _require_editor(actor)
    locked = Review.objects.select_for_update().get(pk=review.pk)
    _require_draft(locked)
    locked.content = review_figures(
        engagement=locked.engagement,
        kind=locked.kind,
        period_start=locked.period_start,
        period_end=locked.period_end,
    )
    locked.save(update_fields=["content", "updated_at"])
    return locked


@transaction.atomic
def review_set_narrative(*, actor: Membership, review: Review, narrative: str) -> Review:
    _require_editor(actor)
    locked = Review.objects.select_for_update().get(pk=review.pk)
    _require_draft(locked)
    locked.narrative = narrative.strip()
    locked.save(update_fields=["narrative", "updated_at"])
    return locked


@transaction.atomic
def review_publish(*, actor: Membership, review: Review) -> Review:
    """Publish to the brand: from now on the review is read-only, its brand users see it and are
    told (in-app and by e-mail) exactly once. The previous review's action items are frozen with
    the status they have now."""
    if not permissions.can_publish_review(actor, review.engagement):
        raise PermissionDenied
    locked = Review.objects.select_for_update().get(pk=review.pk)
    _require_draft(locked)
    previous = review_previous(
        engagement=locked.engagement, kind=locked.kind, period_start=locked.period_start
    )
    locked.content = {**locked.content, "previous_actions": _previous_actions(previous)}
    locked.status = ReviewStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.published_by = actor.user
    locked.save()
    engagement = locked.engagement
    notification_send(
        agency=engagement.agency,
        recipients=review_brand_recipients(engagement=engagement),
        brand=engagement.store.brand,
        template="review_published",
        context={"review": locked, "engagement": engagement, "actor": actor.user},
        url=_review_url(locked),
    )
    return locked


def _check_owner(review: Review, owner: Membership | None) -> None:
    if owner is None:
        return
    if owner.agency_id != review.agency_id or not owner.is_staff_member or not owner.is_active:
        raise ReviewRefused(
            {"owner": _("The owner must be an active staff member of this agency.")}
        )


@transaction.atomic
def review_action_add(
    *,
    actor: Membership,
    review: Review,
    title: str,
    owner: Membership | None = None,
    due_date: datetime.date | None = None,
) -> ReviewActionItem:
    """An action item of a draft review: what, who (a staff member), by when."""
    _require_editor(actor)
    locked = Review.objects.select_for_update().get(pk=review.pk)
    _require_draft(locked)
    title = (title or "").strip()
    if not title:
        raise ReviewRefused({"title": _("Say what is to be done.")})
    _check_owner(locked, owner)
    return ReviewActionItem.objects.create(
        review=locked, title=title[:300], owner=owner, due_date=due_date
    )


def review_action_set_status(
    *, actor: Membership, item: ReviewActionItem, status: str
) -> ReviewActionItem:
    """Mark an action item open, done or dropped. Follow-up, not editing: allowed after the
    review is published (the next review shows how its items went)."""
    _require_editor(actor)
    if status not in ActionStatus.values:
        raise ReviewRefused(
            {
                "status": _("Unknown status “%(status)s”: choose open, done or dropped.")
                % {"status": status}
            }
        )
    item.status = status
    item.save(update_fields=["status", "updated_at"])
    return item


# --- selectors ------------------------------------------------------------------------------


def review_list(*, membership: Membership, engagement: Engagement) -> QuerySet[Review]:
    """The engagement's reviews the member may see: all for staff, published ones for the
    brand."""
    reviews = Review.objects.filter(engagement=engagement).select_related("published_by")
    if not membership.is_staff_member:
        reviews = reviews.filter(status=ReviewStatus.PUBLISHED)
    return reviews.order_by("-period_start", "kind")


def visible_row_or_404(rows: QuerySet, *, membership: Membership, pk: int):
    """A report row (review, full review, plan) if the member may see it: the same 404 for
    missing, another agency's or brand's, and (for brand users) a draft. `rows` is the
    model's tenant-scoped queryset with its joins."""
    if not membership.is_staff_member:
        rows = rows.filter(status=ReviewStatus.PUBLISHED)
    row = rows.filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def staff_row_or_404(rows: QuerySet, *, membership: Membership, pk: int):
    """A part only staff work on (an action item, a finding, a recommendation): 404 alike for
    missing, another agency's and brand users."""
    row = rows.filter(pk=pk).first() if membership.is_staff_member else None
    if row is None:
        raise Http404
    return row


def review_get_for(*, membership: Membership, review_id: int) -> Review:
    rows = Review.objects.select_related(
        "engagement__store__brand", "engagement__agency", "published_by"
    )
    return visible_row_or_404(rows, membership=membership, pk=review_id)


def action_get_for(*, membership: Membership, action_id: int) -> ReviewActionItem:
    rows = ReviewActionItem.objects.select_related("review__engagement", "owner__user")
    return staff_row_or_404(rows, membership=membership, pk=action_id)


def review_owner_choices(*, agency: Agency) -> QuerySet[Membership]:
    """Who can own an action item: the agency's active staff."""
    return (
        Membership.objects.filter(agency=agency, is_active=True, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


# --- display: the review as a page shows it -------------------------------------------------
#
# Figures are stored as strings in `content`; these helpers turn them into text in the reader's
# language (labels, alert messages) when the page is rendered, so a review reads the same in
# Chinese and English and the stored JSON holds no language.


def ad_tool_label(tool: str) -> str:
    return str(AdTool(tool).label) if tool in AdTool.values else tool


@dataclass
class Chart:
    """A small line chart drawn on the server (SVG paths): the period and the previous one."""

    name: str
    label: str
    width: int
    height: int
    current_path: str
    previous_path: str
    current_points: list[tuple[str, str]]  # a dot per day with a value: a lone day shows too
    previous_points: list[tuple[str, str]]
    top_text: str
    first_day: str
    last_day: str
    rows: list[dict] = field(default_factory=list)  # the figures behind it, for the table


CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 320, 120, 6


def _chart(name: str, days: list, previous_days: list, current: list, previous: list) -> Chart:
    numbers_now = [to_decimal(v) for v in current]
    numbers_before = [to_decimal(v) for v in previous]
    known = [n for n in numbers_now + numbers_before if n is not None]
    top = max(known, default=Decimal(0))
    scale_top = top if top > 0 else Decimal(1)
    steps = max(len(numbers_now), len(numbers_before), 2) - 1
    plot_w, plot_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD

    def points(numbers: list) -> list[tuple[str, str] | None]:
        return [
            None
            if number is None
            else (
                f"{CHART_PAD + plot_w * index / steps:.1f}",
                f"{CHART_PAD + plot_h * (1 - float(max(number, Decimal(0)) / scale_top)):.1f}",
            )
            for index, number in enumerate(numbers)
        ]

    def path(numbered: list) -> str:
        commands, pen_down = [], False
        for point in numbered:
            if point is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{point[0]} {point[1]}")
            pen_down = True
        return " ".join(commands)

    now_points, before_points = points(numbers_now), points(numbers_before)
    rows = []
    for index in range(max(len(days), len(previous_days))):
        rows.append(
            {
                "day": days[index] if index < len(days) else "",
                "value": format_value(name, current[index]) if index < len(current) else "",
                "previous_day": previous_days[index] if index < len(previous_days) else "",
                "previous": format_value(name, previous[index]) if index < len(previous) else "",
            }
        )
    return Chart(
        name=name,
        label=metric_label(name),
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        current_path=path(now_points),
        previous_path=path(before_points),
        current_points=[point for point in now_points if point],
        previous_points=[point for point in before_points if point],
        top_text=format_value(name, top) if known else "—",
        first_day=days[0] if days else "",
        last_day=days[-1] if days else "",
        rows=rows,
    )


def period_text(start: str, end: str) -> str:
    try:
        first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    except (TypeError, ValueError):
        return ""
    return f"{formats.date_format(first, 'Y-m-d')} – {formats.date_format(last, 'Y-m-d')}"


def timestamp_of(value) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _action_lines(items) -> list[dict]:
    statuses = dict(ActionStatus.choices)
    return [
        {
            "id": item["id"],
            "title": item["title"],
            "owner": item.get("owner") or "",
            "due_date": item.get("due_date") or "",
            "status": item.get("status", ActionStatus.OPEN),
            "status_label": statuses.get(item.get("status"), item.get("status", "")),
            "item": item.get("item"),  # the live row (drafts), for the status control
        }
        for item in items
    ]


def review_page(*, review: Review) -> dict:
    """Everything the review document shows, as text in the active language: the core metrics
    with their changes, targets, charts, sources, campaigns, products, insights and the previous
    review's action items (live while a draft; as frozen at publish afterwards)."""
    content = review.content or {}
    metrics = content.get("metrics") or {}
    metric_lines = []
    for name in CORE_METRICS:
        figures = metrics.get(name) or {}
        metric_lines.append(
            {
                "name": name,
                "label": metric_label(name),
                "formula": METRICS[name].formula if METRICS[name].is_ratio else "",
                "value": format_value(name, figures.get("value")),
                "previous": format_value(name, figures.get("previous")),
                "change": format_absolute_change(name, figures.get("change")),
                "change_ratio": format_change(figures.get("change_ratio")),
                "tone": change_tone(name, figures.get("change")),
            }
        )

    comparisons = {">=": "≥", "<=": "≤"}
    targets = []
    for pace in content.get("targets") or []:
        name = pace.get("metric", "")
        targets.append(
            {
                "label": metric_label(name),
                "comparison": comparisons.get(pace.get("comparison"), pace.get("comparison")),
                "target": format_value(name, pace.get("target")),
                "period": period_text(pace.get("period_start"), pace.get("period_end")),
                "cumulative": pace.get("period") == "cumulative",
                "by_month": pace.get("by_month"),
                "actual": format_value(name, pace.get("actual")),
                "expected": format_value(name, pace.get("expected")),
                "forecast": format_value(name, pace.get("forecast")),
                "achievement": format_percent(pace.get("achievement")),
                "on_pace": pace.get("on_pace"),
                "state": pace.get("state"),
            }
        )

    charts_content = content.get("charts") or {}
    series = charts_content.get("series") or {}
    charts = [
        _chart(
            name,
            charts_content.get("days") or [],
            charts_content.get("previous_days") or [],
            (series.get(name) or {}).get("current") or [],
            (series.get(name) or {}).get("previous") or [],
        )
        for name in CHART_METRICS
        if name in series
    ]

    sources = [
        {
            "source": row.get("source", ""),
            "visitors": format_value("visitors", row.get("visitors")),
            "share": format_percent(row.get("share")),
            "visitors_change": format_change(
                _change(row.get("visitors"), row.get("previous_visitors"))[1]
            ),
            "paying_buyers": format_value("paying_buyers", row.get("paying_buyers")),
            "conversion_rate": format_value("conversion_rate", row.get("conversion_rate")),
            "gmv": format_value("gmv", row.get("gmv")),
            "new_buyers": format_value("new_buyers", row.get("new_buyers")),
        }
        for row in content.get("sources") or []
    ]
    campaigns = [
        {
            "ad_tool": ad_tool_label(row.get("ad_tool", "")),
            "campaign": row.get("campaign", ""),
            **{name: format_value(name, row.get(name)) for name in CAMPAIGN_METRICS},
        }
        for row in content.get("campaigns") or []
    ]
    products = [
        {
            "item_id": row.get("item_id", ""),
            "item_name": row.get("item_name", ""),
            **{name: format_value(name, row.get(name)) for name in PRODUCT_METRICS},
        }
        for row in content.get("products") or []
    ]

    severities = dict(AlertSeverity.choices)
    insights = []
    for insight in content.get("insights") or []:
        example = insight.get("example") or {}
        rule = insight.get("rule", "")
        message, action = finding_text(rule, example.get("evidence") or {})
        insights.append(
            {
                "rule": rule,
                "title": str(RULES[rule].title) if rule in RULES else rule,
                "severity": insight.get("severity", ""),
                "severity_label": severities.get(insight.get("severity"), ""),
                "count": insight.get("count", 0),
                "days": insight.get("days", 0),
                "causes": insight.get("causes") or [],
                "more_causes": max((insight.get("causes_total") or 0) - 10, 0),
                "example_date": example.get("date", ""),
                "example_cause": example.get("cause", ""),
                "message": message,
                "action": action,
            }
        )

    if review.is_published:
        previous_actions = _action_lines(content.get("previous_actions") or [])
    else:
        previous = review_previous(
            engagement=review.engagement, kind=review.kind, period_start=review.period_start
        )
        items = (
            [] if previous is None else list(previous.action_items.select_related("owner__user"))
        )
        previous_actions = _action_lines(
            [{**_action_snapshot(item), "item": item} for item in items]
        )

    period = content.get("period") or {}
    previous_period_ = content.get("previous_period") or {}
    return {
        "period": period_text(period.get("start"), period.get("end"))
        or period_text(review.period_start.isoformat(), review.period_end.isoformat()),
        "previous_period": period_text(previous_period_.get("start"), previous_period_.get("end")),
        "days": period.get("days"),
        "data_days": content.get("data_days"),
        "incomplete": period.get("days") is not None
        and content.get("data_days") is not None
        and content.get("data_days") < period.get("days"),
        "generated_at": timestamp_of(content.get("generated_at")),
        "metrics": metric_lines,
        "targets": targets,
        "charts": charts,
        "sources": sources,
        "campaigns": campaigns,
        "campaigns_total": content.get("campaigns_total", len(campaigns)),
        "products": products,
        "products_total": content.get("products_total", len(products)),
        "insights": insights,
        "previous_review": content.get("previous_review"),
        "previous_actions": previous_actions,
    }


def review_action_items(*, review: Review) -> list[ReviewActionItem]:
    return list(review.action_items.select_related("owner__user").order_by("due_date", "pk"))
