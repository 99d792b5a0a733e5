"""Creating an engagement's setup checklist from a template: the template of the store's situation
offered first, main products suggested from the product facts, per-product lines expanded, due
dates counted from the start; bad input refused with the line or field named, nothing written."""

from __future__ import annotations

import datetime
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agency.models import StoreSituation
from agency.tenancy import agency_scope
from engagements.lifecycle import Service, Stage
from execution.models.setup import SetupItem, SetupTemplate
from execution.setup import selectors, services

START = datetime.date(2026, 3, 2)


def url(name: str, engagement, **kwargs) -> str:
    return reverse(
        f"setup:{name}",
        kwargs={"agency_slug": engagement.agency.slug, "engagement_id": engagement.pk, **kwargs},
    )


def defaults(agency) -> dict[str, SetupTemplate]:
    with agency_scope(agency):
        services.setup_templates_ensure_defaults(agency=agency)
        return {template.situation: template for template in SetupTemplate.objects.all()}


def create_data(templates, situation="existing", **changes) -> dict:
    """The checklist form's data: the situation's template, one main product, starting on
    START."""
    return {
        "template": templates[situation].pk,
        "main_products": "6543210987 保湿精华水",
        "start_date": START.isoformat(),
        **changes,
    }


def create_with_service(engagement, actor, template, **changes) -> list[SetupItem]:
    """`setup_checklist_create` with one main product, starting on START."""
    arguments = {
        "main_products": [services.MainProduct("6543210987", "保湿精华水")],
        "start_date": START,
        **changes,
    }
    with agency_scope(engagement.agency_id):
        return services.setup_checklist_create(
            actor=actor, engagement=engagement, template=template, **arguments
        )


def items_of(engagement) -> list[SetupItem]:
    with agency_scope(engagement.agency_id):
        return list(SetupItem.objects.filter(engagement=engagement).order_by("position"))


def test_a_new_store_checklist_expands_main_products_and_counts_due_days(
    client_for, setup_engagement, store_a, demo_manager, demo_operator
):
    with agency_scope(store_a.agency_id):
        store_a.situation = StoreSituation.NEW
        store_a.save()
    templates = defaults(store_a.agency)
    client = client_for(demo_manager)
    page = client.get(url("checklist", setup_engagement))
    assert page.status_code == 200
    # The store's situation picks the template offered first.
    assert page.context["create_form"].initial["template"] == templates["new"].pk
    response = client.post(
        url("checklist_create", setup_engagement),
        {
            "template": templates["new"].pk,
            "main_products": "6543210987 保湿精华水\n\n6543210988\t氨基酸洁面乳 120g\n",
            "start_date": START.isoformat(),
            "owner": demo_operator.pk,
        },
    )
    assert response.status_code == 302
    items = items_of(setup_engagement)
    # 14 template lines, two of them once per main product: 12 + 2 × 2.
    assert len(items) == 16
    assert [item.position for item in items] == list(range(1, 17))
    assert {item.owner_id for item in items} == {demo_operator.pk}
    licence = next(item for item in items if item.document_kind == "business_licence")
    assert licence.due_date == START + datetime.timedelta(days=7)
    details = [item for item in items if item.title.startswith("Detail page")]
    assert [(item.title, item.product_item_id, item.due_date) for item in details] == [
        ("Detail page (详情页) · 保湿精华水", "6543210987", START + datetime.timedelta(days=50)),
        (
            "Detail page (详情页) · 氨基酸洁面乳 120g",
            "6543210988",
            START + datetime.timedelta(days=50),
        ),
    ]
    assert all(item.needs_brand_approval and item.brand_visible for item in details)
    keywords = [item for item in items if item.title.startswith("Title keywords")]
    assert [item.product_name for item in keywords] == ["保湿精华水", "氨基酸洁面乳 120g"]
    internal = [item.title for item in items if not item.brand_visible]
    assert internal == ["Sub-accounts and customer-service routing (子账号与客服分流)"]
    page = client.get(url("checklist", setup_engagement)).content.decode()
    assert "Detail page (详情页) · 保湿精华水" in page and "Internal" in page


def test_visual_items_need_the_brand_only_where_the_approved_proposal_says_so(
    setup_engagement, store_a, demo_manager
):
    templates = defaults(store_a.agency)
    with agency_scope(store_a.agency_id):
        setup_engagement.brand_approves_visuals = False  # as an approved proposal set it
        setup_engagement.save()
    items = create_with_service(setup_engagement, demo_manager, templates["existing"])
    visual = [item for item in items if item.section == "visual"]
    # The template asks for the brand's approval of these (the test above shows it is kept
    # when the proposal agreed to it); this proposal did not.
    with agency_scope(store_a.agency_id):
        assert templates["existing"].items.filter(section="visual", needs_brand_approval=True)
    assert visual and not any(item.needs_brand_approval for item in visual)


def test_an_existing_store_gets_its_template_and_best_sellers_suggested(
    client_for, push, setup_engagement, store_a, demo_manager
):
    today = selectors.setup_today(store_a.agency)
    day = (today - datetime.timedelta(days=3)).isoformat()
    old = (today - datetime.timedelta(days=45)).isoformat()

    def row(date, item_id, name, visitors, gmv):
        return {"date": date, "item_id": item_id, "item_name": name, "visitors": visitors,
                "gmv": gmv}  # fmt: skip

    push(
        store_a,
        "store_day_product",
        [
            row(day, "601", "洁面乳", 90, "800.00"),
            row(day, "602", "精华水", 50, "2500.00"),
            row(day, "603", "面膜", 10, "0"),
            row(old, "604", "旧款", 9, "99999.00"),  # before the last 30 days: not a best seller
        ],
    )
    templates = defaults(store_a.agency)
    client = client_for(demo_manager)
    form = client.get(url("checklist", setup_engagement)).context["create_form"]
    assert form.initial["template"] == templates["existing"].pk
    assert form.initial["main_products"] == "602 精华水\n601 洁面乳"
    assert form.initial["owner"] == demo_manager.pk
    response = client.post(
        url("checklist_create", setup_engagement),
        {
            "template": templates["existing"].pk,
            "main_products": form.initial["main_products"],
            "start_date": START.isoformat(),
        },
    )
    assert response.status_code == 302
    items = items_of(setup_engagement)
    # 7 lines, two per main product: 5 + 2 × 2; no owner chosen, none set.
    assert len(items) == 9
    assert {item.owner_id for item in items} == {None}
    assert [item.product_item_id for item in items if item.product_item_id] == [
        "602",
        "601",
        "602",
        "601",
    ]


def test_a_second_checklist_is_refused_unless_adding_to_it(
    client_for, setup_engagement, demo_manager
):
    data = create_data(defaults(setup_engagement.agency))
    client = client_for(demo_manager)
    assert client.post(url("checklist_create", setup_engagement), data).status_code == 302
    first = len(items_of(setup_engagement))
    response = client.post(url("checklist_create", setup_engagement), data)
    assert response.status_code == 400
    assert f"This engagement already has a setup checklist ({first} items)." in (
        response.content.decode()
    )
    assert len(items_of(setup_engagement)) == first
    response = client.post(
        url("checklist_create", setup_engagement), {**data, "add_to_existing": "on"}
    )
    assert response.status_code == 302
    items = items_of(setup_engagement)
    assert len(items) == 2 * first
    assert [item.position for item in items] == list(range(1, 2 * first + 1))


def test_bad_main_product_lines_are_named_and_nothing_is_written(
    client_for, setup_engagement, demo_manager
):
    templates = defaults(setup_engagement.agency)
    response = client_for(demo_manager).post(
        url("checklist_create", setup_engagement),
        create_data(
            templates,
            "new",
            main_products="6543210987 保湿精华水\n保湿精华水 6543210988\n6543210989\n"
            "6543210987 重复的精华水",
        ),
    )
    assert response.status_code == 400
    errors = response.context["create_form"].errors["main_products"]
    assert errors == [
        "Line 2 (“保湿精华水 6543210988”): start with the product's item id (digits only), "
        "then its name.",
        "Line 3 (“6543210989”): the product name is missing after the item id.",
        "Line 4: item id 6543210987 is already on line 1.",
    ]
    assert items_of(setup_engagement) == []


def test_a_template_with_per_product_lines_needs_main_products(setup_engagement, demo_manager):
    templates = defaults(setup_engagement.agency)
    with pytest.raises(ValidationError) as refused:
        create_with_service(setup_engagement, demo_manager, templates["new"], main_products=[])
    assert refused.value.message_dict["main_products"] == [
        "The template “New store opening (新店入驻开店)” has one item per main product: enter "
        "at least one main product."
    ]
    assert items_of(setup_engagement) == []


def test_an_owner_from_another_agency_is_refused(
    client_for, setup_engagement, demo_manager, rival_manager
):
    templates = defaults(setup_engagement.agency)
    response = client_for(demo_manager).post(
        url("checklist_create", setup_engagement), create_data(templates, owner=rival_manager.pk)
    )
    assert response.status_code == 400
    assert response.context["create_form"].errors["owner"] == [
        f"Owner {rival_manager.pk} is not an active staff member of this agency."
    ]
    # The service refuses it too, whoever calls it.
    with pytest.raises(ValidationError) as refused:
        create_with_service(
            setup_engagement, demo_manager, templates["existing"], owner=rival_manager
        )
    assert refused.value.message_dict["owner"] == [
        f"Owner #{rival_manager.pk} is not an active staff member of this agency."
    ]
    assert items_of(setup_engagement) == []


def test_a_brand_user_cannot_be_an_owner(setup_engagement, demo_manager, brand_a_owner):
    templates = defaults(setup_engagement.agency)
    with pytest.raises(ValidationError) as refused:
        create_with_service(
            setup_engagement, demo_manager, templates["existing"], owner=brand_a_owner
        )
    assert refused.value.message_dict["owner"] == [
        "Owner owner@brand-a.test is not an active staff member of this agency."
    ]


def test_no_checklist_before_execution_or_outside_the_scope(
    client_for, engagement_a, make_engagement, store_a, demo_manager
):
    data = create_data(defaults(engagement_a.agency))
    client = client_for(demo_manager)
    # Still in diagnosis: the page reads, and says why nothing can be created.
    page = client.get(url("checklist", engagement_a))
    assert page.status_code == 200 and page.context["create_form"] is None
    assert "The checklist opens when the proposal is approved" in page.content.decode()
    response = client.post(url("checklist_create", engagement_a), data)
    assert response.status_code == 400
    assert "The workspace opens when the proposal is approved" in response.content.decode()
    traffic_only = make_engagement(
        store_a, demo_manager, stage=Stage.TRAFFIC, services=[Service.TRAFFIC]
    )
    response = client.post(url("checklist_create", traffic_only), data)
    assert response.status_code == 400
    assert "“Store setup” is not in this engagement's scope." in html.unescape(
        response.content.decode()
    )
    assert items_of(engagement_a) == items_of(traffic_only) == []


def test_brand_users_cannot_create_a_checklist(client_for, setup_engagement, brand_a_owner):
    templates = defaults(setup_engagement.agency)
    response = client_for(brand_a_owner).post(
        url("checklist_create", setup_engagement),
        {"template": templates["existing"].pk, "start_date": START.isoformat()},
    )
    assert response.status_code == 404
    assert items_of(setup_engagement) == []
