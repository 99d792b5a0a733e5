"""Store setup templates: every agency's two defaults (created once, lazily), and their editing by
agency admins only (a manager gets 403, a brand user 404)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from agency.tenancy import agency_scope
from execution.models.setup import SetupTemplate, SetupTemplateItem
from execution.setup import services
from execution.setup.forms import ChecklistCreateForm


def url(name: str, agency, **kwargs) -> str:
    return reverse(f"setup:{name}", kwargs={"agency_slug": agency.slug, **kwargs})


def lines(template) -> list[SetupTemplateItem]:
    return list(SetupTemplateItem.objects.filter(template=template).order_by("position", "pk"))


def test_every_agency_gets_its_two_defaults_once(demo_agency, rival_agency):
    with agency_scope(demo_agency):
        created = services.setup_templates_ensure_defaults(agency=demo_agency)
        assert sorted(template.situation for template in created) == ["existing", "new"]
        assert services.setup_templates_ensure_defaults(agency=demo_agency) == []
        assert SetupTemplate.objects.count() == 2
        new = SetupTemplate.objects.get(situation="new")
        existing = SetupTemplate.objects.get(situation="existing")
        new_lines, existing_lines = lines(new), lines(existing)
    by_section = {}
    for line in new_lines:
        by_section.setdefault(line.section, []).append(line)
    assert {line.document_kind for line in by_section["qualification"]} == {
        "business_licence",
        "brand_authorisation",
        "quality_report",
        "trademark",
    }
    assert [line.title for line in by_section["registration"]][:4] == [
        "Submit the entry application (入驻申请提交)",
        "Qualification review (资质审核)",
        "Pay the deposit and annual fee (缴纳保证金与年费)",
        "Name the store and open it (店铺命名与开店)",
    ]
    homepage, detail = by_section["visual"]
    assert homepage.needs_brand_approval and not homepage.per_main_product
    assert detail.needs_brand_approval and detail.per_main_product
    assert detail.title == "Detail page (详情页)"
    assert {line.title for line in by_section["base_settings"]} == {
        "Category mapping (类目映射)",
        "Title keywords (标题关键词)",
        "Price and stock settings (价格与库存设置)",
    }
    assert [line.position for line in new_lines] == list(range(1, len(new_lines) + 1))
    assert len(existing_lines) < len(new_lines)
    assert any(not line.brand_visible for line in existing_lines)
    # Another agency has none until it asks.
    with agency_scope(rival_agency):
        assert not SetupTemplate.objects.exists()


def test_a_renamed_or_deactivated_default_is_not_created_again(demo_agency, demo_admin):
    with agency_scope(demo_agency):
        services.setup_templates_ensure_defaults(agency=demo_agency)
        new = SetupTemplate.objects.get(situation="new")
        services.setup_template_update(
            actor=demo_admin, template=new, name="天猫开店", situation="new", is_active=False
        )
        assert services.setup_templates_ensure_defaults(agency=demo_agency) == []
        assert SetupTemplate.objects.count() == 2


def test_the_templates_page_is_for_agency_admins_only(
    client_for, demo_admin, demo_manager, brand_a_owner, make_setup_template
):
    agency = demo_admin.agency
    template = make_setup_template(agency, items=[{"section": "visual", "title": "首页"}])
    with agency_scope(agency):
        line = SetupTemplateItem.objects.get(template=template)
    pages = [
        url("template_list", agency),
        url("template_detail", agency, setup_template_id=template.pk),
        url("template_item_edit", agency, setup_template_item_id=line.pk),
    ]
    admin = client_for(demo_admin)
    response = admin.get(pages[0])
    assert response.status_code == 200
    # The agency has its own new-store template, so only the existing-store default is added.
    body = response.content.decode()
    assert "Flagship launch" in body and "Existing store optimisation (老店优化)" in body
    assert "New store opening" not in body
    for page in pages:
        assert admin.get(page).status_code == 200
    manager = client_for(demo_manager)
    for page in pages:
        assert manager.get(page).status_code == 403
    assert manager.post(pages[1], {"name": "x", "situation": "new"}).status_code == 403
    brand_user = client_for(brand_a_owner)
    for page in pages:
        assert brand_user.get(page).status_code == 404
    # Only the admin's visit created the defaults; the service refuses a manager too.
    with agency_scope(agency), pytest.raises(PermissionDenied):
        services.setup_template_create(actor=demo_manager, name="x", situation="new")


def test_admin_creates_renames_and_deactivates_a_template(client_for, demo_admin):
    agency = demo_admin.agency
    client = client_for(demo_admin)
    response = client.post(
        url("template_list", agency),
        {"name": "品牌日专项", "situation": "existing", "is_active": "on"},
    )
    assert response.status_code == 302
    with agency_scope(agency):
        template = SetupTemplate.objects.get(name="品牌日专项")
    # A duplicate name is refused, naming it, and nothing is written.
    response = client.post(url("template_list", agency), {"name": "品牌日专项", "situation": "new"})
    assert response.status_code == 400
    assert "A template named “品牌日专项” exists already." in response.content.decode()
    with agency_scope(agency):
        assert SetupTemplate.objects.filter(name="品牌日专项").count() == 1
    # Rename, and take it out of use: it is no longer offered for a checklist.
    response = client.post(
        url("template_detail", agency, setup_template_id=template.pk),
        {"name": "品牌日专项 2026", "situation": "existing"},
    )
    assert response.status_code == 302
    with agency_scope(agency):
        template.refresh_from_db()
        assert (template.name, template.is_active) == ("品牌日专项 2026", False)
        offered = ChecklistCreateForm(agency=agency).fields["template"].queryset
        assert template not in offered
        assert offered.exists()  # the defaults


def test_admin_edits_reorders_and_removes_template_items(client_for, demo_admin):
    agency = demo_admin.agency
    client = client_for(demo_admin)
    with agency_scope(agency):
        template = services.setup_template_create(
            actor=demo_admin, name="大促准备", situation="existing"
        )
    add = url("template_item_create", agency, setup_template_id=template.pk)
    for title in ("双11 首页", "双11 详情页"):
        response = client.post(
            add,
            {
                "section": "visual",
                "title": title,
                "due_days": "20",
                "brand_visible": "on",
                "needs_brand_approval": "on",
                "per_main_product": "on" if "详情页" in title else "",
            },
        )
        assert response.status_code == 302
    # An item the brand approves must be visible to it; negative days are refused.
    response = client.post(
        add,
        {"section": "visual", "title": "内部稿", "due_days": "-1", "needs_brand_approval": "on"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ensure this value is greater than or equal to 0." in body
    with agency_scope(agency), pytest.raises(ValidationError) as refused:
        services.setup_template_item_create(
            actor=demo_admin,
            template=template,
            fields=services.TemplateItemFields(
                section="visual", title="内部稿", brand_visible=False, needs_brand_approval=True
            ),
        )
    assert refused.value.message_dict["needs_brand_approval"] == [
        "An item the brand approves must be visible to the brand."
    ]
    with agency_scope(agency):
        first, second = lines(template)
        assert (first.title, second.title) == ("双11 首页", "双11 详情页")
        assert second.per_main_product and not first.per_main_product
    # Edit the first, move the second up, remove the first.
    response = client.post(
        url("template_item_edit", agency, setup_template_item_id=first.pk),
        {"section": "visual", "title": "双11 预售首页", "due_days": "10", "brand_visible": "on"},
    )
    assert response.status_code == 302
    client.post(
        url("template_item_move", agency, setup_template_item_id=second.pk), {"direction": "up"}
    )
    with agency_scope(agency):
        assert [(line.title, line.position) for line in lines(template)] == [
            ("双11 详情页", 1),
            ("双11 预售首页", 2),
        ]
        assert not lines(template)[1].needs_brand_approval
    response = client.post(url("template_item_delete", agency, setup_template_item_id=first.pk))
    assert response.status_code == 302
    with agency_scope(agency):
        assert [line.title for line in lines(template)] == ["双11 详情页"]
