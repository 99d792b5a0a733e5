"""People, brands and stores: the rules a user meets when managing the agency."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from agency import services
from agency.models import Membership, Role, Store, User
from agency.tenancy import agency_scope


@pytest.fixture
def in_demo(demo_agency):
    with agency_scope(demo_agency):
        yield


def set_password_link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/set/\S+/", message.body).group(0)


def test_an_admin_adds_staff_who_get_a_one_time_set_password_link(
    in_demo, demo_admin, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.membership_invite(
            actor=demo_admin, email="New.Operator@Demo.test", full_name="Nina", role=Role.OPERATOR
        )
    assert membership.user.email == "new.operator@demo.test"
    assert not membership.user.has_usable_password()
    assert [message.to for message in mail.outbox] == [["new.operator@demo.test"]]
    membership.refresh_from_db()
    assert membership.invitation_sent_at is not None

    link = set_password_link(mail.outbox[0]).split("testserver", 1)[-1].split(":8000", 1)[-1]
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": "a-long-pass-phrase", "new_password2": "a-long-pass-phrase"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=membership.user_id).check_password("a-long-pass-phrase")
    # The link worked once.
    assert client.get(link, follow=True).context["validlink"] is False


def test_a_brand_user_needs_a_brand_and_staff_take_none(in_demo, demo_admin, brand_a):
    with pytest.raises(ValidationError) as error:
        services.membership_invite(
            actor=demo_admin, email="o@x.test", full_name="O", role=Role.BRAND_OWNER
        )
    assert "brands" in error.value.error_dict
    with pytest.raises(ValidationError):
        services.membership_invite(
            actor=demo_admin, email="s@x.test", full_name="S", role=Role.ANALYST, brands=[brand_a]
        )


def test_a_person_of_another_agency_gets_a_membership_not_a_second_user(
    in_demo, demo_admin, rival_manager
):
    membership = services.membership_invite(
        actor=demo_admin, email="manager@rival.test", full_name="", role=Role.ANALYST
    )
    assert membership.user_id == rival_manager.user_id
    with pytest.raises(ValidationError, match="already a member"):
        services.membership_invite(
            actor=demo_admin, email="manager@rival.test", full_name="", role=Role.ANALYST
        )


def test_only_admins_manage_people(in_demo, demo_manager):
    with pytest.raises(PermissionDenied):
        services.membership_invite(
            actor=demo_manager, email="x@x.test", full_name="X", role=Role.OPERATOR
        )


def test_a_brand_of_another_agency_cannot_be_bound(in_demo, demo_admin, rival_brand):
    with pytest.raises(ValidationError):
        services.membership_invite(
            actor=demo_admin,
            email="b@x.test",
            full_name="B",
            role=Role.BRAND_VIEWER,
            brands=[rival_brand],
        )


def test_deactivation_rules(in_demo, demo_admin, demo_manager, demo_operator, engagement_a):
    with pytest.raises(ValidationError, match="yourself"):
        services.membership_set_active(actor=demo_admin, membership=demo_admin, active=False)
    with pytest.raises(ValidationError, match="manages open engagements"):
        services.membership_set_active(actor=demo_admin, membership=demo_manager, active=False)
    services.membership_set_active(actor=demo_admin, membership=demo_operator, active=False)
    assert Membership.objects.get(pk=demo_operator.pk).is_active is False


def test_a_deactivated_member_gets_404_on_the_agency(client, demo_admin, demo_operator):
    client.force_login(demo_operator.user)
    assert client.get("/demo/").status_code == 200
    with agency_scope(demo_admin.agency):
        services.membership_set_active(actor=demo_admin, membership=demo_operator, active=False)
    assert client.get("/demo/").status_code == 404


def test_brand_names_and_shop_ids_are_unique_within_an_agency_only(
    in_demo, demo_manager, brand_a, store_a, rival_store
):
    with pytest.raises(ValidationError, match="already exists"):
        services.brand_create(actor=demo_manager, name="brand a")
    with pytest.raises(ValidationError, match="shop id"):
        services.store_create(
            actor=demo_manager, brand=brand_a, name="Dup", shop_id=store_a.shop_id
        )
    # Another agency may run a store with the same id (two agencies, two contracts).
    store = services.store_create(
        actor=demo_manager, brand=brand_a, name="Same id elsewhere", shop_id=rival_store.shop_id
    )
    assert store.agency_id == brand_a.agency_id


def test_a_shop_id_is_digits(in_demo, demo_manager, brand_a):
    with pytest.raises(ValidationError) as error:
        services.store_create(actor=demo_manager, brand=brand_a, name="X", shop_id="12ab")
    assert "shop_id" in error.value.error_dict
    assert not Store.objects.filter(name="X").exists()


def test_agency_settings_are_validated(in_demo, demo_admin, demo_manager):
    valid = dict(
        name="Demo",
        primary_color="#123456",
        time_zone="Asia/Shanghai",
        default_language="en",
        brief_hour=9,
    )
    with pytest.raises(PermissionDenied):
        services.agency_update_settings(actor=demo_manager, agency=demo_admin.agency, **valid)
    with pytest.raises(ValidationError) as error:
        services.agency_update_settings(
            actor=demo_admin,
            agency=demo_admin.agency,
            **{**valid, "primary_color": "red", "brief_hour": 24, "time_zone": "Mars/Olympus"},
        )
    assert {"primary_color", "brief_hour", "time_zone"} <= set(error.value.error_dict)


def test_staff_stay_staff_and_managers_keep_a_managing_role(
    in_demo, demo_admin, demo_manager, brand_a, engagement_a
):
    with pytest.raises(ValidationError, match="other way round"):
        services.membership_update(
            actor=demo_admin, membership=demo_manager, role=Role.BRAND_VIEWER, brands=[brand_a]
        )
    with pytest.raises(ValidationError, match="manages open engagements"):
        services.membership_update(actor=demo_admin, membership=demo_manager, role=Role.ANALYST)
    services.membership_update(actor=demo_admin, membership=demo_manager, role=Role.ADMIN)
    assert Membership.objects.get(pk=demo_manager.pk).role == Role.ADMIN


def test_one_address_is_one_person_however_it_is_typed(in_demo, demo_admin):
    typed = User.objects.create_user(email="Bob@Example.TEST ")
    assert typed.email == "bob@example.test"
    membership = services.membership_invite(
        actor=demo_admin, email="BOB@example.test", full_name="Bob", role=Role.ANALYST
    )
    assert membership.user_id == typed.pk
    assert User.objects.filter(email__iexact="bob@example.test").count() == 1


def test_an_invited_person_whose_link_expired_can_ask_for_a_new_one(client, demo_admin):
    with agency_scope(demo_admin.agency):
        membership = services.membership_invite(
            actor=demo_admin, email="late@x.test", full_name="Late", role=Role.ANALYST
        )
    mail.outbox.clear()
    client.post("/accounts/password/forgot/", {"email": "LATE@x.test"})
    assert [message.to for message in mail.outbox] == [[membership.user.email]]
    assert "/accounts/password/set/" in mail.outbox[0].body
