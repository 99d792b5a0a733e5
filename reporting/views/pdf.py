"""Every report as a PDF download. Each view loads its object through the same getter as the
HTML page it mirrors, so the access rules are the same: a brand user gets the diagnosis once
published, proposal versions once sent, their brand's briefs and published reviews; drafts are
staff only; anything of another brand or agency is a 404 like everywhere else. A full review or
long-term plan reaches a brand user once published; the brand's full review leaves out the
timeline's internal entries."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.http import HttpResponse, HttpResponseNotAllowed

from diagnostics.selectors import report_get_for
from engagements.selectors import engagement_get_for
from proposals.selectors import version_get_for
from reporting import reviews
from reporting.briefs.selectors import brief_get_for
from reporting.full_review.plan import plan_get_for
from reporting.full_review.services import full_review_get_for
from reporting.pdf import documents
from reporting.pdf.render import pdf_render


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download (RFC 6266). An ASCII name goes as it is; another (a
    Chinese title) goes as `filename*` (RFC 5987) with an ASCII `filename` for old clients.
    `filename` comes from `documents.pdf_filename`: no quotes, backslashes or control
    characters."""
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    stem = re.sub(r"[^A-Za-z0-9._]+", "-", filename.removesuffix(".pdf")).strip("-._")
    return f"attachment; filename=\"{stem or 'report'}.pdf\"; filename*=utf-8''{quote(filename)}"


def _pdf_response(request, document: documents.PdfDocument) -> HttpResponse:
    """The document as an attachment. Called after the lookup: a stranger's POST is a 404, the
    owner's a 405."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    pdf = pdf_render(
        template=document.template,
        context=document.context,
        agency=request.agency,
        title=document.title,
        period=document.period,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = attachment_header(document.filename)
    # A report may hold figures the brand does not share: no shared cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def diagnosis_pdf(request, engagement_id: int, report_id: int):
    engagement = engagement_get_for(membership=request.membership, engagement_id=engagement_id)
    report = report_get_for(
        membership=request.membership, engagement=engagement, report_id=report_id
    )
    return _pdf_response(
        request, documents.diagnosis_document(engagement=engagement, report=report)
    )


def proposal_pdf(request, version_id: int):
    version = version_get_for(membership=request.membership, version_id=version_id)
    return _pdf_response(request, documents.proposal_document(version=version))


def brief_pdf(request, brief_id: int):
    brief = brief_get_for(membership=request.membership, brief_id=brief_id)
    return _pdf_response(request, documents.brief_document(brief=brief))


def review_pdf(request, review_id: int):
    review = reviews.review_get_for(membership=request.membership, review_id=review_id)
    return _pdf_response(request, documents.review_document(review=review))


def full_review_pdf(request, full_review_id: int):
    review = full_review_get_for(membership=request.membership, full_review_id=full_review_id)
    brand_view = not request.membership.is_staff_member
    return _pdf_response(
        request, documents.full_review_document(review=review, brand_view=brand_view)
    )


def plan_pdf(request, plan_id: int):
    plan = plan_get_for(membership=request.membership, plan_id=plan_id)
    return _pdf_response(request, documents.plan_document(plan=plan))
