"""Fixtures of the reporting app that other tests use too (loaded by the root conftest)."""

import datetime
from decimal import Decimal

import pytest

from agency.models import STAFF_ROLES, Membership
from agency.tenancy import agency_scope
from execution.models import Alert, AlertSeverity
from reporting.models import (
    DailyBrief,
    FindingKind,
    FullReview,
    FullReviewAction,
    FullReviewFinding,
    LongTermPlan,
    Recommendation,
    Review,
    ReviewActionItem,
    ReviewKind,
    ReviewStatus,
)


@pytest.fixture
def make_alert(db):
    def make(engagement, rule="gmv_pacing_behind", date=datetime.date(2026, 9, 1), **fields):
        fields.setdefault("severity", AlertSeverity.WARNING)
        fields.setdefault("evidence", {"gmv": "1000.00"})
        with agency_scope(engagement.agency_id):
            return Alert.objects.create(engagement=engagement, rule=rule, date=date, **fields)

    return make


@pytest.fixture
def make_brief(db):
    def make(engagement, date=datetime.date(2026, 9, 1), revision=1, **fields):
        fields.setdefault("content", {"date": date.isoformat(), "metrics": {}, "insights": []})
        fields.setdefault("fingerprint", "0" * 64)
        fields.setdefault("language", "zh-hans")
        with agency_scope(engagement.agency_id):
            return DailyBrief.objects.create(
                engagement=engagement, date=date, revision=revision, **fields
            )

    return make


@pytest.fixture
def make_review(db):
    """A review; published unless told otherwise. Each call takes the next free week."""

    def make(engagement, kind=ReviewKind.WEEK, status=ReviewStatus.PUBLISHED, **fields):
        with agency_scope(engagement.agency_id):
            taken = Review.objects.filter(engagement=engagement, kind=kind).count()
            start = fields.pop(
                "period_start", datetime.date(2026, 8, 3) + datetime.timedelta(weeks=taken)
            )
            end = fields.pop("period_end", start + datetime.timedelta(days=6))
            fields.setdefault("content", {"metrics": {"gmv": {"value": str(Decimal("1.00"))}}})
            return Review.objects.create(
                engagement=engagement,
                kind=kind,
                status=status,
                period_start=start,
                period_end=end,
                **fields,
            )

    return make


@pytest.fixture
def make_action_item(db):
    def make(review, title="Raise bids on the best campaign", **fields):
        with agency_scope(review.agency_id):
            return ReviewActionItem.objects.create(review=review, title=title, **fields)

    return make


def first_pk(related) -> int:
    """The first row of a related manager, read in its owner's scope."""
    with agency_scope(related.instance.agency_id):
        return related.order_by("pk").first().pk


@pytest.fixture
def make_full_review(db):
    """A draft full review (each call the next free month) with one finding and one action."""

    def make(engagement, status=ReviewStatus.DRAFT, **fields):
        with agency_scope(engagement.agency_id):
            taken = FullReview.objects.filter(engagement=engagement).count()
            start = fields.pop(
                "period_start", datetime.date(2026, 1, 1) + datetime.timedelta(days=31 * taken)
            )
            end = fields.pop("period_end", start + datetime.timedelta(days=27))
            review = FullReview.objects.create(
                engagement=engagement,
                status=status,
                period_start=start,
                period_end=end,
                content=fields.pop("content", {}),
                **fields,
            )
            FullReviewFinding.objects.create(
                review=review,
                kind=FindingKind.STRENGTH,
                statement="Search traffic grew",
                evidence="Visitors per day +20%",
            )
            owner = (
                engagement.account_manager
                or Membership.objects.filter(
                    agency_id=engagement.agency_id, role__in=STAFF_ROLES
                ).first()
            )
            FullReviewAction.objects.create(
                review=review,
                title="Rebuild the detail pages",
                owner=owner,
                due_date=end + datetime.timedelta(days=30),
            )
            return review

    return make


@pytest.fixture
def make_plan(db):
    """A draft long-term plan of a (draft) full review, with one staff recommendation."""

    def make(review, **fields):
        with agency_scope(review.agency_id):
            plan = LongTermPlan.objects.create(
                full_review=review, engagement=review.engagement, **fields
            )
            Recommendation.objects.create(
                plan=plan, title="Start a private-domain programme", reason="Repeat share 12%"
            )
            return plan

    return make


@pytest.fixture
def reporting_url_arguments(
    engagement_a,
    make_alert,
    make_brief,
    make_review,
    make_action_item,
    make_full_review,
    make_plan,
):
    """Which Brand A object fills each URL argument of this app's pages (the isolation check).
    Each call makes a fresh object (see diagnostics_url_arguments)."""
    dates = iter(datetime.date(2026, 6, 1) + datetime.timedelta(days=n) for n in range(10_000))
    return {
        "alert_id": lambda: make_alert(engagement_a, date=next(dates)).pk,
        "brief_id": lambda: make_brief(engagement_a, date=next(dates)).pk,
        "review_id": lambda: make_review(engagement_a, status=ReviewStatus.DRAFT).pk,
        "action_id": lambda: (
            make_action_item(make_review(engagement_a, status=ReviewStatus.DRAFT)).pk
        ),
        "full_review_id": lambda: make_full_review(engagement_a).pk,
        "finding_id": lambda: first_pk(make_full_review(engagement_a).findings),
        "full_action_id": lambda: first_pk(make_full_review(engagement_a).actions),
        "plan_id": lambda: make_plan(make_full_review(engagement_a)).pk,
        "recommendation_id": lambda: first_pk(
            make_plan(make_full_review(engagement_a)).recommendations
        ),
    }
