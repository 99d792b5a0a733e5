"""Fixtures of the diagnostics app that other apps' tests use too (loaded by the root conftest)."""

import pytest

from agency.tenancy import agency_scope
from diagnostics.models import Competitor, DiagnosisReport, Persona, ReportStatus


@pytest.fixture
def make_competitor(db):
    def make(engagement, **fields):
        fields.setdefault("name", f"Competitor {Competitor.objects.unscoped().count() + 1}")
        with agency_scope(engagement.agency_id):
            return Competitor.objects.create(engagement=engagement, **fields)

    return make


@pytest.fixture
def make_persona(db):
    def make(engagement, **fields):
        fields.setdefault("name", f"Persona {Persona.objects.unscoped().count() + 1}")
        with agency_scope(engagement.agency_id):
            return Persona.objects.create(engagement=engagement, **fields)

    return make


@pytest.fixture
def make_report(db):
    """A report version with plain sections; published unless told otherwise."""

    def make(engagement, status=ReportStatus.PUBLISHED, sections=None, **fields):
        with agency_scope(engagement.agency_id):
            latest = DiagnosisReport.objects.filter(engagement=engagement).order_by("-number")
            number = (latest.first().number if latest.exists() else 0) + 1
            return DiagnosisReport.objects.create(
                engagement=engagement,
                number=number,
                title=fields.pop("title", f"Diagnosis v{number}"),
                status=status,
                sections=sections
                or [{"key": "overview", "title": "Overview", "body": "Where the brand stands."}],
                **fields,
            )

    return make


@pytest.fixture
def diagnostics_url_arguments(engagement_a, make_competitor, make_persona, make_report):
    """Which Brand A object fills each URL argument of this app's pages (the isolation check).

    Each call makes a fresh object: the check POSTs to every URL as the agency's admin, and a
    delete (or publish) must not take away the object the next URL needs."""
    return {
        "competitor_id": lambda: make_competitor(engagement_a).pk,
        "persona_id": lambda: make_persona(engagement_a).pk,
        "report_id": lambda: make_report(engagement_a).pk,
    }
