"""The API token pages: an admin creates a token (shown once), sees its use, revokes it."""

import re

from django.urls import reverse

from agency.models import ApiToken
from agency.tenancy import agency_scope


def tokens_url(agency):
    return reverse("api_token_list", kwargs={"agency_slug": agency.slug})


def test_an_admin_creates_a_token_that_is_shown_once_and_works(client, demo_admin, brand_a):
    client.force_login(demo_admin.user)
    response = client.post(
        tokens_url(demo_admin.agency),
        {"name": "Brand A BI", "scopes": ["metrics:read"], "brand": brand_a.pk},
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    secret = re.search(r'id="token-secret">(tp_[\w-]+)<', response.content.decode())[1]
    with agency_scope(demo_admin.agency):
        token = ApiToken.objects.get()
    assert token.scopes == ["metrics:read"] and token.brand == brand_a
    assert token.created_by == demo_admin.user
    assert secret not in {token.key_hash, token.prefix} and secret.startswith(token.prefix)

    # The list shows the prefix, never the secret again.
    page = client.get(tokens_url(demo_admin.agency)).content.decode()
    assert "Brand A BI" in page and token.prefix in page and secret not in page
    assert "Never" in page  # not used yet

    api = client.get(f"/api/v1/brands/{brand_a.pk}/", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["name"] == brand_a.name
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_bad_token_input_is_named_and_nothing_is_created(client, demo_admin):
    client.force_login(demo_admin.user)
    response = client.post(tokens_url(demo_admin.agency), {"name": " ", "expires_days": "0"})
    form = response.context["form"]
    assert set(form.errors) == {"name", "scopes", "expires_days"}
    with agency_scope(demo_admin.agency):
        assert not ApiToken.objects.exists()


def test_a_revoked_token_stops_working(client, demo_admin, make_token):
    secret = make_token(demo_admin.agency)
    with agency_scope(demo_admin.agency):
        token = ApiToken.objects.get()
    client.force_login(demo_admin.user)
    revoke = reverse(
        "api_token_revoke", kwargs={"agency_slug": demo_admin.agency.slug, "token_id": token.pk}
    )
    assert client.get(revoke).status_code == 405
    client.post(revoke)
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == demo_admin.user
    assert "Revoked" in client.get(tokens_url(demo_admin.agency)).content.decode()
    response = client.get("/api/v1/brands/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_only_admins_manage_tokens(client, demo_manager, brand_a_owner):
    client.force_login(demo_manager.user)
    assert client.get(tokens_url(demo_manager.agency)).status_code == 403
    client.force_login(brand_a_owner.user)
    assert client.get(tokens_url(brand_a_owner.agency)).status_code == 404
