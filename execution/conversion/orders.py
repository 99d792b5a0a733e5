"""Importing a store's order export: read it from the upload (the file is never kept: it holds
raw buyer ids), hash every buyer id, and write the orders all or nothing.

A buyer id becomes `buyer_key`: HMAC-SHA256 under a key derived from settings.BUYER_ID_HASH_KEY
and the agency's id, so the same buyer gets the same key in every import of the agency (and a
different one in another agency), and the raw id is never written to the database, a log or a
page. BUYER_ID_HASH_KEY must be set in production and never changed: a new key makes every
buyer a stranger to the orders imported before (see README).

The orders are written with the fastest path the database offers: on PostgreSQL, COPY into a
temporary table and one INSERT ... ON CONFLICT (agency, store, order id) DO UPDATE that touches
only rows whose buyer, time or amount differ (re-importing a file changes nothing; a corrected
file corrects the amounts); elsewhere (SQLite, the embedded demo) bulk_create with the same
conflict handling. An import that fails writes no order and is recorded as failed with its
errors; one that succeeds records its counts and dates and queues the tier computation.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from agency.models import Agency, Membership, Store
from engagements.lifecycle import Service
from engagements.models import Engagement
from execution.metrics.parsing import ReportError
from execution.models import CustomerOrder, OrderImport
from execution.workspace import workspace_check_writable

from .order_files import ParsedOrders, orders_read

_KEY_SALT = "execution.conversion.buyer_id"
CENT = Decimal("0.01")


def _hash_secret() -> bytes:
    """settings.BUYER_ID_HASH_KEY, or (when unset, in development) a key derived from
    SECRET_KEY."""
    if settings.BUYER_ID_HASH_KEY:
        return settings.BUYER_ID_HASH_KEY.encode()
    return salted_hmac(_KEY_SALT, "buyer-id-hash-key", algorithm="sha256").digest()


def buyer_key_function(agency_id: int) -> Callable[[str], str]:
    """The agency's buyer hash: buyer id -> 64 hex digits (HMAC-SHA256)."""
    agency_key = hmac.new(_hash_secret(), f"agency:{agency_id}".encode(), hashlib.sha256).digest()
    base = hmac.new(agency_key, digestmod=hashlib.sha256)

    def buyer_key(buyer_id: str) -> str:
        digest = base.copy()
        digest.update(buyer_id.encode("utf-8"))
        return digest.hexdigest()

    return buyer_key


@dataclass
class WrittenOrders:
    new: int = 0
    changed: int = 0

    @property
    def written(self) -> int:
        return self.new + self.changed


def order_import_upload(*, actor: Membership, engagement: Engagement, upload) -> OrderImport:
    """Import an uploaded order export for the engagement's store. Returns the OrderImport,
    succeeded or failed (with its errors); raises ValidationError only when the workspace
    refuses writes. Not one transaction on purpose: a failed import is recorded while none of
    its orders is written."""
    workspace_check_writable(engagement=engagement, service=Service.CONVERSION)
    record = OrderImport(
        engagement=engagement,
        filename=Path(upload.name or "orders").name[:255],
        size=upload.size or 0,
        created_by=actor.user,
    )
    limit = settings.ORDER_IMPORT_MAX_MB
    if record.size > limit * 1024 * 1024:
        return _failed(
            record,
            _("%(file)s is %(size)d MB; at most %(limit)d MB is accepted.")
            % {"file": record.filename, "size": record.size // (1024 * 1024), "limit": limit},
        )
    if record.size == 0:
        return _failed(record, _("%(file)s is empty.") % {"file": record.filename})
    agency: Agency = engagement.agency
    try:
        parsed = orders_read(
            upload,
            filename=record.filename,
            time_zone=agency.time_zone,
            buyer_key=buyer_key_function(agency.pk),
        )
    except ReportError as error:
        return _failed(record, str(error))
    record.rows_read = parsed.rows_read
    if parsed.errors_total:
        return _failed(
            record,
            _(
                "Problems in %(file)s: %(count)d; no order was imported. Correct the file "
                "and upload it again."
            )
            % {"count": parsed.errors_total, "file": record.filename},
            parsed,
        )
    if not len(parsed.frame):
        return _failed(
            record,
            _("%(file)s holds no paid orders below its header.") % {"file": record.filename},
        )
    try:
        with transaction.atomic():
            record.status = OrderImport.Status.SUCCEEDED
            record.date_start, record.date_end = parsed.date_start, parsed.date_end
            record.save()
            written = orders_write(store=engagement.store, order_import=record, frame=parsed.frame)
            record.orders_written = written.written
            record.message = _(
                "Orders read: %(rows)d (new: %(new)d, corrected: %(changed)d, unchanged: %(same)d)."
            ) % {
                "rows": len(parsed.frame),
                "new": written.new,
                "changed": written.changed,
                "same": len(parsed.frame) - written.written,
            }
            if parsed.unpaid_skipped:
                record.message += " " + _(
                    "Rows without a paid time (unpaid or closed orders), skipped: %(count)d."
                ) % {"count": parsed.unpaid_skipped}
            record.save(update_fields=["orders_written", "message"])
            _queue_tiers(engagement)
    except DatabaseError as error:
        record.pk = None
        record._state.adding = True
        return _failed(
            record,
            _("The orders could not be written (%(reason)s); no order was imported.")
            % {"reason": error.__class__.__name__},
        )
    return record


def _failed(record: OrderImport, message: str, parsed: ParsedOrders | None = None) -> OrderImport:
    record.status = OrderImport.Status.FAILED
    record.message = message
    record.orders_written = 0
    if parsed is not None:
        record.errors = [
            {"row": e.row, "column": e.column, "value": e.value, "message": e.message}
            for e in parsed.errors
        ]
        record.errors_total = parsed.errors_total
    record.save()
    return record


def _queue_tiers(engagement: Engagement) -> None:
    """After the commit: recompute the tiers of every engagement on the store that does user
    operations (they all read the store's orders)."""
    from execution.conversion import tasks  # tasks import this module's callers

    engagement_ids = [
        pk
        for pk, services in Engagement.objects.filter(store_id=engagement.store_id).values_list(
            "pk", "scope_services"
        )
        if Service.CONVERSION in services
    ]
    agency_id = engagement.agency_id
    for engagement_id in engagement_ids:
        transaction.on_commit(
            lambda engagement_id=engagement_id: tasks.compute_tiers.delay(agency_id, engagement_id)
        )


def orders_write(*, store: Store, order_import: OrderImport, frame: pd.DataFrame) -> WrittenOrders:
    """Upsert the orders of `frame` (order_id, buyer_key, paid_epoch, amount) for the store.
    Call inside a transaction; the store's row is locked so two imports of one store queue."""
    Store.objects.select_for_update().filter(pk=store.pk).first()
    if connection.vendor == "postgresql":
        return _write_postgresql(store, order_import, frame)
    return _write_orm(store, order_import, frame)


_STAGE = "conversion_order_stage"


def _write_postgresql(store: Store, order_import: OrderImport, frame: pd.DataFrame):
    payload = io.StringIO()
    frame[["order_id", "buyer_key", "paid_epoch", "amount"]].to_csv(
        payload, header=False, index=False
    )
    payload.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} (order_id text NOT NULL, buyer_key text NOT NULL, "
            "paid_epoch bigint NOT NULL, amount numeric(14, 2) NOT NULL)"
        )
        cursor.cursor.copy_expert(
            f"COPY {_STAGE} (order_id, buyer_key, paid_epoch, amount) FROM STDIN WITH (FORMAT csv)",
            payload,
            size=1 << 20,
        )
        cursor.execute(
            """
            WITH written AS (
                INSERT INTO execution_customerorder AS o
                    (agency_id, store_id, order_id, buyer_key, paid_at, amount, order_import_id)
                SELECT %s, %s, s.order_id, s.buyer_key, to_timestamp(s.paid_epoch), s.amount, %s
                FROM conversion_order_stage s
                ON CONFLICT (agency_id, store_id, order_id) DO UPDATE SET
                    buyer_key = EXCLUDED.buyer_key,
                    paid_at = EXCLUDED.paid_at,
                    amount = EXCLUDED.amount,
                    order_import_id = EXCLUDED.order_import_id
                WHERE (o.buyer_key, o.paid_at, o.amount)
                    IS DISTINCT FROM (EXCLUDED.buyer_key, EXCLUDED.paid_at, EXCLUDED.amount)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
            FROM written
            """,
            [store.agency_id, store.pk, order_import.pk],
        )
        new, changed = cursor.fetchone()
        cursor.execute(f"DROP TABLE {_STAGE}")
    return WrittenOrders(new=new, changed=changed)


def _write_orm(store: Store, order_import: OrderImport, frame: pd.DataFrame) -> WrittenOrders:
    """The portable path: compare with the stored orders, then bulk-create the new and changed
    ones with ON CONFLICT ... DO UPDATE."""
    paid = pd.to_datetime(frame["paid_epoch"].to_numpy(), unit="s", utc=True)
    incoming = pd.DataFrame(
        {
            "order_id": frame["order_id"].to_numpy(dtype=object),
            "buyer_key": frame["buyer_key"].to_numpy(dtype=object),
            "paid_at": paid.to_pydatetime(),
            "amount": [Decimal(text).quantize(CENT) for text in frame["amount"]],
        }
    )
    existing: dict[str, tuple] = {}
    order_ids = incoming["order_id"].tolist()
    for start in range(0, len(order_ids), 500):
        rows = CustomerOrder.objects.filter(
            store=store, order_id__in=order_ids[start : start + 500]
        ).values_list("order_id", "buyer_key", "paid_at", "amount")
        existing.update({row[0]: row[1:] for row in rows})
    new = changed = 0
    objects = []
    for order_id, buyer_key, paid_at, amount in incoming.itertuples(index=False):
        before = existing.get(order_id)
        if before == (buyer_key, paid_at, amount):
            continue
        if before is None:
            new += 1
        else:
            changed += 1
        objects.append(
            CustomerOrder(
                agency_id=store.agency_id,
                store=store,
                order_id=order_id,
                buyer_key=buyer_key,
                paid_at=paid_at,
                amount=amount,
                order_import=order_import,
            )
        )
    CustomerOrder.objects.bulk_create(
        objects,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["agency", "store", "order_id"],
        update_fields=["buyer_key", "paid_at", "amount", "order_import"],
    )
    return WrittenOrders(new=new, changed=changed)
