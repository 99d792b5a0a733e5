"""Structural guarantees of tenancy that every future model inherits (DESIGN.md, "Tenancy"):
each tenant table carries `agency_id` itself and is read through the fail-closed manager, and
each of its unique constraints includes `agency` (distributable by agency_id)."""

import pytest
from django.apps import apps
from django.db import models

from agency.tenancy import AgencyOwnedModel, TenantManager

# Global tables: the tenant itself and the people who sign in (a person may serve several), with
# the Django-admin permission links of users (PermissionsMixin), which are not tenant data.
GLOBAL_MODELS = {
    "agency.Agency",
    "agency.User",
    "agency.User_groups",
    "agency.User_user_permissions",
}
OUR_APPS = {"agency", "engagements", "diagnostics", "proposals", "execution", "reporting"}


def our_models():
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in OUR_APPS and model._meta.label not in GLOBAL_MODELS
    ]


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_tenant_table_carries_its_agency_and_a_scoped_manager(model):
    assert issubclass(model, AgencyOwnedModel), (
        f"{model._meta.label} must derive from AgencyOwnedModel (many-to-many fields need an "
        "explicit through model, so the link rows carry agency_id too)"
    )
    assert isinstance(model._default_manager, TenantManager)
    assert model._meta.get_field("agency").column == "agency_id"


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_unique_constraint_includes_the_agency(model):
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            assert "agency" in constraint.fields, f"{model._meta.label}: {constraint.name}"
    for field in model._meta.local_fields:
        if field.unique and not field.primary_key:
            pytest.fail(f"{model._meta.label}.{field.name} is unique across agencies")
    assert not model._meta.unique_together, f"{model._meta.label}: use UniqueConstraint"


def test_child_tables_copy_their_agency_from_the_parent():
    for model in our_models():
        parent = model.tenant_parent
        if parent:
            assert isinstance(model._meta.get_field(parent), models.ForeignKey), model


@pytest.mark.django_db
def test_superusers_browse_every_admin_page_across_agencies(
    admin_client, engagement_a, rival_engagement, brand_a_owner
):
    from django.contrib import admin

    for model in admin.site._registry:
        meta = model._meta
        response = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert response.status_code == 200, meta.label
        first = model._base_manager.first()
        if first is not None:
            response = admin_client.get(
                f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/"
            )
            assert response.status_code == 200, meta.label
    listing = admin_client.get("/admin/engagements/engagement/").content.decode()
    assert engagement_a.title in listing and rival_engagement.title in listing
