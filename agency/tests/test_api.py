"""The brands and stores endpoints as an integration sees them: lists, one object, filters,
ordering, cursor pages, and a brand-restricted token that sees only its brand."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from agency.models import ApiScope, Store, StoreSituation
from agency.tenancy import agency_scope

BRANDS, STORES = "/api/v1/brands/", "/api/v1/stores/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def follow(api, secret, url, **params) -> tuple[list[int], int]:
    """Every id of a list, page by page through the `next` links; and the number of pages."""
    seen, pages = [], 0
    response = api.get(secret, url, **params)
    while True:
        pages += 1
        seen += ids(response)
        next_url = response.json()["next"]
        if next_url is None:
            return seen, pages
        assert urlsplit(next_url).path == url
        assert "cursor" in parse_qs(urlsplit(next_url).query)
        response = api.get(secret, next_url)


@pytest.fixture
def world(brand_a, brand_b, store_a, store_b, rival_store):
    return brand_a, brand_b, store_a, store_b


def test_brands_list_the_agency_brands_by_name_with_their_store_ids(
    api, make_token, demo_agency, world
):
    brand_a, brand_b, store_a, store_b = world
    response = api.get(make_token(demo_agency), BRANDS)
    assert response.status_code == 200
    body = response.json()
    assert [(row["id"], row["name"], row["stores"]) for row in body["results"]] == [
        (brand_a.pk, "Brand A", [store_a.pk]),
        (brand_b.pk, "Brand B", [store_b.pk]),
    ]
    assert set(body["results"][0]) == {"id", "name", "stores", "created_at"}
    assert body["next"] is None and body["previous"] is None


def test_a_brand_is_retrieved_by_id_and_another_agency_s_is_not_found(
    api, make_token, demo_agency, rival_brand, world
):
    brand_a, _brand_b, store_a, _store_b = world
    secret = make_token(demo_agency)
    response = api.get(secret, f"{BRANDS}{brand_a.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == brand_a.pk and response.json()["stores"] == [store_a.pk]
    foreign = api.get(secret, f"{BRANDS}{rival_brand.pk}/")
    missing = api.get(secret, f"{BRANDS}{rival_brand.pk + 1000}/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.json()["error"]["code"] == "not_found"


def test_brands_filter_by_part_of_the_name(api, make_token, demo_agency, make_brand, world):
    _brand_a, brand_b, _store_a, _store_b = world
    make_brand(demo_agency, "山野茶事")
    secret = make_token(demo_agency)
    assert ids(api.get(secret, BRANDS, name="d b")) == [brand_b.pk]
    assert [row["name"] for row in api.get(secret, BRANDS, name="茶").json()["results"]] == [
        "山野茶事"
    ]


def test_brands_are_ordered_by_the_ordering_parameter(api, make_token, demo_agency, world):
    brand_a, brand_b, _store_a, _store_b = world
    secret = make_token(demo_agency)
    assert ids(api.get(secret, BRANDS, ordering="-name")) == [brand_b.pk, brand_a.pk]
    assert ids(api.get(secret, BRANDS, ordering="-id")) == sorted(
        [brand_a.pk, brand_b.pk], reverse=True
    )


def test_a_store_is_listed_and_retrieved_with_its_fields(api, make_token, demo_agency, world):
    _brand_a, brand_b, _store_a, store_b = world
    secret = make_token(demo_agency)
    response = api.get(secret, f"{STORES}{store_b.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": store_b.pk,
        "brand": brand_b.pk,
        "name": "Brand B 官方旗舰店",
        "shop_id": store_b.shop_id,
        "url": "",
        "situation": "existing",
        "connector": "",
        "created_at": response.json()["created_at"],
    }
    assert response.json()["created_at"].startswith(str(store_b.created_at.year))


def test_stores_filter_by_brand_shop_id_name_and_situation(
    api, make_token, demo_agency, make_store, world
):
    brand_a, brand_b, store_a, store_b = world
    opening = make_store(brand_a, name="Brand A 专卖店", shop_id="", situation=StoreSituation.NEW)
    secret = make_token(demo_agency)
    assert ids(api.get(secret, STORES)) == [store_a.pk, store_b.pk, opening.pk]
    assert ids(api.get(secret, STORES, brand=brand_a.pk)) == [store_a.pk, opening.pk]
    assert ids(api.get(secret, STORES, brand=brand_b.pk)) == [store_b.pk]
    assert ids(api.get(secret, STORES, shop_id=store_b.shop_id)) == [store_b.pk]
    assert ids(api.get(secret, STORES, shop_id=store_b.shop_id[:-1])) == []
    assert ids(api.get(secret, STORES, name="官方")) == [store_b.pk]
    assert ids(api.get(secret, STORES, situation="new")) == [opening.pk]


def test_a_bad_filter_value_is_a_400_naming_the_filter(api, make_token, demo_agency, world):
    response = api.get(make_token(demo_agency), STORES, situation="closed")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == ["situation"]


def test_stores_are_ordered_by_the_ordering_parameter(
    api, make_token, demo_agency, make_store, world
):
    brand_a, _brand_b, store_a, store_b = world
    zebra = make_store(brand_a, name="Zebra store")
    secret = make_token(demo_agency)
    assert ids(api.get(secret, STORES, ordering="-id")) == [zebra.pk, store_b.pk, store_a.pk]
    assert ids(api.get(secret, STORES, ordering="-name")) == [zebra.pk, store_b.pk, store_a.pk]
    assert ids(api.get(secret, STORES, ordering="name")) == [store_a.pk, store_b.pk, zebra.pk]


@pytest.fixture
def many_stores(demo_agency, brand_a):
    """205 stores of Brand A: more than the largest page."""
    with agency_scope(demo_agency):
        Store.objects.bulk_create(
            Store(agency=demo_agency, brand=brand_a, name=f"Store {n:03}", shop_id=str(7000 + n))
            for n in range(205)
        )
        return list(Store.objects.order_by("pk").values_list("pk", flat=True))


def test_lists_come_in_cursor_pages_followed_by_next_links(
    api, make_token, demo_agency, many_stores
):
    secret = make_token(demo_agency)
    first = api.get(secret, STORES)
    assert len(first.json()["results"]) == 50  # the default page
    seen, pages = follow(api, secret, STORES, page_size=20)
    assert seen == many_stores and pages == 11
    seen, pages = follow(api, secret, STORES, page_size=20, ordering="-name")
    assert sorted(seen) == many_stores and len(seen) == len(set(seen)) and pages == 11
    assert len(api.get(secret, STORES, page_size=500).json()["results"]) == 200  # the cap


@pytest.mark.parametrize("ordering", ["name", "-name", "created_at"])
def test_paging_by_a_shared_value_gives_every_store_exactly_once(
    api, make_token, demo_agency, brand_a, ordering
):
    """Cursor pages over a non-unique ordering (thirty stores of one name, or of one creation
    time) must neither repeat nor drop a store."""
    created_at = timezone.now()
    with agency_scope(demo_agency):
        stores = Store.objects.bulk_create(
            Store(agency=demo_agency, brand=brand_a, name="Brand A 店", shop_id=str(8000 + n))
            for n in range(30)
        )
        Store.objects.update(created_at=created_at)
    seen, _pages = follow(api, make_token(demo_agency), STORES, page_size=7, ordering=ordering)
    assert sorted(seen) == sorted(store.pk for store in stores)


def test_a_previous_link_leads_back_to_the_page_before(api, make_token, demo_agency, many_stores):
    secret = make_token(demo_agency)
    first = api.get(secret, STORES, page_size=30)
    second = api.get(secret, first.json()["next"])
    assert ids(second) == many_stores[30:60]
    back = api.get(secret, second.json()["previous"])
    assert ids(back) == many_stores[:30]


def test_a_brand_restricted_token_sees_only_its_brand(
    api, make_token, demo_agency, make_store, world
):
    brand_a, brand_b, store_a, store_b = world
    second_a = make_store(brand_a)
    secret = make_token(demo_agency, scopes=[ApiScope.METRICS_READ], brand=brand_a)
    assert ids(api.get(secret, BRANDS)) == [brand_a.pk]
    assert ids(api.get(secret, STORES)) == [store_a.pk, second_a.pk]
    assert ids(api.get(secret, STORES, brand=brand_b.pk)) == []
    assert api.get(secret, f"{BRANDS}{brand_a.pk}/").json()["stores"] == [store_a.pk, second_a.pk]
    for url in (f"{BRANDS}{brand_b.pk}/", f"{STORES}{store_b.pk}/"):
        response = api.get(secret, url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_brands_and_stores_are_readable_with_any_single_scope(api, make_token, demo_agency, world):
    _brand_a, _brand_b, store_a, _store_b = world
    for scope in ApiScope.values:
        secret = make_token(demo_agency, scopes=[scope])
        assert api.get(secret, BRANDS).status_code == 200, scope
        assert api.get(secret, f"{STORES}{store_a.pk}/").status_code == 200, scope


@pytest.mark.parametrize("page_size", ["0", "-5", "ten"])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(
    api, make_token, demo_agency, world, page_size
):
    response = api.get(make_token(demo_agency), STORES, page_size=page_size)
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["page_size"]


def test_a_forged_cursor_is_a_400_naming_it(api, make_token, demo_agency, world):
    response = api.get(make_token(demo_agency), STORES, cursor="not-a-cursor")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["details"]) == ["cursor"]
