"""The connector registry and the demo simulator: deterministic, consistent, shaped like `schema`.

No database: the simulator reads only a store's pk, shop_id and name, so a stand-in store will do.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest

from execution.metrics.connectors import (
    CONNECTORS,
    SOURCES,
    Connector,
    DemoSimulator,
    connector_get,
)
from execution.metrics.schema import GRAINS, AdTool, Grain

D = datetime.date


@dataclass(frozen=True)
class StandInStore:
    pk: int
    shop_id: str
    name: str


BRAND_A_STORE = StandInStore(pk=1, shop_id="520001234", name="Brand A 官方旗舰店")
BRAND_B_STORE = StandInStore(pk=2, shop_id="520009876", name="Brand B 旗舰店")
RIVAL_STORE = StandInStore(pk=3, shop_id="", name="Rival 新店")  # not opened yet: keyed by pk
STORES = [BRAND_A_STORE, BRAND_B_STORE, RIVAL_STORE]

simulator = DemoSimulator()
_cache: dict[tuple, dict] = {}


def fetch(store: StandInStore, start: D, end: D) -> dict[str, list[dict]]:
    key = (store, start, end)
    if key not in _cache:
        _cache[key] = simulator.fetch(store=store, start=start, end=end)
    return _cache[key]


def year_2024(store: StandInStore) -> dict[str, list[dict]]:
    return fetch(store, D(2024, 1, 1), D(2024, 12, 31))


def store_days(rows: dict[str, list[dict]]) -> dict[D, dict]:
    return {row["date"]: row for row in rows[Grain.STORE_DAY]}


def summed_by_day(rows: list[dict], field: str) -> dict[D, int | Decimal]:
    sums: dict[D, int | Decimal] = defaultdict(int)
    for row in rows:
        sums[row["date"]] += row[field]
    return dict(sums)


# --- registry ---


def test_connector_get_returns_the_registered_demo_simulator():
    connector = connector_get("demo")
    assert isinstance(connector, DemoSimulator)
    assert isinstance(connector, Connector)
    assert connector.name == "demo" and connector.label
    assert CONNECTORS["demo"] is connector


def test_connector_get_unknown_name_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="tmall-api-v9"):
        connector_get("tmall-api-v9")


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="after it ends"):
        simulator.fetch(store=BRAND_A_STORE, start=D(2024, 5, 2), end=D(2024, 5, 1))


# --- determinism ---


def test_the_same_call_returns_the_same_rows():
    first = simulator.fetch(store=BRAND_A_STORE, start=D(2024, 10, 1), end=D(2024, 11, 30))
    second = simulator.fetch(store=BRAND_A_STORE, start=D(2024, 10, 1), end=D(2024, 11, 30))
    assert first == second


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_fetching_in_two_halves_equals_fetching_at_once(store):
    whole = simulator.fetch(store=store, start=D(2024, 10, 1), end=D(2024, 11, 30))
    october = simulator.fetch(store=store, start=D(2024, 10, 1), end=D(2024, 11, 10))
    november = simulator.fetch(store=store, start=D(2024, 11, 11), end=D(2024, 11, 30))
    assert set(whole) == {grain.value for grain in Grain}
    for grain in Grain:
        assert whole[grain] == october[grain] + november[grain], grain


def test_a_daily_fetch_of_yesterday_agrees_with_the_history():
    history = store_days(fetch(BRAND_B_STORE, D(2024, 1, 1), D(2024, 12, 31)))
    yesterday = simulator.fetch(store=BRAND_B_STORE, start=D(2024, 7, 9), end=D(2024, 7, 9))
    assert yesterday[Grain.STORE_DAY] == [history[D(2024, 7, 9)]]


def test_stores_differ_from_each_other():
    visitors = [store_days(year_2024(store))[D(2024, 3, 5)]["visitors"] for store in STORES]
    assert len(set(visitors)) == len(STORES)


# --- shape ---


@pytest.mark.parametrize("grain", list(Grain), ids=str)
def test_every_row_has_exactly_the_fields_its_grain_declares_with_their_types(grain):
    spec = GRAINS[grain]
    declared = {"date", *spec.key_fields, *spec.text_fields, *spec.metric_fields}
    rows = fetch(BRAND_A_STORE, D(2024, 6, 1), D(2024, 6, 30))[grain]
    assert rows
    for row in rows:
        assert set(row) == declared
        assert type(row["date"]) is D
        for field in (*spec.key_fields, *spec.text_fields):
            assert type(row[field]) is str, field
        for field in spec.count_fields:
            assert type(row[field]) is int, field
        for field in spec.money_fields:
            assert type(row[field]) is Decimal, field
            assert row[field].as_tuple().exponent == -2, (field, row[field])


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_no_number_is_negative(store):
    for grain, rows in year_2024(store).items():
        for row in rows:
            for field in GRAINS[grain].metric_fields:
                assert row[field] >= 0, (grain, field, row)


def test_sources_are_the_ten_chinese_source_names_every_day():
    rows = fetch(BRAND_A_STORE, D(2024, 6, 1), D(2024, 6, 30))[Grain.STORE_DAY_SOURCE]
    by_day = defaultdict(list)
    for row in rows:
        by_day[row["date"]].append(row["source"])
    assert len(by_day) == 30
    assert all(sources == list(SOURCES) for sources in by_day.values())


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_products_are_20_to_40_stable_12_digit_items(store):
    june = fetch(store, D(2024, 6, 1), D(2024, 6, 30))[Grain.STORE_DAY_PRODUCT]
    march = simulator.fetch(store=store, start=D(2023, 3, 1), end=D(2023, 3, 1))
    items = {(row["item_id"], row["item_name"]) for row in june}
    assert 20 <= len(items) <= 40
    assert len({item_id for item_id, _ in items}) == len(items)
    assert all(len(item_id) == 12 and item_id.isdigit() for item_id, _ in items)
    assert all(name for _, name in items)
    assert {(row["item_id"], row["item_name"]) for row in march[Grain.STORE_DAY_PRODUCT]} == items


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_ad_plans_per_tool_and_wanxiangtai_promotes_top_products(store):
    rows = year_2024(store)
    plans = {
        (row["ad_tool"], row["campaign"], row["item_id"], row["item_name"])
        for row in rows[Grain.STORE_DAY_AD]
    }
    per_tool = defaultdict(list)
    for plan in plans:
        per_tool[plan[0]].append(plan)
    assert set(per_tool) == {tool.value for tool in AdTool}
    assert 2 <= len(per_tool[AdTool.ZHITONGCHE]) <= 3
    assert 1 <= len(per_tool[AdTool.WANXIANGTAI]) <= 2
    assert 1 <= len(per_tool[AdTool.YINLIMOFANG]) <= 2

    product_gmv: dict[str, Decimal] = defaultdict(Decimal)
    names = {}
    for row in rows[Grain.STORE_DAY_PRODUCT]:
        product_gmv[row["item_id"]] += row["gmv"]
        names[row["item_id"]] = row["item_name"]
    top_five = sorted(product_gmv, key=product_gmv.get, reverse=True)[:5]
    for tool, _, item_id, item_name in plans:
        if tool == AdTool.WANXIANGTAI:
            assert item_id in top_five and item_name == names[item_id]
        else:
            assert item_id == "" and item_name == ""


# --- consistency ---


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
@pytest.mark.parametrize(
    ("grain", "fields"),
    [
        (Grain.STORE_DAY_SOURCE, ("visitors", "paying_buyers", "gmv", "new_buyers")),
        (
            Grain.STORE_DAY_PRODUCT,
            ("visitors", "paying_buyers", "gmv", "paid_orders", "paid_units", "page_views"),
        ),
    ],
    ids=str,
)
def test_parts_sum_exactly_to_the_store_day(store, grain, fields):
    rows = year_2024(store)
    days = store_days(rows)
    for field in fields:
        sums = summed_by_day(rows[grain], field)
        assert sums == {day: row[field] for day, row in days.items()}, field


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_buyer_counts_are_consistent_within_every_row(store):
    rows = year_2024(store)
    for row in rows[Grain.STORE_DAY]:
        assert row["new_buyers"] + row["repeat_buyers"] == row["paying_buyers"]
        assert row["visitors"] >= row["paying_buyers"]
        assert row["paid_units"] >= row["paid_orders"] >= row["paying_buyers"]
        assert row["visitors"] >= max(row["bounced_visitors"], row["add_to_cart_users"])
    for row in rows[Grain.STORE_DAY_SOURCE]:
        assert row["visitors"] >= row["paying_buyers"] >= row["new_buyers"]
    for row in rows[Grain.STORE_DAY_PRODUCT]:
        assert row["paid_units"] >= row["paid_orders"] >= row["paying_buyers"]
        assert row["page_views"] >= row["visitors"] >= row["paying_buyers"]
    for row in rows[Grain.STORE_DAY_AD]:
        assert row["impressions"] >= row["clicks"] >= row["ad_orders"]


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_a_year_of_ratios_looks_like_a_tmall_store(store):
    rows = year_2024(store)
    days = rows[Grain.STORE_DAY]
    total = {
        field: sum(row[field] for row in days) for field in GRAINS[Grain.STORE_DAY].metric_fields
    }
    assert 2_000 <= statistics.median(row["visitors"] for row in days) <= 12_000
    assert 0.02 <= total["paying_buyers"] / total["visitors"] <= 0.045
    assert 3.0 <= total["page_views"] / total["visitors"] <= 3.5
    assert 0.55 <= total["bounced_visitors"] / total["visitors"] <= 0.70
    assert 150 <= total["gmv"] / total["paying_buyers"] <= 330  # peaks lift the basket a little
    assert Decimal("0.03") <= total["refund_amount"] / total["gmv"] <= Decimal("0.08")
    assert 15 <= total["cs_first_reply_seconds_sum"] / total["cs_sessions"] <= 40
    assert any(row["cs_first_reply_seconds_sum"] > 30 * row["cs_sessions"] for row in days)

    ads = rows[Grain.STORE_DAY_AD]
    spend = sum(row["ad_spend"] for row in ads)
    assert (
        0.01 <= sum(row["clicks"] for row in ads) / sum(row["impressions"] for row in ads) <= 0.05
    )
    assert Decimal("0.8") <= spend / sum(row["clicks"] for row in ads) <= 3
    assert Decimal("1.5") <= sum(row["ad_gmv"] for row in ads) / spend <= 5
    assert spend < total["gmv"] / 5


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_a_few_products_carry_most_of_the_gmv(store):
    product_gmv: dict[str, Decimal] = defaultdict(Decimal)
    for row in year_2024(store)[Grain.STORE_DAY_PRODUCT]:
        product_gmv[row["item_id"]] += row["gmv"]
    shares = sorted(product_gmv.values(), reverse=True)
    assert sum(shares[:5]) > sum(shares) / 2


# --- calendar ---


def gmv_on(store: StandInStore, day: D) -> Decimal:
    return store_days(fetch(store, D(day.year, 1, 1), D(day.year, 12, 31)))[day]["gmv"]


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_double_eleven_dwarfs_an_ordinary_october_weekday(store, year):
    ordinary = [
        gmv_on(store, day)
        for day in (D(year, 10, number) for number in range(8, 18))
        if day.weekday() < 5
    ]
    assert gmv_on(store, D(year, 11, 11)) > 5 * statistics.median(ordinary)


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_618_peaks_on_the_18th_above_an_ordinary_may_day(store, year):
    may = [gmv_on(store, D(year, 5, number)) for number in range(1, 16)]
    june = [gmv_on(store, D(year, 6, number)) for number in range(1, 31)]
    assert gmv_on(store, D(year, 6, 18)) > Decimal("2.5") * statistics.median(may)
    assert max(june) == gmv_on(store, D(year, 6, 18))


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_double_twelve_and_new_year_festival_are_smaller_peaks(store):
    early_december = statistics.median(gmv_on(store, D(2024, 12, day)) for day in range(1, 8))
    double_twelve = gmv_on(store, D(2024, 12, 12))
    assert Decimal("1.3") * early_december < double_twelve < gmv_on(store, D(2024, 11, 11))
    # 年货节 against the days after it and before the Spring Festival (10 February 2024).
    festival = statistics.mean(gmv_on(store, D(2024, 1, day)) for day in range(12, 21))
    after = statistics.mean(gmv_on(store, D(2024, 1, day)) for day in range(22, 32))
    assert Decimal("1.1") * after < festival < double_twelve


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_weekends_bring_more_visitors_than_midweek(store):
    days = store_days(year_2024(store))
    ordinary = [
        row
        for day, row in days.items()
        if D(2024, 3, 1) <= day <= D(2024, 5, 15) or D(2024, 7, 1) <= day <= D(2024, 9, 30)
    ]
    weekend = statistics.mean(row["visitors"] for row in ordinary if row["date"].weekday() >= 5)
    midweek = statistics.mean(
        row["visitors"] for row in ordinary if row["date"].weekday() in (1, 2, 3)
    )
    assert weekend > 1.03 * midweek


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_visitors_grow_year_on_year(store):
    def march_visitors(year: int) -> int:
        rows = fetch(store, D(year, 3, 1), D(year, 3, 31))[Grain.STORE_DAY]
        return sum(row["visitors"] for row in rows)

    assert march_visitors(2023) < march_visitors(2024) < march_visitors(2025)


@pytest.mark.parametrize("store", STORES, ids=lambda store: store.name)
def test_ad_budgets_ramp_up_before_618_and_double_eleven(store):
    spend = summed_by_day(year_2024(store)[Grain.STORE_DAY_AD], "ad_spend")

    def mean_spend(first: D, last: D) -> Decimal:
        return statistics.mean(amount for day, amount in spend.items() if first <= day <= last)

    april = mean_spend(D(2024, 4, 1), D(2024, 4, 30))
    september = mean_spend(D(2024, 9, 1), D(2024, 9, 30))
    assert mean_spend(D(2024, 6, 8), D(2024, 6, 17)) > Decimal("1.5") * april
    assert mean_spend(D(2024, 10, 25), D(2024, 11, 10)) > Decimal("1.5") * september


# --- speed ---
