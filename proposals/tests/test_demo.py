"""The demo's proposals: Brand A waiting for approval after a round of changes, Brand B approved
with live targets; loading twice changes nothing."""

from __future__ import annotations

import datetime

from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from engagements.models import Engagement, EngagementTarget
from proposals.demo import BRAND_A_ENGAGEMENT, BRAND_B_ENGAGEMENT, proposals_seed_demo
from proposals.models import ChangeRequest, Proposal, ProposalComment, ProposalVersion


def test_the_demo_proposals_load_once(
    demo_agency, demo_manager, brand_a_owner, brand_b_owner, store_a, store_b, make_engagement
):
    today = datetime.date.today()
    engagement_a = make_engagement(
        store_a,
        demo_manager,
        title=BRAND_A_ENGAGEMENT,
        stage=Stage.MONITORING,
        start_date=today - datetime.timedelta(days=420),
    )
    engagement_b = make_engagement(
        store_b,
        demo_manager,
        title=BRAND_B_ENGAGEMENT,
        stage=Stage.PROPOSAL,
        start_date=today - datetime.timedelta(days=20),
    )
    with agency_scope(demo_agency):
        proposals_seed_demo(agency=demo_agency)
        proposals_seed_demo(agency=demo_agency)
        a = Proposal.objects.get(engagement=engagement_a)
        statuses = list(
            ProposalVersion.objects.filter(proposal=a)
            .order_by("number")
            .values_list("number", "status")
        )
        assert statuses == [(1, "changes_requested"), (2, "sent")]
        assert ChangeRequest.objects.get().user == brand_a_owner.user
        assert ProposalComment.objects.filter(proposal=a, internal=True).count() == 1
        v2 = ProposalVersion.objects.get(proposal=a, number=2)
        assert {
            "metric": "gmv",
            "comparison": ">=",
            "value": "500000.00",
            "period": "month",
            "by_month": 3,
        } in v2.snapshot["targets"]

        b = Proposal.objects.get(engagement=engagement_b)
        assert list(b.versions.values_list("status", flat=True)) == ["approved"]
        live = EngagementTarget.objects.filter(engagement=engagement_b)
        assert {(t.metric, str(t.value)) for t in live} >= {
            ("gmv", "500000.0000"),
            ("roi", "3.0000"),
        }
        assert Engagement.objects.get(pk=engagement_b.pk).stage == Stage.SETUP
        assert Proposal.objects.count() == 2
