"""Fixtures of the proposals app that other apps' tests use too (loaded by the root conftest)."""

from __future__ import annotations

import datetime

import pytest

from agency.tenancy import agency_scope
from proposals import services


@pytest.fixture
def make_proposal(db):
    """A proposal of an engagement with one draft version holding a target, a milestone, a paid
    budget, a responsibility and a commission tier; `send=True` sends it."""

    def make(engagement, manager, *, send: bool = False, title: str = ""):
        with agency_scope(engagement.agency_id):
            proposal = services.proposal_create(actor=manager, engagement=engagement, title=title)
            version = proposal.versions.get()
            services.version_update(
                actor=manager,
                version=version,
                scope_services=list(engagement.scope_services),
                monthly_base_fee="30000.00",
                kpi_bonus="",
                terms="按月结算。",
            )
            services.target_add(
                actor=manager,
                version=version,
                metric="gmv",
                comparison=">=",
                value="500000",
                period="month",
                by_month=3,
            )
            services.target_add(
                actor=manager,
                version=version,
                metric="roi",
                comparison=">=",
                value="3",
                period="month",
                by_month=3,
            )
            services.milestone_add(
                actor=manager, version=version, month=1, title="店铺基础搭建完成"
            )
            services.resource_add(
                actor=manager,
                version=version,
                kind="paid_budget",
                channel="zhitongche",
                amount="20000",
            )
            services.responsibility_add(
                actor=manager,
                version=version,
                party="brand",
                task="提供品牌授权书",
                owner="品牌方法务",
                due_date=engagement.start_date + datetime.timedelta(days=14),
            )
            services.commission_tier_add(
                actor=manager, version=version, gmv_from="0", gmv_to="500000", rate_percent="3"
            )
            if send:
                version = services.version_send(actor=manager, version=version)
        return proposal, version

    return make


@pytest.fixture
def proposals_url_arguments(make_proposal, engagement_a, demo_manager):
    """Which Brand A object fills each URL argument of this app's pages (the isolation check):
    a proposal sent to Brand A, its version and that version's first target."""
    proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    with agency_scope(engagement_a.agency_id):
        target_id = version.targets.first().pk
    return {
        "proposal_id": lambda: proposal.pk,
        "version_id": lambda: version.pk,
        "section": lambda: "targets",
        "row_id": lambda: target_id,
    }
