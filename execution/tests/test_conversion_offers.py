"""Offers: plans and results entered by staff, every bad value named and nothing written, the
figures computed from the entered sums ("—" where there is nothing to divide by), the store's
GMV over the offer's dates for context, and brand users seeing only brand-visible offers."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agency.tenancy import agency_scope
from execution.conversion import services
from execution.conversion.selectors import offer_figures, offer_state
from execution.models import Offer, OfferKind, Tier

PLAN = {
    "name": "双11 满300减50",
    "kind": OfferKind.FULL_REDUCTION,
    "threshold": Decimal(300),
    "discount": Decimal(50),
    "target_tier": "",
    "start_date": datetime.date(2026, 11, 1),
    "end_date": datetime.date(2026, 11, 11),
    "budget": Decimal(20000),
    "issued": None,
    "redeemed": None,
    "orders": None,
    "gmv": None,
    "cost": None,
    "notes": "",
    "brand_visible": True,
}


def _create(engagement, actor, **changes):
    with agency_scope(engagement.agency_id):
        return services.offer_create(actor=actor, engagement=engagement, **{**PLAN, **changes})


def _refused(engagement, actor, **changes) -> dict:
    with pytest.raises(ValidationError) as caught:
        _create(engagement, actor, **changes)
    with agency_scope(engagement.agency_id):
        assert not Offer.objects.exists()
    return {field: " ".join(messages) for field, messages in caught.value.message_dict.items()}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"kind": OfferKind.DISCOUNT, "discount": Decimal(120)}, "discount", ["120", "0 and 100"]),
        ({"kind": OfferKind.DISCOUNT, "discount": Decimal(0)}, "discount", ["between 0 and 100"]),
        ({"discount": Decimal(300)}, "discount", ["300.00", "below the minimum spend"]),
        (
            {"kind": OfferKind.STORE_COUPON, "discount": Decimal(350)},
            "discount",
            ["350.00", "300.00"],
        ),
        ({"end_date": datetime.date(2026, 10, 1)}, "end_date", ["2026-10-01", "2026-11-01"]),
        ({"issued": 100, "redeemed": 101}, "redeemed", ["101", "100"]),
        ({"budget": Decimal(-1)}, "budget", ["-1", "negative"]),
        ({"orders": -3}, "orders", ["-3", "negative"]),
        ({"name": "  "}, "name", ["name"]),
        ({"target_tier": "vip"}, "target_tier", ["vip"]),
    ],
)
def test_bad_plans_and_results_are_refused_with_the_field_and_value(
    conversion_engagement, demo_manager, changes, field, words
):
    errors = _refused(conversion_engagement, demo_manager, **changes)
    assert field in errors
    for word in words:
        assert word in errors[field]


def test_amount_off_without_a_threshold_and_a_percentage_discount_are_accepted(
    conversion_engagement, demo_manager
):
    coupon = _create(
        conversion_engagement,
        demo_manager,
        kind=OfferKind.STORE_COUPON,
        threshold=Decimal(0),
        discount=Decimal(10),
        target_tier=Tier.NEW,
    )
    percent = _create(
        conversion_engagement, demo_manager, kind=OfferKind.DISCOUNT, discount=Decimal(15)
    )
    assert (coupon.threshold, coupon.target_tier) == (Decimal(0), "new")
    assert percent.discount == Decimal(15)


def test_figures_are_ratios_of_the_entered_sums_and_none_for_zero(
    conversion_engagement, demo_manager
):
    offer = _create(
        conversion_engagement,
        demo_manager,
        issued=4000,
        redeemed=1000,
        orders=800,
        gmv=Decimal("240000.00"),
        cost=Decimal("40000.00"),
    )
    figures = offer_figures(offer, today=datetime.date(2026, 11, 20))
    assert figures.redemption_rate == Decimal("0.25")
    assert figures.budget_burn == Decimal(2)  # 40,000 of a 20,000 budget: overspent
    assert figures.gmv_per_discount == Decimal("6.00")
    assert figures.aov == Decimal("300.00")
    assert figures.state == "ended"
    empty = _create(
        conversion_engagement, demo_manager, issued=0, budget=None, orders=0, gmv=Decimal(5)
    )
    figures = offer_figures(empty, today=datetime.date(2026, 11, 5))
    assert (
        figures.redemption_rate,
        figures.budget_burn,
        figures.gmv_per_discount,
        figures.aov,
    ) == (
        None,
        None,
        None,
        None,
    )
    assert figures.state == "live"


def test_the_detail_page_shows_the_store_gmv_over_the_offer_dates(
    conversion_engagement, store_a, demo_manager, push, client_for
):
    push(
        store_a,
        "store_day",
        [
            {"date": "2026-11-10", "gmv": "100000.00"},
            {"date": "2026-11-11", "gmv": "380000.00"},
            {"date": "2026-11-12", "gmv": "999.00"},  # after the offer
        ],
    )
    offer = _create(
        conversion_engagement, demo_manager, gmv=Decimal("120000.00"), cost=Decimal("0"), orders=0
    )
    with agency_scope(store_a.agency_id):
        figures = offer_figures(offer, today=datetime.date(2026, 12, 1), with_store=True)
    assert figures.store_gmv == Decimal("480000.00")
    assert figures.gmv_share == Decimal("0.25")
    url = reverse(
        "conversion:offer_detail",
        kwargs={
            "agency_slug": "demo",
            "engagement_id": conversion_engagement.pk,
            "conversion_offer_id": offer.pk,
        },
    )
    page = client_for(demo_manager).get(url).content.decode()
    assert "¥480,000.00" in page
    assert "—" in page  # GMV per CNY of discount: nothing to divide by


def test_staff_create_edit_and_delete_offers_through_the_pages(
    conversion_engagement, demo_manager, client_for
):
    client = client_for(demo_manager)
    kwargs = {"agency_slug": "demo", "engagement_id": conversion_engagement.pk}
    form = {
        "name": "新客专享券",
        "kind": "store_coupon",
        "threshold": "99",
        "discount": "10",
        "target_tier": "new",
        "start_date": "2026-06-01",
        "end_date": "2026-06-30",
        "budget": "5000",
        "brand_visible": "on",
    }
    bad = client.post(
        reverse("conversion:offer_create", kwargs=kwargs), {**form, "discount": "120"}
    )
    assert bad.status_code == 200
    assert "must be below the minimum spend (99.00 CNY)" in bad.content.decode()
    response = client.post(reverse("conversion:offer_create", kwargs=kwargs), form)
    assert response.status_code == 302
    with agency_scope(conversion_engagement.agency_id):
        offer = Offer.objects.get()
    offer_kwargs = {**kwargs, "conversion_offer_id": offer.pk}
    results = {
        **form,
        "issued": "1000",
        "redeemed": "250",
        "orders": "250",
        "gmv": "30000",
        "cost": "2500",
    }
    edit_page = client.get(reverse("conversion:offer_edit", kwargs=offer_kwargs)).content.decode()
    assert 'value="新客专享券"' in edit_page  # the form starts from the saved offer
    edited = client.post(reverse("conversion:offer_edit", kwargs=offer_kwargs), results)
    assert edited.url == reverse("conversion:offer_detail", kwargs=offer_kwargs)
    page = client.get(reverse("conversion:offer_list", kwargs=kwargs)).content.decode()
    assert "25.00%" in page and "50.00%" in page and "12.00" in page and "¥120.00" in page
    with agency_scope(conversion_engagement.agency_id):
        state = offer_state(offer, services.agency_today(conversion_engagement.agency))
    assert f'<span class="status state-{state}">{state}</span>' in page
    assert 'aria-current="page">Offers</a>' in page
    over = client.post(
        reverse("conversion:offer_edit", kwargs=offer_kwargs), {**results, "redeemed": "1001"}
    )
    assert "1001 redeemed is more than the 1000 issued." in over.content.decode()
    assert client.get(reverse("conversion:offer_delete", kwargs=offer_kwargs)).status_code == 405
    deleted = client.post(reverse("conversion:offer_delete", kwargs=offer_kwargs), follow=True)
    assert "Offer “新客专享券” deleted." in deleted.content.decode()
    with agency_scope(conversion_engagement.agency_id):
        assert not Offer.objects.exists()


def test_brand_users_see_only_brand_visible_offers_and_cannot_edit(
    conversion_engagement, demo_manager, brand_a_owner, brand_b_owner, client_for
):
    shown = _create(conversion_engagement, demo_manager, name="品牌可见满减")
    hidden = _create(conversion_engagement, demo_manager, name="内部测试折扣", brand_visible=False)
    kwargs = {"agency_slug": "demo", "engagement_id": conversion_engagement.pk}
    owner = client_for(brand_a_owner)
    page = owner.get(reverse("conversion:offer_list", kwargs=kwargs)).content.decode()
    assert "品牌可见满减" in page and "内部测试折扣" not in page
    assert "New offer" not in page
    detail = "conversion:offer_detail"
    assert (
        owner.get(reverse(detail, kwargs={**kwargs, "conversion_offer_id": shown.pk})).status_code
        == 200
    )
    assert (
        owner.get(reverse(detail, kwargs={**kwargs, "conversion_offer_id": hidden.pk})).status_code
        == 404
    )
    edit = reverse("conversion:offer_edit", kwargs={**kwargs, "conversion_offer_id": shown.pk})
    assert owner.post(edit, {"name": "x"}).status_code == 404
    staff = (
        client_for(demo_manager)
        .get(reverse("conversion:offer_list", kwargs=kwargs))
        .content.decode()
    )
    assert "内部测试折扣" in staff and "internal" in staff
    other = client_for(brand_b_owner)
    assert other.get(reverse("conversion:offer_list", kwargs=kwargs)).status_code == 404


def test_writes_are_refused_before_execution_and_outside_the_scope(
    engagement_a, make_engagement, store_a, demo_manager
):
    errors = pytest.raises(ValidationError, match="workspace opens")
    with errors:
        _create(engagement_a, demo_manager)
    from engagements.lifecycle import Service, Stage

    traffic_only = make_engagement(
        store_a, demo_manager, stage=Stage.TRAFFIC, services=[Service.TRAFFIC]
    )
    with pytest.raises(ValidationError, match="not in this engagement's scope"):
        _create(traffic_only, demo_manager)
