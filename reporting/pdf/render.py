"""Render a report template to PDF bytes with WeasyPrint, without ever touching the network.

The document may only load `data:` URIs and the portal's own static files, read from disk
(`PortalURLFetcher`): a narrative or a logo that names a remote address is not fetched, so
rendering a PDF can neither leak the reader's network position nor hang on a slow host. The
agency's logo is read from storage and embedded as a data URI; its primary colour (validated
again here, it lands in CSS) tints the headings and charts.

Footers: every page carries the report's title and date range (a running element, so the text
is HTML-escaped like any other) and "Page N of M" in the reader's language (CSS counters; the
translated words become CSS strings, escaped).
"""

from __future__ import annotations

import base64
import datetime
import logging
import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from agency.models import Agency

logger = logging.getLogger(__name__)

# Relative and root-relative URLs in a report resolve against this made-up origin; the fetcher
# serves `<origin><STATIC_URL>…` from the static files on disk and refuses everything else.
# `.invalid` is reserved (RFC 2606): even a fetcher that went to the network could not reach it.
PORTAL_ORIGIN = "https://portal.invalid"
DEFAULT_COLOUR = "#c81623"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Larger logos are left out rather than bloating every page of every PDF.
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class RefusedFetch(ValueError):
    """A document asked for a resource that a PDF may not load."""


class PortalURLFetcher(URLFetcher):
    """Loads `data:` URIs and the portal's static files; refuses every other address.

    WeasyPrint catches the refusal, logs it and leaves the resource out (an image shows its alt
    text), so a hostile address in user text costs the reader nothing. `refused` records what was
    refused, for the tests and the logs."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        static_prefix = PORTAL_ORIGIN + settings.STATIC_URL
        if url.startswith(static_prefix):
            return self._static(url[len(static_prefix) :], url)
        if url.lower().startswith("data:"):
            return super().fetch(url, headers)
        self.refused.append(url)
        logger.info("pdf: refused to fetch %s", url[:200])
        raise RefusedFetch(f"PDF documents load no external resource: {url[:200]}")

    def _static(self, relative: str, url: str) -> URLFetcherResponse:
        relative = relative.split("?", 1)[0].split("#", 1)[0]
        try:
            found = finders.find(relative) if relative and ".." not in relative else None
        except SuspiciousFileOperation:
            found = None
        if not found:
            self.refused.append(url)
            raise RefusedFetch(f"No such static file: {relative[:200]}")
        path = Path(found)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def agency_colour(agency: Agency) -> str:
    colour = agency.primary_color or ""
    return colour if COLOUR.match(colour) else DEFAULT_COLOUR


def logo_data_uri(agency: Agency) -> str:
    """The agency's logo as a `data:` URI read from storage; "" when it has none, it is missing
    from storage, too large or not a web image type (the PDF then shows the agency's name)."""
    if not agency.logo:
        return ""
    content_type = mimetypes.guess_type(agency.logo.name)[0] or ""
    if content_type not in LOGO_TYPES:
        return ""
    try:
        with agency.logo.storage.open(agency.logo.name, "rb") as stored:
            raw = stored.read(LOGO_MAX_BYTES + 1)
    except OSError:
        logger.warning("pdf: the logo of agency %s is missing from storage", agency.pk)
        return ""
    if len(raw) > LOGO_MAX_BYTES:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(raw).decode('ascii')}"


def period_text(period: tuple[datetime.date, datetime.date | None] | None) -> str:
    """ "2026-09-01 – 2026-09-30", one date when the report covers a day, "from 2026-01-01" for
    an open end (an engagement without an end date), "" without a range."""
    if not period or period[0] is None:
        return ""
    start, end = period
    first = formats.date_format(start, "Y-m-d")
    if end is None:
        return _("from %(date)s") % {"date": first}
    if end == start:
        return first
    return f"{first} – {formats.date_format(end, 'Y-m-d')}"


def _css_string(text: str) -> str:
    """A CSS string literal. `<` is escaped too: the stylesheet sits inside an HTML <style>."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in '\\"<>\n\r\f' or ord(char) < 32 else char for char in text
    )
    return f'"{escaped}"'


def page_number_content() -> str:
    """The CSS `content` value of "Page N of M" in the active language, with counters."""
    page, pages = "\x00page\x00", "\x00pages\x00"
    text = _("Page %(page)s of %(pages)s") % {"page": page, "pages": pages}
    parts = []
    for piece in re.split(r"(\x00pages?\x00)", text):
        if piece == page:
            parts.append("counter(page)")
        elif piece == pages:
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def pdf_render(
    *,
    template: str,
    context: dict,
    agency: Agency,
    title: str,
    period: tuple[datetime.date, datetime.date | None] | None,
    fetcher: PortalURLFetcher | None = None,
) -> bytes:
    """The report `template` (which extends `reporting/pdf/base.html`) as PDF bytes, in the
    active language: A4, the agency's logo and colour, `title` on the first page and, with the
    date range of `period`, in every page's footer beside "Page N of M"."""
    document_context = {
        **context,
        "agency": agency,
        "pdf_title": title,
        "pdf_period": period_text(period),
        "pdf_colour": agency_colour(agency),
        "pdf_logo": logo_data_uri(agency),
        "pdf_page_numbers": page_number_content(),
        "pdf_language": get_language() or settings.LANGUAGE_CODE,
    }
    html = render_to_string(template, document_context)
    return HTML(
        string=html,
        base_url=PORTAL_ORIGIN + "/",
        url_fetcher=fetcher or PortalURLFetcher(),
    ).write_pdf()
