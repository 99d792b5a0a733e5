"""The data handover page: what the export holds (tables and row counts), the form that
downloads it (format; audience for staff), and the history of exports. A POST answers with the
file as an attachment; bad input answers 400 with the reason, and records nothing."""

from __future__ import annotations

import tempfile
import urllib.parse

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import render

from agency.views import apply_validation_error
from engagements import selectors as engagement_selectors
from reporting.exports import services
from reporting.forms.exports import ExportForm
from reporting.models import ExportAudience, ExportFormat

CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.ZIP: "application/zip",
}
# Above this the file goes from memory to a temporary file on disk.
SPOOL_BYTES = 8 * 1024 * 1024


def content_disposition(filename: str, ascii_filename: str) -> str:
    """An attachment with the ASCII fallback and the UTF-8 name (RFC 5987 / RFC 6266)."""
    quoted = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{ascii_filename}\"; filename*=UTF-8''{quoted}"


def _page(request, engagement, form, status: int = 200):
    membership = request.membership
    audiences = services.export_audiences_for(membership)
    contents = {
        audience: services.export_contents(engagement=engagement, audience=audience)
        for audience in audiences
    }
    rows = [
        {"table": table, "counts": [contents[audience][index].rows for audience in audiences]}
        for index, table in enumerate(contents[ExportAudience.BRAND])
    ]
    start, end = services.export_period(engagement=engagement)
    context = {
        "engagement": engagement,
        "form": form,
        "errors": [str(message) for messages in form.errors.values() for message in messages],
        "audiences": [ExportAudience(audience) for audience in audiences],
        "rows": rows,
        "period_start": start,
        "period_end": end,
        "history": services.export_history(membership=membership, engagement=engagement),
    }
    return render(request, "reporting/exports/handover.html", context, status=status)


def handover(request, engagement_id: int):
    """GET: the page. POST: the file, recorded."""
    membership = request.membership
    engagement = engagement_selectors.engagement_get_for(
        membership=membership, engagement_id=engagement_id
    )
    staff = membership.is_staff_member
    if request.method != "POST":
        return _page(request, engagement, ExportForm(staff=staff))
    form = ExportForm(request.POST, staff=staff)
    if form.is_valid():
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
        try:
            with transaction.atomic():
                record = services.export_create(
                    actor=membership,
                    engagement=engagement,
                    audience=form.cleaned_data["audience"],
                    file_format=form.cleaned_data["file_format"],
                    destination=spool,
                )
        except ValidationError as error:
            spool.close()
            apply_validation_error(form, error)
        else:
            response = FileResponse(spool, content_type=CONTENT_TYPES[record.file_format])
            response["Content-Disposition"] = content_disposition(
                record.filename, services.export_ascii_filename(record.filename, engagement)
            )
            response["Content-Length"] = str(record.size)
            response["X-Export-Sha256"] = record.sha256
            return response
    return _page(request, engagement, form, status=400)
