"""Reads of the daily brief, shared by the pages. The request's tenant scope already limits every
query to the agency, and a brand user to their brands' briefs (deliveries: staff only)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from agency.models import Membership
from engagements.models import Engagement
from reporting.models import BriefDelivery, DailyBrief, DeliveryStatus


def brief_list(*, engagement: Engagement, with_deliveries: bool = False) -> QuerySet[DailyBrief]:
    """The engagement's briefs, newest day first, every revision; staff also get each brief's
    delivery counts (`deliveries_sent`, `deliveries_failed`, `deliveries_pending`)."""
    briefs = DailyBrief.objects.filter(engagement=engagement).defer("content")
    if with_deliveries:
        briefs = briefs.annotate(
            deliveries_sent=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.SENT)),
            deliveries_failed=Count(
                "deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)
            ),
            deliveries_pending=Count(
                "deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)
            ),
        )
    return briefs.order_by("-date", "-revision")


def brief_get_for(*, membership: Membership, brief_id: int) -> DailyBrief:
    """The brief if the member may see it; the same 404 for missing and not-yours."""
    brief = (
        DailyBrief.objects.filter(pk=brief_id)
        .select_related("engagement__store__brand", "agency")
        .first()
    )
    if brief is None:
        raise Http404
    return brief


def brief_revisions(*, brief: DailyBrief) -> QuerySet[DailyBrief]:
    """Every revision of the brief's day, newest first."""
    return (
        DailyBrief.objects.filter(engagement_id=brief.engagement_id, date=brief.date)
        .defer("content")
        .order_by("-revision")
    )


def brief_deliveries(*, brief: DailyBrief) -> QuerySet[BriefDelivery]:
    """Who received the brief, how, and how it went: staff information (brand users' scope
    finds no delivery at all)."""
    return BriefDelivery.objects.filter(brief=brief).order_by("channel", "recipient")
