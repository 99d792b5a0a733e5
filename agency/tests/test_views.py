"""What people see: sign-in, the agency chooser, language, people, brands, settings, white-label."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from agency.models import Agency, Membership, Role, Store
from agency.tenancy import agency_scope
from conftest import PASSWORD
from tests.images import png_bytes


def test_sign_in_with_e_mail_and_land_in_the_only_agency(client, demo_manager):
    response = client.post(
        "/accounts/login/", {"username": "MANAGER@demo.test", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/demo/"


def test_a_wrong_password_says_so_and_does_not_sign_in(client, demo_manager):
    response = client.post("/accounts/login/", {"username": "manager@demo.test", "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/demo/").status_code == 302


def test_a_member_of_several_agencies_chooses(client, demo_manager, make_member, rival_agency):
    make_member(rival_agency, Role.ANALYST, user=demo_manager.user)
    client.force_login(demo_manager.user)
    response = client.get("/")
    assert [m.agency.slug for m in response.context["memberships"]] == ["demo", "rival"]
    assert client.get("/rival/").status_code == 200


def test_the_language_choice_is_remembered_on_the_user(client, demo_manager):
    Agency.objects.filter(pk=demo_manager.agency_id).update(default_language="zh-hans")
    client.force_login(demo_manager.user)
    response = client.get("/demo/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.headers["Content-Language"] == "zh-hans"  # the agency's default
    assert "代运营项目" in response.content.decode()
    client.post("/accounts/language/", {"language": "en", "next": "/demo/"})
    demo_manager.user.refresh_from_db()
    assert demo_manager.user.language == "en"
    client.cookies.clear()
    client.force_login(demo_manager.user)
    response = client.get("/demo/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.headers["Content-Language"] == "en"
    assert "Engagements" in response.content.decode()


def test_without_a_choice_the_agency_default_language_applies(client, demo_manager):
    client.force_login(demo_manager.user)
    assert client.get("/demo/", HTTP_ACCEPT_LANGUAGE="zh-CN").headers["Content-Language"] == "en"
    Agency.objects.filter(pk=demo_manager.agency_id).update(default_language="zh-hans")
    assert client.get("/demo/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "zh-hans"


def test_the_login_page_follows_the_browser_language(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.headers["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()


def test_set_language_refuses_an_outside_redirect(client):
    response = client.post(
        "/accounts/language/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_user_switches_to_english_and_back_to_chinese(client, demo_manager):
    client.force_login(demo_manager.user)
    for language in ("en", "zh-hans"):
        response = client.post("/accounts/language/", {"language": language, "next": "/demo/"})
        assert response.status_code == 302
        demo_manager.user.refresh_from_db()
        assert demo_manager.user.language == language
        assert client.get("/demo/").headers["Content-Language"] == language


def test_an_admin_adds_a_brand_user_bound_to_brands(
    client, demo_admin, brand_a, brand_b, django_capture_on_commit_callbacks
):
    client.force_login(demo_admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/demo/people/new/brand/",
            {
                "email": "cfo@brand-a.test",
                "full_name": "CFO",
                "role": Role.BRAND_VIEWER,
                "brands": [brand_a.pk],
            },
        )
    assert response.status_code == 302
    with agency_scope(demo_admin.agency):
        member = Membership.objects.get(user__email="cfo@brand-a.test")
        assert list(member.brands.all()) == [brand_a]
    assert mail.outbox[0].to == ["cfo@brand-a.test"]
    assert "/accounts/password/set/" in mail.outbox[0].body


def test_bad_people_input_is_named(client, demo_admin, rival_brand):
    client.force_login(demo_admin.user)
    response = client.post(
        "/demo/people/new/brand/",
        {"email": "not-an-email", "full_name": "", "role": "superuser", "brands": [rival_brand.pk]},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "full_name", "role", "brands"}


def test_staff_without_the_admin_role_get_403_and_brand_users_404(
    client, demo_manager, brand_a_owner
):
    client.force_login(demo_manager.user)
    assert client.get("/demo/people/").status_code == 403
    assert client.get("/demo/settings/").status_code == 403
    client.force_login(brand_a_owner.user)
    assert client.get("/demo/people/").status_code == 404
    assert client.get("/demo/brands/").status_code == 404


def test_an_admin_deactivates_a_member(client, demo_admin, demo_operator):
    client.force_login(demo_admin.user)
    client.post(f"/demo/people/{demo_operator.pk}/active/", {"active": "0"})
    with agency_scope(demo_admin.agency):
        assert Membership.objects.get(pk=demo_operator.pk).is_active is False


def test_brands_and_stores_are_created_and_searched(client, demo_manager):
    client.force_login(demo_manager.user)
    response = client.post("/demo/brands/new/", {"name": "Brand C"})
    assert response.status_code == 302
    brand_url = response["Location"]
    response = client.post(
        brand_url + "stores/new/",
        {"name": "Brand C 旗舰店", "situation": "new", "shop_id": "", "url": "brand-c.tmall.com"},
    )
    assert response.status_code == 302
    with agency_scope(demo_manager.agency):
        store = Store.objects.get(name="Brand C 旗舰店")
    assert store.url == "https://brand-c.tmall.com"
    response = client.get("/demo/brands/?q=旗舰", HTTP_HX_REQUEST="true")
    assert "Brand C" in response.content.decode()
    assert "<html" not in response.content.decode()  # htmx gets the rows only


def test_a_bad_store_is_refused_with_its_field_named(client, demo_manager, brand_a):
    client.force_login(demo_manager.user)
    response = client.post(
        f"/demo/brands/{brand_a.pk}/stores/new/",
        {"name": "", "situation": "sideways", "shop_id": "abc", "url": "not a url"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "situation", "shop_id", "url"}


def test_agency_settings_brand_the_portal_for_brand_users(client, demo_admin, brand_a_owner):
    client.force_login(demo_admin.user)
    response = client.post(
        "/demo/settings/",
        {
            "name": "Acme 代运营",
            "primary_color": "#123456",
            "time_zone": "Asia/Shanghai",
            "default_language": "zh-hans",
            "brief_hour": "8",
            "logo": SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    client.force_login(brand_a_owner.user)
    page = client.get("/demo/").content.decode()
    assert "Acme 代运营" in page and "--brand: #123456" in page
    assert "/demo/logo/" in page
    assert "Engagement portal for Tmall operations agencies" not in page  # no product branding
    logo = client.get("/demo/logo/")
    assert logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == png_bytes()


def test_a_logo_that_is_not_an_image_is_refused(client, demo_admin):
    client.force_login(demo_admin.user)
    response = client.post(
        "/demo/settings/",
        {
            "name": "Demo",
            "primary_color": "#123456",
            "time_zone": "Asia/Shanghai",
            "default_language": "zh-hans",
            "brief_hour": "9",
            "logo": SimpleUploadedFile("logo.png", b"<script>", content_type="image/png"),
        },
    )
    assert "logo" in response.context["form"].errors


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "eager"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert client.get("/healthz").json()["broker"] == "ok"  # the real Redis of REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"].startswith("error")


def test_error_pages_speak_the_users_language_and_hint_nothing(client, settings, brand_b_owner):
    settings.DEBUG = False
    client.force_login(brand_b_owner.user)
    response = client.get("/demo/brands/")
    assert response.status_code == 404
    assert "not yours to see" in response.content.decode()
    assert client.get("/no-such-agency/").status_code == 404


def test_an_admin_removes_the_logo(client, demo_admin):
    client.force_login(demo_admin.user)
    settings_form = {
        "name": "Demo",
        "primary_color": "#123456",
        "time_zone": "Asia/Shanghai",
        "default_language": "en",
        "brief_hour": "9",
    }
    client.post(
        "/demo/settings/",
        {**settings_form, "logo": SimpleUploadedFile("l.png", png_bytes(), "image/png")},
    )
    assert client.get("/demo/logo/").status_code == 200
    response = client.post("/demo/settings/", {**settings_form, "logo-clear": "on"})
    assert response.status_code == 302
    assert client.get("/demo/logo/").status_code == 404


def test_the_admin_site_only_reads_tenant_rows(admin_client, engagement_a):
    assert admin_client.get("/admin/agency/brand/add/").status_code == 403
    response = admin_client.post(
        f"/admin/engagements/engagement/{engagement_a.pk}/change/", {"title": "changed"}
    )
    assert response.status_code == 403
