"""Demo monitoring for `seed_demo`: live targets for Brand A's year-long engagement, a week of
daily briefs already sent for every running engagement with data, reviews (two weekly reviews
published, the second carrying the first one's action items; last month's draft), and a draft
full review of the engagement so far with its proposed findings and one action item.
Written through the services, as the hourly job and the staff would.

Idempotent: briefs and reviews that exist are left alone; targets are set only where none are.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.test.utils import override_settings
from django.utils import timezone

from agency.models import Agency, Membership
from engagements.lifecycle import Stage, stage_number
from engagements.models import Engagement, EngagementStatus, EngagementTarget
from engagements.services import engagement_targets_replace
from execution.metrics.pacing import add_months, plan_month_bounds, plan_month_of
from execution.metrics.query import metrics_query
from reporting import reviews
from reporting.briefs.services import brief_issue_and_deliver
from reporting.full_review.services import action_add, full_review_draft, full_review_update
from reporting.models import ActionStatus, FullReview, Review, ReviewKind

MONITORED_ENGAGEMENT = "Brand A 全链路增长 2026"
BRIEF_DAYS = 7


def reporting_seed_demo(*, agency: Agency, today: datetime.date | None = None) -> None:
    """Load the demo's monitoring into the `demo` agency (call inside its `agency_scope`)."""
    if agency.slug != "demo":
        return
    today = today or timezone.localdate()
    engagement = Engagement.objects.filter(title=MONITORED_ENGAGEMENT).first()
    if engagement is not None:
        _targets(engagement, today)
    _briefs(today)
    if engagement is not None:
        _reviews(engagement, today)
        _full_review(engagement, today)


def _targets(engagement: Engagement, today: datetime.date) -> None:
    """This plan month's GMV at 110 % of last month's, and the plan's ROI ≥ 3: the contract the
    engagement started with (signed before the portal, so no proposal version)."""
    if EngagementTarget.objects.filter(engagement=engagement).exists():
        return
    month = plan_month_of(engagement.start_date, today)
    if month < 2:
        return
    last_start, last_end = plan_month_bounds(engagement.start_date, month - 1)
    rows = metrics_query(
        store_ids=[engagement.store_id],
        start=last_start,
        end=last_end,
        grain="total",
        metrics=["gmv"],
    )
    if not rows or rows[0]["gmv"] is None:
        return
    gmv = (rows[0]["gmv"] * Decimal("1.1")).quantize(Decimal("1000"), rounding=ROUND_HALF_UP)
    engagement_targets_replace(
        engagement=engagement,
        targets=[
            {
                "metric": "gmv",
                "comparison": ">=",
                "value": gmv,
                "period": "month",
                "by_month": month,
            },
            {
                "metric": "roi",
                "comparison": ">=",
                "value": Decimal("3"),
                "period": "cumulative",
                "by_month": month,
            },
            {
                "metric": "refund_rate",
                "comparison": "<=",
                "value": Decimal("0.08"),
                "period": "month",
                "by_month": month,
            },
        ],
        source_version_id=None,
    )


def _briefs(today: datetime.date) -> None:
    """The last week's briefs of every running engagement past the proposal, as the hourly job
    sent them (the demo's e-mails go nowhere)."""
    engagements = Engagement.objects.filter(status=EngagementStatus.ACTIVE).order_by("pk")
    running = [e for e in engagements if stage_number(e.stage) >= stage_number(Stage.SETUP)]
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for engagement in running:
            for days_ago in range(BRIEF_DAYS, 0, -1):
                day = today - datetime.timedelta(days=days_ago)
                if day >= engagement.start_date:
                    brief_issue_and_deliver(engagement=engagement, date=day)


def _reviews(engagement: Engagement, today: datetime.date) -> None:
    """Two weekly reviews published (the second lists the first one's action items with their
    status) and last month's monthly review as a draft waiting for staff."""
    manager = engagement.account_manager
    analyst = Membership.objects.filter(role="analyst").first() or manager
    last_monday = today - datetime.timedelta(days=today.weekday() + 7)
    for week_start, narrative, actions in [
        (
            last_monday - datetime.timedelta(days=7),
            "本周支付金额环比小幅增长，直通车 ROI 偏低的两个计划已标记，下周调整出价与人群。",
            [
                ("下调低 ROI 计划出价 10%，观察 3 天", manager, 3),
                ("更新主推款主图与卖点，提升点击率", analyst, 5),
            ],
        ),
        (
            last_monday,
            "转化率回升，客单价稳定；上周两项行动已完成一项，主图测试继续。",
            [("准备双12 预热人群包与优惠券方案", manager, 6)],
        ),
    ]:
        if Review.objects.filter(
            engagement=engagement, kind=ReviewKind.WEEK, period_start=week_start
        ).exists():
            continue
        review = reviews.review_draft(
            engagement=engagement, kind=ReviewKind.WEEK, period_start=week_start, actor=manager
        )
        reviews.review_set_narrative(actor=manager, review=review, narrative=narrative)
        for title, owner, due_in in actions:
            reviews.review_action_add(
                actor=manager,
                review=review,
                title=title,
                owner=owner,
                due_date=week_start + datetime.timedelta(days=7 + due_in),
            )
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            reviews.review_publish(actor=manager, review=review)
        if week_start != last_monday:
            item = review.action_items.order_by("pk").first()
            reviews.review_action_set_status(actor=manager, item=item, status=ActionStatus.DONE)
    month_start = add_months(today.replace(day=1), -1)
    if (
        month_start >= engagement.start_date
        and not Review.objects.filter(
            engagement=engagement, kind=ReviewKind.MONTH, period_start=month_start
        ).exists()
    ):
        reviews.review_draft(
            engagement=engagement, kind=ReviewKind.MONTH, period_start=month_start, actor=manager
        )


def _full_review(engagement: Engagement, today: datetime.date) -> None:
    """A draft full review of the engagement so far (figures and proposed findings from the
    data), with the answers and one action item written, ready for the account manager."""
    if FullReview.objects.filter(engagement=engagement).exists() or engagement.start_date >= today:
        return
    manager = engagement.account_manager
    review = full_review_draft(actor=manager, engagement=engagement)
    full_review_update(
        actor=manager,
        review=review,
        narrative="上线以来支付金额与访客稳步增长；直通车回报最好，万相台需要收缩人群。",
        target_answer="已结束的月度目标大部分达成，详见目标达成表。",
        cause_answer="万相台拉新人群过宽，点击转化偏低；部分详情页加载慢，跳失率偏高。",
    )
    action_add(
        actor=manager,
        review=review,
        title="收窄万相台人群包并重做两款主推详情页",
        owner=manager,
        due_date=today + datetime.timedelta(days=14),
    )
