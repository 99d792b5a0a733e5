"""RFM user tiers from a store's orders, month by month, with numpy (no loop over buyers).

For every month from the first order's to the last order's, each buyer who had ordered by the
month's end (the last order's day, for the last month) is scored on recency (days since the last
order), frequency (orders) and monetary value (the sum paid), from all their orders up to then,
and put in exactly one tier, checked in this order: **at risk** when the last order is more than
AT_RISK_DAYS days old; otherwise **high value** when the buyer has ordered at least
REPEAT_MIN_ORDERS times and their monetary value is among the top HIGH_VALUE_SHARE of the buyers
still active (not at risk; ties at the cut-off count as top); otherwise **repeat** with at least
REPEAT_MIN_ORDERS orders; otherwise **new** (one order). A month's figures per tier are the
buyers in the tier at the month's end and the orders and GMV those buyers placed in that month,
so the tiers' GMV adds up to the month's order GMV (at-risk buyers placed none in the month, or
they would not be at risk). A month with no orders still gets its sizes (and zero GMV).

The input is compact: buyers as integer codes, days as integers, amounts as integer cents (money
stays exact; no float). Each month costs a few passes over that month's orders and one over
the buyers, so a million orders of a quarter of a million buyers over two years take well
under a second.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from execution.models import Tier

AT_RISK_DAYS = 180
HIGH_VALUE_SHARE = 0.20
REPEAT_MIN_ORDERS = 2
# Tier codes in the arrays below; the order is the one the tiers are shown in.
TIER_ORDER = (Tier.NEW, Tier.REPEAT, Tier.HIGH_VALUE, Tier.AT_RISK)
_NEW, _REPEAT, _HIGH_VALUE, _AT_RISK = range(4)
_NONE = -1  # a buyer with no order yet
_EPOCH = datetime.date(1970, 1, 1)


@dataclass(frozen=True)
class TierMonth:
    """One tier's figures in one month: buyers at the month's end, what they paid in it."""

    month: datetime.date  # the first of the month
    tier: str
    buyers: int
    orders: int
    gmv_cents: int


def day_number(day: datetime.date) -> int:
    return (day - _EPOCH).days


def _month_bounds(months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last day numbers of the months (numpy datetime64[M] values)."""
    first = months.astype("datetime64[D]").astype(np.int64)
    last = (months + 1).astype("datetime64[D]").astype(np.int64) - 1
    return first, last


def rfm_tiers(buyers: np.ndarray, days: np.ndarray, cents: np.ndarray) -> list[TierMonth]:
    """The tier figures of every month from the first order's to the last's, four rows a month.

    `buyers`: int codes 0..n-1 (one per distinct buyer); `days`: the order's local date as days
    since 1970-01-01; `cents`: the amount paid in cents (int64). Arrays of equal length."""
    if len(days) == 0:
        return []
    buyers = np.asarray(buyers, dtype=np.int64)
    days = np.asarray(days, dtype=np.int64)
    cents = np.asarray(cents, dtype=np.int64)
    order = np.argsort(days, kind="stable")
    buyers, days, cents = buyers[order], days[order], cents[order]
    buyer_count = int(buyers.max()) + 1
    last_day_overall = int(days[-1])
    order_months = days.astype("datetime64[D]").astype("datetime64[M]")
    months = np.arange(order_months[0], order_months[-1] + 1)
    month_first, month_last = _month_bounds(months)
    # Orders are sorted by day, so each month's orders are one slice.
    starts = np.searchsorted(days, month_first, side="left")
    ends = np.searchsorted(days, month_last, side="right")

    frequency = np.zeros(buyer_count, dtype=np.int64)
    monetary = np.zeros(buyer_count, dtype=np.int64)
    last_order = np.full(buyer_count, np.iinfo(np.int64).min, dtype=np.int64)
    result: list[TierMonth] = []
    for index, month in enumerate(months):
        month_buyers = buyers[starts[index] : ends[index]]
        month_days = days[starts[index] : ends[index]]
        month_cents = cents[starts[index] : ends[index]]
        np.add.at(frequency, month_buyers, 1)
        np.add.at(monetary, month_buyers, month_cents)
        np.maximum.at(last_order, month_buyers, month_days)
        as_of = min(int(month_last[index]), last_day_overall)
        tiers = _tiers_as_of(frequency, monetary, last_order, as_of)
        sizes = np.bincount(tiers[tiers != _NONE], minlength=4)
        order_tiers = tiers[month_buyers]
        month_orders = np.bincount(order_tiers, minlength=4)
        first_day = month.astype("datetime64[D]").item()
        for code, tier in enumerate(TIER_ORDER):
            result.append(
                TierMonth(
                    month=first_day,
                    tier=str(tier),
                    buyers=int(sizes[code]),
                    orders=int(month_orders[code]),
                    gmv_cents=int(month_cents[order_tiers == code].sum()),
                )
            )
    return result


def _tiers_as_of(
    frequency: np.ndarray, monetary: np.ndarray, last_order: np.ndarray, as_of: int
) -> np.ndarray:
    """Each buyer's tier code on day `as_of` (_NONE for a buyer without an order yet)."""
    tiers = np.full(len(frequency), _NONE, dtype=np.int64)
    ordered = frequency > 0
    at_risk = ordered & (as_of - last_order > AT_RISK_DAYS)
    active = ordered & ~at_risk
    tiers[at_risk] = _AT_RISK
    tiers[active & (frequency < REPEAT_MIN_ORDERS)] = _NEW
    several = active & (frequency >= REPEAT_MIN_ORDERS)
    tiers[several] = _REPEAT
    active_values = monetary[active]
    top = int(np.ceil(HIGH_VALUE_SHARE * active_values.size))
    if top:
        cut_off = np.partition(active_values, active_values.size - top)[active_values.size - top]
        tiers[several & (monetary >= cut_off)] = _HIGH_VALUE
    return tiers


def buyer_codes(keys) -> np.ndarray:
    """Integer codes (0..n-1) of buyer keys, for `rfm_tiers`."""
    codes, _uniques = pd.factorize(np.asarray(keys, dtype=object))
    return codes.astype(np.int64)
