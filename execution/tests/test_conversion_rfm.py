"""RFM user tiers: a hand-made order set whose tier per buyer and month is known, computed by
the scoring alone and through the store's stored orders (local dates, snapshots)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from agency.tenancy import agency_scope
from execution.conversion.rfm import day_number, rfm_tiers
from execution.conversion.tiers import tiers_compute
from execution.models import CustomerOrder, TierSnapshot

D = datetime.date
# buyer, day, CNY. E ordered once in June 2025 and lapses; A, B, C, D buy in 2026.
ORDERS = [
    ("E", D(2025, 6, 1), "10.00"),
    ("A", D(2026, 1, 5), "100.00"),
    ("B", D(2026, 1, 20), "80.00"),
    ("C", D(2026, 2, 1), "20.00"),
    ("A", D(2026, 2, 10), "300.00"),
    ("C", D(2026, 2, 25), "30.00"),
    ("D", D(2026, 3, 1), "500.00"),
    ("A", D(2026, 3, 15), "50.00"),
]
# month -> tier -> (buyers at the month's end, orders in the month, GMV in the month)
EXPECTED = {
    D(2025, 6, 1): {"new": (1, 1, "10.00")},
    D(2025, 10, 1): {"new": (1, 0, "0")},  # E's last order 152 days ago: still new
    D(2025, 11, 1): {"at_risk": (1, 0, "0")},  # 182 days ago on 30 November: at risk
    D(2026, 1, 1): {"new": (2, 2, "180.00"), "at_risk": (1, 0, "0")},
    # Feb: A (2 orders, 400) is the top 20 % of the three active buyers: high value; C repeat.
    D(2026, 2, 1): {
        "new": (1, 0, "0"),
        "repeat": (1, 2, "50.00"),
        "high_value": (1, 1, "300.00"),
        "at_risk": (1, 0, "0"),
    },
    # Mar (scored as of 15 March, the last order): D's 500 is the top 20 % of four active
    # buyers, but D has one order: new. A (450) is then no longer top: repeat.
    D(2026, 3, 1): {
        "new": (2, 1, "500.00"),
        "repeat": (2, 1, "50.00"),
        "high_value": (0, 0, "0"),
        "at_risk": (1, 0, "0"),
    },
}


def _arrays():
    codes = {name: i for i, name in enumerate(sorted({b for b, _d, _a in ORDERS}))}
    buyers = np.array([codes[b] for b, _d, _a in ORDERS])
    days = np.array([day_number(d) for _b, d, _a in ORDERS])
    cents = np.array([int(Decimal(a) * 100) for _b, _d, a in ORDERS])
    return buyers, days, cents


def _by_month(rows):
    result = {}
    for row in rows:
        result.setdefault(row.month, {})[row.tier] = (row.buyers, row.orders, row.gmv_cents)
    return result


def test_each_buyer_is_in_one_known_tier_per_month_and_gmv_shares_add_up():
    rows = rfm_tiers(*_arrays())
    months = _by_month(rows)
    # Every month from the first order's to the last's, the quiet ones included, four tiers each.
    assert sorted(months) == [D(2025, m, 1) for m in range(6, 13)] + [
        D(2026, m, 1) for m in (1, 2, 3)
    ]
    assert all(len(tiers) == 4 for tiers in months.values())
    for month, expected in EXPECTED.items():
        for tier, (buyers, orders, gmv) in expected.items():
            assert months[month][tier] == (buyers, orders, int(Decimal(gmv) * 100)), (month, tier)
        listed = {t for t, v in months[month].items() if v[0]}
        assert listed == {t for t, v in expected.items() if v[0]}, month
    for month, tiers in months.items():
        placed = sum(
            int(Decimal(a) * 100)
            for _b, d, a in ORDERS
            if (d.year, d.month) == (month.year, month.month)
        )
        assert sum(v[2] for v in tiers.values()) == placed


def test_no_orders_give_no_months():
    assert rfm_tiers(np.array([]), np.array([]), np.array([])) == []


def test_tiers_from_stored_orders_use_the_agency_local_date(
    conversion_engagement, store_a, demo_agency
):
    """An order paid at 00:30 on 1 March in Shanghai is a March order, though it is still
    February in UTC; the snapshots are replaced, not added to, on a second run."""
    zone = ZoneInfo(demo_agency.time_zone)
    with agency_scope(demo_agency):
        for number, (buyer, day, amount) in enumerate(ORDERS):
            paid = datetime.datetime.combine(day, datetime.time(0, 30), tzinfo=zone)
            CustomerOrder.objects.create(
                store=store_a,
                order_id=f"O{number}",
                buyer_key=buyer * 64,
                paid_at=paid,
                amount=Decimal(amount),
            )
        assert tiers_compute(engagement=conversion_engagement) == 10
        assert tiers_compute(engagement=conversion_engagement) == 10
        snapshots = TierSnapshot.objects.filter(engagement=conversion_engagement)
        assert snapshots.count() == 40
        march = {s.tier: (s.buyers, s.orders, s.gmv) for s in snapshots.filter(month=D(2026, 3, 1))}
    assert march == {
        "new": (2, 1, Decimal("500.00")),
        "repeat": (2, 1, Decimal("50.00")),
        "high_value": (0, 0, Decimal("0.00")),
        "at_risk": (1, 0, Decimal("0.00")),
    }


@pytest.mark.parametrize("orders", [40])
def test_scoring_is_deterministic_and_counts_every_active_buyer(orders):
    rng = np.random.default_rng(3)
    buyers = rng.integers(0, 15, orders)
    days = rng.integers(day_number(D(2025, 1, 1)), day_number(D(2026, 6, 30)), orders)
    cents = rng.integers(100, 50_000, orders)
    first, second = rfm_tiers(buyers, days, cents), rfm_tiers(buyers, days, cents)
    assert first == second
    last = max(row.month for row in first)
    seen = len(set(buyers.tolist()))
    assert sum(row.buyers for row in first if row.month == last) == seen
