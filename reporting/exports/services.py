"""The data handover's service (write a file and record it) and its reads (what an export holds,
who may take which, the history, the file name).

Who may download: agency staff (any staff role) the brand export and the internal one; the
brand's owners and viewers the brand export of their own brand's engagements, because it holds
exactly what both already read in the portal (and the record says who took it). The internal
export is staff data: a brand user asking for it is refused.
"""

from __future__ import annotations

import datetime
import hashlib
import zoneinfo
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agency.audit import audit_record
from agency.models import AuditAction, AuditTarget, Membership, Role
from engagements.models import Engagement
from reporting.exports.tables import Table, data_last_day, export_tables
from reporting.exports.writers import write_csv_zip, write_xlsx
from reporting.models import ExportAudience, ExportFormat, ExportRecord

HASH_CHUNK = 1024 * 1024
FILENAME_UNSAFE = str.maketrans({character: "-" for character in '\\/:*?"<>|'})


class ExportRefused(ValidationError):
    """An export asked for with a bad format or audience, or by someone who may not have it."""


# --- who may take what ------------------------------------------------------------------------


def can_export(membership: Membership, engagement: Engagement, audience: str) -> bool:
    """Staff: both audiences. Brand owners and viewers of the engagement's brand: the brand
    export."""
    if membership.is_staff_member:
        return True
    if membership.role not in (Role.BRAND_OWNER, Role.BRAND_VIEWER):
        return False
    if audience != ExportAudience.BRAND:
        return False
    return membership.brands.filter(pk=engagement.store.brand_id).exists()


def export_audiences_for(membership: Membership) -> list[str]:
    if membership.is_staff_member:
        return [ExportAudience.BRAND, ExportAudience.INTERNAL]
    return [ExportAudience.BRAND]


def export_validate(
    *, actor: Membership | None, engagement: Engagement, audience: str, file_format: str
) -> None:
    """Refuse, naming the field, before anything is written."""
    if file_format not in ExportFormat.values:
        raise ExportRefused(
            {
                "file_format": _("Unknown format “%(value)s”: choose xlsx or zip.")
                % {"value": file_format}
            }
        )
    if audience not in ExportAudience.values:
        raise ExportRefused(
            {
                "audience": _("Unknown audience “%(value)s”: choose brand or internal.")
                % {"value": audience}
            }
        )
    if actor is not None and not can_export(actor, engagement, audience):
        raise ExportRefused(
            {"audience": _("Only agency staff may export the internal data.")},
            code="forbidden",
        )


# --- the file -------------------------------------------------------------------------------


def _agency_today(engagement: Engagement) -> datetime.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(engagement.agency.time_zone))


def export_filename(*, engagement: Engagement, file_format: str, day: datetime.date) -> str:
    """`<brand>_<engagement title>_<date>.<format>`, e.g. `brand-a_全链路增长_2026-11-28.xlsx`;
    Chinese kept, characters no file system takes replaced."""
    brand = slugify(engagement.store.brand.name, allow_unicode=True) or f"brand-{engagement.pk}"
    title = "-".join(engagement.title.translate(FILENAME_UNSAFE).split())
    title = "".join(character for character in title if character.isprintable())[:80]
    title = title.strip(".-") or f"engagement-{engagement.pk}"
    return f"{brand}_{title}_{day.isoformat()}.{file_format}"


def export_ascii_filename(filename: str, engagement: Engagement) -> str:
    """The fallback for clients that ignore `filename*`: ASCII only."""
    stem, _dot, extension = filename.rpartition(".")
    ascii_stem = slugify(stem.replace("_", "-")) or f"engagement-{engagement.pk}"
    return f"{ascii_stem}.{extension}"


def export_readme(*, engagement: Engagement, audience: str, tables: list[Table]) -> str:
    """README.txt of the ZIP (bilingual, and the same whatever the reader's language, so the
    same data gives the same file)."""
    last_day = engagement.end_date or data_last_day(engagement)
    lines = [
        "数据交接 / Data handover",
        "",
        f"品牌 Brand: {engagement.store.brand.name}",
        f"店铺 Store: {engagement.store.name}",
        f"项目 Engagement: {engagement.title}",
        f"数据期间 Period: {engagement.start_date.isoformat()} – "
        f"{last_day.isoformat() if last_day else '-'}",
        f"范围 Audience: {audience}",
        "",
        "每个CSV文件为UTF-8（带BOM）编码，第一行为表头：“中文名 english_key”。",
        "Each CSV file is UTF-8 with a BOM; its first row is the header, each column headed",
        '"<Chinese> <english_key>". Money in CNY with 2 decimals; dates as YYYY-MM-DD; ratios',
        "as fractions; coded values (channel, status, kind, tier) as stored codes. Text that",
        "starts with = + - @ (or a tab, CR or NUL) has a ' in front, so no spreadsheet runs it.",
        "",
    ]
    for table in tables:
        lines.append(f"{table.filename}  {table.zh}: {table.description}")
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True)
class ExportContents:
    """What an export holds: each table's key, names and row count."""

    key: str
    zh: str
    description: str
    rows: int


def export_contents(*, engagement: Engagement, audience: str) -> list[ExportContents]:
    return [
        ExportContents(
            key=table.key, zh=table.zh, description=table.description, rows=table.count()
        )
        for table in export_tables(engagement=engagement, audience=audience)
    ]


def export_period(*, engagement: Engagement) -> tuple[datetime.date, datetime.date | None]:
    """The facts' range: the engagement's start to its end, or to the last day of data."""
    return engagement.start_date, engagement.end_date or data_last_day(engagement)


def _sha256(stream: IO[bytes]) -> tuple[str, int]:
    stream.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def export_create(
    *,
    actor: Membership | None,
    engagement: Engagement,
    audience: str,
    file_format: str,
    destination: IO[bytes],
    filename: str | None = None,
) -> ExportRecord:
    """Write the engagement's data handover into `destination` (a seekable binary file opened
    for writing and reading) and record it: who (None from the command line without --user),
    audience, format, rows per table, size and SHA-256. Refused, with nothing written or
    recorded, for a bad format or audience or an audience the actor may not have."""
    export_validate(actor=actor, engagement=engagement, audience=audience, file_format=file_format)
    tables = export_tables(engagement=engagement, audience=audience)
    if file_format == ExportFormat.XLSX:
        counts = write_xlsx(tables, destination)
    else:
        readme = export_readme(engagement=engagement, audience=audience, tables=tables)
        counts = write_csv_zip(tables, destination, readme)
    destination.flush()
    sha256, size = _sha256(destination)
    destination.seek(0)
    filename = filename or export_filename(
        engagement=engagement, file_format=file_format, day=_agency_today(engagement)
    )
    record = ExportRecord.objects.create(
        engagement=engagement,
        requested_by=actor.user if actor is not None else None,
        audience=audience,
        file_format=file_format,
        filename=filename,
        row_counts=counts,
        size=size,
        sha256=sha256,
    )
    audit_record(
        agency=engagement.agency_id,
        action=AuditAction.EXPORT_DOWNLOADED,
        actor=actor,
        target_type=AuditTarget.ENGAGEMENT,
        target_id=engagement.pk,
        target=engagement.title,
        detail={
            "export_id": record.pk,
            "audience": audience,
            "file_format": file_format,
            "filename": filename,
            "rows": sum(counts.values()),
            "sha256": sha256,
        },
    )
    return record


# --- reads ----------------------------------------------------------------------------------


def export_history(*, membership: Membership, engagement: Engagement) -> QuerySet[ExportRecord]:
    """The engagement's exports, newest first: all for staff; the brand exports for brand
    users (an internal export is staff information)."""
    records = ExportRecord.objects.filter(engagement=engagement).select_related("requested_by")
    if not membership.is_staff_member:
        records = records.filter(audience=ExportAudience.BRAND)
    return records.order_by("-created_at", "-pk")
