"""Computing an engagement's user tiers: read the store's orders compactly, score them month by
month (`rfm`), and replace the engagement's tier snapshots in one transaction.

On PostgreSQL the orders leave the database with COPY ... TO STDOUT, already reduced to what the
scoring needs (the buyer key, the local day of payment as a number, the amount in cents), and
pandas reads that text in one pass; buyer keys become integer codes straight away. Elsewhere the
ORM reads them. Either way no Python object is made per order beyond the key text.
"""

from __future__ import annotations

import io
import zoneinfo
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, transaction

from agency.models import Store
from agency.rls import ensure_tenant
from engagements.models import Engagement
from execution.models import CustomerOrder, TierSnapshot

from .rfm import TierMonth, buyer_codes, rfm_tiers


def store_orders_arrays(*, store: Store, time_zone: str) -> tuple[np.ndarray, ...]:
    """(buyer codes, local days since 1970, cents) of every order of the store."""
    if connection.vendor == "postgresql":
        return _arrays_postgresql(store, time_zone)
    rows = CustomerOrder.objects.filter(store=store).values_list("buyer_key", "paid_at", "amount")
    keys, paid, amounts = [], [], []
    for key, paid_at, amount in rows.iterator(chunk_size=5000):
        keys.append(key)
        paid.append(paid_at)
        amounts.append(int(amount * 100))
    if not keys:
        return tuple(np.empty(0, np.int64) for _ in range(3))
    local = pd.DatetimeIndex(pd.to_datetime(paid, utc=True)).tz_convert(
        zoneinfo.ZoneInfo(time_zone)
    )
    days = local.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)
    return buyer_codes(keys), days, np.asarray(amounts, dtype=np.int64)


def _arrays_postgresql(store: Store, time_zone: str) -> tuple[np.ndarray, ...]:
    # COPY goes past Django's cursor: one transaction that carries the tenant (agency/rls.py).
    with transaction.atomic(), connection.cursor() as cursor:
        ensure_tenant(connection)
        query = cursor.mogrify(
            "SELECT buyer_key, ((paid_at AT TIME ZONE %s)::date - DATE '1970-01-01'), "
            "(amount * 100)::bigint FROM execution_customerorder "
            "WHERE agency_id = %s AND store_id = %s",
            [time_zone, store.agency_id, store.pk],
        ).decode()
        buffer = io.BytesIO()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT", buffer, size=1 << 20)
    if not buffer.tell():
        return tuple(np.empty(0, np.int64) for _ in range(3))
    buffer.seek(0)
    frame = pd.read_csv(
        buffer,
        sep="\t",
        header=None,
        names=["buyer_key", "day", "cents"],
        dtype={"buyer_key": object, "day": np.int64, "cents": np.int64},
        engine="c",
        na_filter=False,
    )
    del buffer
    codes = buyer_codes(frame["buyer_key"].to_numpy())
    return codes, frame["day"].to_numpy(), frame["cents"].to_numpy()


def tier_months_compute(*, engagement: Engagement) -> list[TierMonth]:
    buyers, days, cents = store_orders_arrays(
        store=engagement.store, time_zone=engagement.agency.time_zone
    )
    return rfm_tiers(buyers, days, cents)


def tiers_compute(*, engagement: Engagement) -> int:
    """Replace the engagement's tier snapshots with the tiers of its store's orders, every month
    at once (idempotent: the same orders give the same snapshots). Returns the months written."""
    months = tier_months_compute(engagement=engagement)
    with transaction.atomic():
        TierSnapshot.objects.filter(engagement=engagement).delete()
        TierSnapshot.objects.bulk_create(
            [
                TierSnapshot(
                    agency_id=engagement.agency_id,
                    engagement=engagement,
                    month=row.month,
                    tier=row.tier,
                    buyers=row.buyers,
                    orders=row.orders,
                    gmv=Decimal(row.gmv_cents).scaleb(-2),
                )
                for row in months
            ],
            batch_size=1000,
        )
    return len({row.month for row in months})
