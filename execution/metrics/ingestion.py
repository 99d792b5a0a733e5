"""Ingestion runs: an upload, a command-line file, a JSON push or a connector pull becomes a run;
`ingestion_run_process` parses and writes it, all or nothing.

Processing is idempotent and safe to repeat after a killed worker: the run row is locked while it
is processed, a finished run is never processed again, and the facts of a run that did not finish
were rolled back with its transaction. Each delivery that starts a run counts itself first, in a
transaction of its own; a run whose task was delivered MAX_ATTEMPTS times without finishing (a
file whose processing kills the worker every time) fails with a message instead of coming back
forever.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agency.models import ApiScope, ApiToken, Membership, Store
from execution import permissions
from execution.metrics.rows import rows_check
from execution.metrics.schema import GRAINS, KIND_AD_TOOL, KIND_GRAIN, AdTool, Grain, ReportKind
from execution.metrics.writer import facts_replace
from execution.models import IngestionRun, StoreDayAdFact, StoreDayFact
from execution.signals import facts_changed

logger = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".xls", ".zip")
PUSH_FILENAME = "push.json"
# Deliveries of a run's task that may start it; the next one fails the run (see _process).
MAX_ATTEMPTS = 5


class _RunFailed(Exception):
    """Raised inside the facts transaction to undo a run's writes."""


def _checksum(file) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _check_upload(*, filename: str, size: int, limited: bool = True) -> None:
    """The file's type by its name, and the upload size limit (not for the operator's command
    line, which reads a file already on the server)."""
    if not filename.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError(
            {"file": _("“%(name)s” is not a CSV, XLSX, XLS or ZIP export.") % {"name": filename}}
        )
    limit = settings.INGEST_MAX_UPLOAD_MB * 1024 * 1024
    if limited and size > limit:
        raise ValidationError(
            {
                "file": _("“%(name)s” is %(size)s MB; the limit is %(limit)s MB.")
                % {
                    "name": filename,
                    "size": round(size / 1024 / 1024, 1),
                    "limit": settings.INGEST_MAX_UPLOAD_MB,
                }
            }
        )


def _check_actor(actor: Membership | None, api_token: ApiToken | None) -> None:
    """A run comes from a staff member, or from an API token with `metrics:write`."""
    if actor is not None:
        allowed = permissions.can_ingest_metrics(actor)
    else:
        allowed = api_token is not None and ApiScope.METRICS_WRITE in api_token.scopes
    if not allowed:
        raise PermissionDenied


def _check_kind(kind: str | None) -> str:
    if kind and kind not in ReportKind.values:
        raise ValidationError({"kind": _("Unknown report kind “%(kind)s”.") % {"kind": kind}})
    return kind or ""


def _queue(run: IngestionRun) -> None:
    from execution.tasks import ingest_run

    agency_id, run_id = run.agency_id, run.pk
    transaction.on_commit(lambda: ingest_run.delay(agency_id, run_id))


@transaction.atomic
def ingestion_upload(
    *,
    actor: Membership | None,
    store: Store,
    file: File,
    filename: str,
    kind: str | None = None,
    api_token: ApiToken | None = None,
) -> IngestionRun:
    """Store an uploaded export and queue its run (from the portal, or the API with a token)."""
    _check_actor(actor, api_token)
    _check_upload(filename=filename, size=file.size)
    run = IngestionRun(
        agency_id=store.agency_id,
        store=store,
        source=IngestionRun.Source.UPLOAD,
        filename=Path(filename).name,
        size=file.size,
        checksum=_checksum(file),
        kind=_check_kind(kind),
        kind_override=bool(kind),
        created_by=actor.user if actor else None,
        api_token=api_token,
    )
    run.file.save(run.filename, file, save=False)
    run.save()
    _queue(run)
    return run


def ingestion_from_path(*, store: Store, path: Path, kind: str | None = None) -> IngestionRun:
    """The command line's run: a file on disk, processed at once (see ingest_metrics)."""
    with path.open("rb") as handle:
        _check_upload(filename=path.name, size=path.stat().st_size, limited=False)
        run = IngestionRun(
            agency_id=store.agency_id,
            store=store,
            source=IngestionRun.Source.COMMAND,
            filename=path.name,
            size=path.stat().st_size,
            checksum=_checksum(handle),
            kind=_check_kind(kind),
            kind_override=bool(kind),
        )
        run.file.save(path.name, File(handle), save=False)
    run.save()
    return ingestion_run_process(run=run)


@transaction.atomic
def ingestion_push(
    *,
    actor: Membership | None,
    store: Store,
    grain: str,
    rows: list[Mapping],
    api_token: ApiToken | None = None,
) -> IngestionRun:
    """Queue a JSON push of rows for one store and grain (integrations)."""
    _check_actor(actor, api_token)
    if grain not in GRAINS:
        raise ValidationError({"grain": _("Unknown grain “%(grain)s”.") % {"grain": grain}})
    try:
        payload = json.dumps(rows, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:  # an unpaired surrogate: kept as a JSON escape, reported by the run
        payload = json.dumps(rows, default=str).encode()
    _check_upload(filename=PUSH_FILENAME.replace(".json", ".csv"), size=len(payload))
    run = IngestionRun(
        agency_id=store.agency_id,
        store=store,
        source=IngestionRun.Source.PUSH,
        grain=grain,
        filename=PUSH_FILENAME,
        size=len(payload),
        checksum=hashlib.sha256(payload).hexdigest(),
        created_by=actor.user if actor else None,
        api_token=api_token,
    )
    run.file.save(PUSH_FILENAME, ContentFile(payload), save=False)
    run.save()
    _queue(run)
    return run


def ingestion_pull(
    *, store: Store, connector_name: str, start: datetime.date, end: datetime.date
) -> list[IngestionRun]:
    """Pull a date range from a connector: one run per grain, processed at once."""
    from execution.metrics.connectors import connector_get

    connector = connector_get(connector_name)
    runs = []
    for grain, rows in connector.fetch(store=store, start=start, end=end).items():
        run = IngestionRun.objects.create(
            agency_id=store.agency_id,
            store=store,
            source=IngestionRun.Source.CONNECTOR,
            grain=grain,
            connector=connector_name,
            filename=f"{connector_name} {start.isoformat()}..{end.isoformat()}",
        )
        runs.append(_process(run, lambda _run, rows=rows, grain=grain: _checked_rows(grain, rows)))
    return runs


class MonthEntryRefused(ValidationError):
    """A month's totals that cannot be entered; the message says why, in the user's words."""


def spread_count(total: int, days: int) -> list[int]:
    """`total` over `days` whole parts that add up exactly: equal shares by largest remainder
    (all remainders tie, so the earliest days take the extra unit)."""
    base, remainder = divmod(total, days)
    return [base + 1 if day < remainder else base for day in range(days)]


def spread_money(total: Decimal, days: int) -> list[Decimal]:
    """An amount over `days` parts in cents that add up exactly to the total."""
    cents = int((total * 100).to_integral_value())
    return [Decimal(part) / 100 for part in spread_count(cents, days)]


@transaction.atomic
def ingestion_enter_month(
    *,
    actor: Membership,
    store: Store,
    month: datetime.date,
    visitors: int,
    paying_buyers: int,
    gmv: Decimal,
    ad_spend: Decimal | None = None,
    ad_tool: str = AdTool.ZHITONGCHE,
) -> list[IngestionRun]:
    """Write a month's totals, typed in by staff, as store-day facts (and ad facts for spend).

    For a store without exports (a brand that kept only monthly figures), so the one metric
    query reads them like any other data. The totals are spread evenly over the month's days and
    add up exactly (counts by largest remainder, money in cents). Entering a month again replaces
    it, ad spend included (an entry without spend clears the spend an earlier entry wrote). A
    month that has not ended, or that already has daily figures from exports or connectors, is
    refused: typed totals must never overwrite real daily data. All or nothing.
    """
    _check_actor(actor, None)
    month = month.replace(day=1)
    last_day = (month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    if last_day >= timezone.localdate():
        raise MonthEntryRefused({"month": _("Enter a month that has ended.")})
    if ad_tool not in AdTool.values:
        raise MonthEntryRefused({"ad_tool": _("Unknown ad tool.")})
    if paying_buyers > visitors:
        raise MonthEntryRefused({"paying_buyers": _("Paying buyers cannot be more than visitors.")})
    for name, value in (("visitors", visitors), ("paying_buyers", paying_buyers)):
        if value < 0:
            raise MonthEntryRefused({name: _("Enter a number of zero or more.")})
    for name, value in (("gmv", gmv), ("ad_spend", ad_spend)):
        if value is not None and (value < 0 or value != value.quantize(Decimal("0.01"))):
            raise MonthEntryRefused({name: _("Enter an amount of zero or more, to the cent.")})
    Store.objects.select_for_update().filter(pk=store.pk).exists()
    monthly_runs = IngestionRun.objects.filter(store=store, source=IngestionRun.Source.MONTHLY)
    in_month = {"store": store, "date__gte": month, "date__lte": last_day}
    if StoreDayFact.objects.filter(**in_month).exclude(run__in=monthly_runs).exists():
        raise MonthEntryRefused(
            {
                "month": _(
                    "This month already has daily figures from exports or a connector; "
                    "upload a corrected export instead."
                )
            }
        )
    days = (last_day - month).days + 1
    dates = [month + datetime.timedelta(days=offset) for offset in range(days)]
    rows = [
        {"date": date, "visitors": v, "paying_buyers": b, "gmv": g}
        for date, v, b, g in zip(
            dates,
            spread_count(visitors, days),
            spread_count(paying_buyers, days),
            spread_money(gmv, days),
            strict=True,
        )
    ]
    # The spend an earlier entry of this month wrote goes, whatever its tool: this entry replaces
    # it (ad reports of other sources are left alone).
    stale = StoreDayAdFact.objects.filter(**in_month, run__in=monthly_runs)
    stale._raw_delete(stale.db)
    label = f"{month:%Y-%m}"
    grains = [(Grain.STORE_DAY, rows)]
    if ad_spend is not None:
        ad_rows = [
            {
                "date": date,
                "ad_tool": ad_tool,
                "campaign": str(_("Entered by month")),
                "ad_spend": s,
            }
            for date, s in zip(dates, spread_money(ad_spend, days), strict=True)
        ]
        grains.append((Grain.STORE_DAY_AD, ad_rows))
    runs = []
    for grain, grain_rows in grains:
        run = IngestionRun.objects.create(
            agency_id=store.agency_id,
            store=store,
            source=IngestionRun.Source.MONTHLY,
            grain=grain,
            ad_tool=ad_tool if grain == Grain.STORE_DAY_AD else "",
            filename=str(_("Entered by month %(month)s") % {"month": label}),
            created_by=actor.user,
        )
        run = _process(run, lambda _run, g=grain, r=grain_rows: _checked_rows(g, r))
        if run.status != IngestionRun.Status.SUCCEEDED:
            # Undo the other grain's run too: the entry is all or nothing.
            raise MonthEntryRefused(run.message or _("The month could not be written."))
        runs.append(run)
    return runs


def _checked_rows(grain: str, rows: Iterable[Mapping]):
    checked = rows_check(grain, rows)
    return grain, None, checked, [checked.frame]


def _parsed_file(run: IngestionRun):
    if run.source == IngestionRun.Source.PUSH:
        with run.file.open("rb") as handle:
            rows = json.load(handle)
        if not isinstance(rows, list):
            raise ValidationError(_("A push holds a list of rows."))
        return _checked_rows(run.grain, rows)
    from execution.metrics.parsing import parse_report

    handle = run.file.open("rb")
    report = parse_report(
        handle, filename=run.filename, kind=run.kind if run.kind_override else None
    )
    return report.grain, report.kind, report, report.frames()


def ingestion_run_process(*, run: IngestionRun) -> IngestionRun:
    """Parse and write a queued run (upload, command or push); a finished run is left alone."""
    return _process(run, _parsed_file)


PROGRESS_KEY = "ingestion-progress:{run_id}"


def progress_set(run_id: int, rows: int) -> None:
    """Rows loaded so far by a running run. Kept in the cache (Redis in production), not in the
    run's row: that row is locked by the run's own transaction until it ends."""
    cache.set(PROGRESS_KEY.format(run_id=run_id), rows, timeout=3600)


def progress_get(run_id: int) -> int | None:
    return cache.get(PROGRESS_KEY.format(run_id=run_id))


def _is_duplicate_key(error: Exception) -> bool:
    """A unique-key clash, whether Django wrapped the driver's error or COPY raised it raw."""
    if isinstance(error, IntegrityError):
        return True
    try:
        from psycopg2 import errors as pg_errors
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        return False
    return isinstance(error, pg_errors.UniqueViolation)


def _attempt_start(run: IngestionRun) -> bool:
    """Count one more attempt at an unfinished run and show it "running" (the browser polls), in
    a transaction of its own, committed before any work: a worker killed mid-run leaves the
    count behind. False when the run has used its MAX_ATTEMPTS (or has finished meanwhile).
    Outside a transaction (a task), the update is its own; inside one (the command line, a
    month's entry), the run is new and counts one attempt either way."""
    unfinished = (IngestionRun.Status.QUEUED, IngestionRun.Status.RUNNING)
    started = IngestionRun.objects.filter(
        pk=run.pk, status__in=unfinished, attempts__lt=MAX_ATTEMPTS
    ).update(
        status=IngestionRun.Status.RUNNING,
        started_at=Coalesce("started_at", Value(timezone.now())),
        attempts=F("attempts") + 1,
    )
    return bool(started)


def _attempts_used_up(run: IngestionRun) -> IngestionRun:
    """Fail a run that every one of its MAX_ATTEMPTS deliveries started and none finished: each
    time the process died (the OOM killer, a crash in a parser, the hard time limit) or the
    database went away. Nothing of it was written: each attempt's transaction was rolled back."""
    logger.error("Ingestion run %s failed: %s attempts did not finish", run.pk, run.attempts)
    run.status = IngestionRun.Status.FAILED
    run.message = _(
        "Processing was stopped %(attempts)s times before it could finish; nothing was "
        "written. The file may be too large or damaged: split it into shorter periods and "
        "upload each part, or contact support quoting run #%(run)s."
    ) % {"attempts": run.attempts, "run": run.pk}
    run.rows_written, run.date_start, run.date_end = 0, None, None
    run.finished_at = timezone.now()
    run.save()
    return run


def _process(run: IngestionRun, read) -> IngestionRun:
    # Count the attempt, then work under two locks: the run's row (a second worker given the
    # same run waits, then finds it finished) and the store's row (two runs of one store, e.g.
    # an upload and the beat pull, replace facts one after the other). A delivery that comes
    # while another still works waits on the run's row before it counts, and finds it finished.
    started = _attempt_start(run)
    with transaction.atomic():
        run = IngestionRun.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            return run
        if not started:
            return _attempts_used_up(run)
        Store.objects.select_for_update().filter(pk=run.store_id).exists()
        run.rows_read = run.rows_written = run.rows_skipped = 0
        run.errors, run.errors_total, run.message = [], 0, ""
        try:
            with transaction.atomic():
                grain, kind, report, frames = read(run)
                run.grain, run.kind = grain, kind or run.kind
                run.ad_tool = KIND_AD_TOOL.get(kind, "") if kind else run.ad_tool
                # An export covers a period: its days without rows are replaced too.
                whole_range = run.source in {
                    IngestionRun.Source.UPLOAD,
                    IngestionRun.Source.COMMAND,
                }
                result = facts_replace(
                    run=run,
                    grain=grain,
                    frames=frames,
                    whole_range=whole_range,
                    on_progress=lambda rows, run_id=run.pk: progress_set(run_id, rows),
                )
                run.rows_read, run.rows_skipped = (
                    report.rows_read,
                    getattr(report, "rows_skipped", 0),
                )
                run.unknown_columns = [_storable(name) for name in report.unknown_columns]
                run.errors = [_error_dict(error) for error in report.errors][:1000]
                run.errors_total = getattr(report, "errors_total", len(report.errors))
                if run.errors_total:
                    raise _RunFailed
                run.rows_written = result.rows_written
                run.date_start, run.date_end = result.date_range
        except _RunFailed:
            run.status = IngestionRun.Status.FAILED
            run.message = ngettext(
                "%(count)s row has errors; nothing was written.",
                "%(count)s rows have errors; nothing was written.",
                run.errors_total,
            ) % {"count": run.errors_total}
        except ValidationError as error:
            run.status = IngestionRun.Status.FAILED
            run.message = " ".join(error.messages)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the task is retried and the run processed again
        except SoftTimeLimitExceeded:
            # Celery's soft time limit (settings.base), raised inside the task before the hard
            # limit kills it: the writes are rolled back and the run says why.
            run.status = IngestionRun.Status.FAILED
            run.message = _(
                "Processing took longer than %(minutes)s minutes and was stopped; nothing was "
                "written. Split the file into shorter periods and upload each part."
            ) % {"minutes": settings.CELERY_TASK_SOFT_TIME_LIMIT // 60}
        except Exception as error:
            from execution.metrics.parsing import ReportError

            run.status = IngestionRun.Status.FAILED
            if isinstance(error, ReportError):
                run.message = str(error)
            elif _is_duplicate_key(error):
                run.message = _(
                    "The file repeats a key (the same day and item twice); nothing was written."
                )
            else:
                # A bug or a value the database refuses: the run must not stay "running".
                logger.exception("Ingestion run %s failed unexpectedly", run.pk)
                run.message = _(
                    "The run stopped on an unexpected problem (%(problem)s); nothing was "
                    "written. The error has been logged."
                ) % {"problem": error.__class__.__name__}
        else:
            run.status = IngestionRun.Status.SUCCEEDED
        finally:
            if run.file:
                run.file.close()
        if run.status == IngestionRun.Status.FAILED:
            run.rows_written, run.date_start, run.date_end = 0, None, None
        run.finished_at = timezone.now()
        run.save()
        if run.status == IngestionRun.Status.SUCCEEDED and run.date_start is not None:
            transaction.on_commit(
                lambda run=run: facts_changed.send(
                    sender=IngestionRun,
                    run=run,
                    store_id=run.store_id,
                    date_start=run.date_start,
                    date_end=run.date_end,
                )
            )
    return run


def _storable(text):
    """Text PostgreSQL can hold: a NUL or an unpaired surrogate (possible in pushed JSON) is
    written as its escape, so the run can still record what was wrong."""
    if not isinstance(text, str):
        return text
    text = text.replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _error_dict(error) -> dict:
    if isinstance(error, dict):
        return {key: _storable(value) for key, value in error.items()}
    return {
        "row": error.row,
        "column": _storable(error.column),
        "value": _storable(error.value),
        "message": str(error.message),
    }


__all__ = [
    "KIND_GRAIN",
    "ingestion_enter_month",
    "ingestion_from_path",
    "ingestion_pull",
    "ingestion_push",
    "ingestion_run_process",
    "ingestion_upload",
]
