"""The user tiers page (latest month, history, chart), the strategy per tier (staff edit, brand
users see brand-visible ones), the engagement panel's summary, and the demo data."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from agency.tenancy import agency_scope
from engagements.lifecycle import Service, Stage
from execution.conversion import services
from execution.conversion.demo import DEMO_ENGAGEMENT, conversion_seed_demo
from execution.conversion.selectors import conversion_summary
from execution.models import (
    CustomerOrder,
    Offer,
    OfferKind,
    OrderImport,
    ServiceDay,
    TierSnapshot,
    TierStrategy,
)


def _snapshots(engagement):
    rows = {
        datetime.date(2026, 1, 1): {"new": (10, 10, "1000.00"), "repeat": (0, 0, "0")},
        datetime.date(2026, 2, 1): {
            "new": (12, 4, "400.00"),
            "repeat": (3, 3, "300.00"),
            "high_value": (1, 2, "1300.00"),
            "at_risk": (2, 0, "0"),
        },
    }
    with agency_scope(engagement.agency_id):
        for month, tiers in rows.items():
            for tier, (buyers, orders, gmv) in tiers.items():
                TierSnapshot.objects.create(
                    engagement=engagement,
                    month=month,
                    tier=tier,
                    buyers=buyers,
                    orders=orders,
                    gmv=Decimal(gmv),
                )


def test_tiers_page_shows_the_latest_month_shares_history_and_chart(
    conversion_engagement, demo_manager, client_for
):
    _snapshots(conversion_engagement)
    url = reverse(
        "conversion:tiers",
        kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
    )
    page = client_for(demo_manager).get(url).content.decode()
    assert "Tiers at the end of 2026-02" in page
    # February: 2,000 of GMV; high value 1,300 = 65 %, new 20 %, repeat 15 %, at risk 0 %.
    assert "65.00%" in page and "20.00%" in page and "15.00%" in page
    assert "<svg" in page and 'class="tier-high_value"' in page
    assert "2026-01" in page  # the history
    assert "Import orders" in page


def test_staff_save_a_strategy_per_tier_and_brand_users_see_the_visible_ones(
    conversion_engagement, demo_manager, brand_a_owner, client_for
):
    kwargs = {"agency_slug": "demo", "engagement_id": conversion_engagement.pk}
    client = client_for(demo_manager)
    url = reverse("conversion:tier_strategy", kwargs={**kwargs, "conversion_tier": "new"})
    response = client.post(
        url,
        {
            "strategy-new-offer": "新客券 满99减10",
            "strategy-new-channel": "短信",
            "strategy-new-cadence": "首单后 7 天",
            "strategy-new-brand_visible": "on",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("conversion:tier_strategy", kwargs={**kwargs, "conversion_tier": "at_risk"}),
        {"strategy-at_risk-offer": "内部召回实验", "strategy-at_risk-channel": "引力魔方"},
    )
    # Saving again replaces.
    client.post(url, {"strategy-new-offer": "新客券 满99减15", "strategy-new-brand_visible": "on"})
    with agency_scope(conversion_engagement.agency_id):
        strategies = {s.tier: s for s in TierStrategy.objects.all()}
    assert strategies["new"].offer == "新客券 满99减15" and strategies["new"].channel == ""
    assert strategies["at_risk"].brand_visible is False
    assert client.get(url).status_code == 405
    unknown = reverse("conversion:tier_strategy", kwargs={**kwargs, "conversion_tier": "vip"})
    assert client.post(unknown, {}).status_code == 404
    owner = client_for(brand_a_owner)
    page = owner.get(reverse("conversion:tiers", kwargs=kwargs)).content.decode()
    assert "新客券 满99减15" in page and "内部召回实验" not in page
    assert "Import orders" not in page
    assert owner.post(url, {"strategy-new-offer": "x"}).status_code == 404


def test_a_too_long_strategy_is_refused_by_name(conversion_engagement, demo_manager):
    with agency_scope(conversion_engagement.agency_id), pytest.raises(ValidationError) as caught:
        services.tier_strategy_save(
            actor=demo_manager, engagement=conversion_engagement, tier="new", channel="微" * 201
        )
    assert "201 characters" in caught.value.message_dict["channel"][0]


def test_recompute_queues_the_tiers(
    conversion_engagement, store_a, demo_manager, client_for, django_capture_on_commit_callbacks
):
    with agency_scope(store_a.agency_id):
        CustomerOrder.objects.create(
            store=store_a,
            order_id="1",
            buyer_key="a" * 64,
            paid_at=datetime.datetime(2026, 5, 3, 4, tzinfo=datetime.UTC),
            amount=Decimal("9.90"),
        )
    url = reverse(
        "conversion:tiers_recompute",
        kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(demo_manager).post(url).status_code == 302
    with agency_scope(store_a.agency_id):
        assert TierSnapshot.objects.filter(
            engagement=conversion_engagement, tier="new"
        ).get().gmv == Decimal("9.90")


def test_the_summary_and_panel_for_the_engagement_page(
    conversion_engagement, demo_manager, brand_a_owner, make_engagement, store_a
):
    today = services.agency_today(conversion_engagement.agency)
    _snapshots(conversion_engagement)
    with agency_scope(conversion_engagement.agency_id):
        for name, visible, start in (
            ("直播间专享券", True, -1),
            ("内部测试", False, -1),
            ("年货节预热", True, 5),
        ):
            Offer.objects.create(
                engagement=conversion_engagement,
                name=name,
                kind=OfferKind.STORE_COUPON,
                discount=Decimal(5),
                start_date=today + datetime.timedelta(days=start),
                end_date=today + datetime.timedelta(days=10),
                brand_visible=visible,
            )
        ServiceDay.objects.create(
            store=conversion_engagement.store,
            date=today - datetime.timedelta(days=1),
            sessions=10,
            first_reply_seconds_sum=Decimal(400),
        )
        staff = conversion_summary(engagement=conversion_engagement, membership=demo_manager)
        brand = conversion_summary(engagement=conversion_engagement, membership=brand_a_owner)
    assert {o.name for o in staff["live_offers"]} == {"直播间专享券", "内部测试"}
    assert [o.name for o in brand["live_offers"]] == ["直播间专享券"]
    assert (staff["breach_days"], staff["average_first_reply"]) == (1, Decimal("40.00"))
    assert staff["latest_tiers"].month == datetime.date(2026, 2, 1)
    assert [t.buyers for t in staff["latest_tiers"].tiers] == [12, 3, 1, 2]

    request = RequestFactory().get("/")
    request.membership = brand_a_owner
    with agency_scope(conversion_engagement.agency_id):
        html = render_to_string(
            "execution/conversion/_engagement_panel.html",
            {
                "engagement": conversion_engagement,
                "agency": conversion_engagement.agency,
                "membership": brand_a_owner,
                "request": request,
                "is_staff_member": False,
            },
        )
        assert "直播间专享券" in html and "内部测试" not in html
        assert "1 day over the first-reply target (30.0 s)" in html
        traffic_only = make_engagement(
            store_a, demo_manager, stage=Stage.TRAFFIC, services=[Service.TRAFFIC]
        )
        empty = render_to_string(
            "execution/conversion/_engagement_panel.html",
            {"engagement": traffic_only, "agency": traffic_only.agency, "membership": demo_manager},
        )
    assert "conversion-panel" not in empty


def test_the_demo_fills_brand_a_and_runs_twice(demo_agency, store_a, demo_manager, make_engagement):
    engagement = make_engagement(
        store_a, demo_manager, stage=Stage.MONITORING, title=DEMO_ENGAGEMENT
    )
    today = datetime.date(2026, 11, 27)
    with agency_scope(demo_agency):
        conversion_seed_demo(agency=demo_agency, today=today)
        conversion_seed_demo(agency=demo_agency, today=today)
        offers = list(Offer.objects.filter(engagement=engagement))
        assert len(offers) == 3 and sum(not o.brand_visible for o in offers) == 1
        assert any(
            o.kind == OfferKind.FULL_REDUCTION and o.end_date == datetime.date(2026, 11, 11)
            for o in offers
        )
        days = ServiceDay.objects.filter(store=store_a)
        assert days.count() == 60
        breaches = [d for d in days if d.first_reply_seconds_sum / d.sessions > 30]
        assert 2 <= len(breaches) <= 6
        orders = CustomerOrder.objects.filter(store=store_a).count()
        assert 2500 <= orders <= 3500
        assert OrderImport.objects.get(engagement=engagement).orders_written == orders
        months = TierSnapshot.objects.filter(engagement=engagement).values_list("month", flat=True)
        assert len(set(months)) == 12
        assert TierStrategy.objects.filter(engagement=engagement).count() == 4


def test_a_closed_workspace_refuses_the_tier_actions_with_the_reason(
    engagement_a, demo_manager, client_for
):
    """Before execution (engagement_a is at diagnosis) saving a strategy and recomputing go
    back to the tiers page with the service's reason as an error, and nothing is written."""
    kwargs = {"agency_slug": "demo", "engagement_id": engagement_a.pk}
    client = client_for(demo_manager)
    strategy = reverse("conversion:tier_strategy", kwargs={**kwargs, "conversion_tier": "new"})
    responses = [
        client.post(strategy, {"strategy-new-offer": "新客券"}, follow=True),
        client.post(reverse("conversion:tiers_recompute", kwargs=kwargs), follow=True),
    ]
    for response in responses:
        assert response.redirect_chain == [(reverse("conversion:tiers", kwargs=kwargs), 302)]
        assert (
            '<li class="error">The workspace opens when the proposal is approved'
            in response.content.decode()
        )
    with agency_scope(engagement_a.agency_id):
        assert not TierStrategy.objects.exists()
