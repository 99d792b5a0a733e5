"""Fixtures of the setup area of the execution workspace (loaded by the root conftest)."""

import functools
import io

import pytest
from django.core.files.base import ContentFile

from agency.models import Notification
from agency.tenancy import agency_scope
from execution.models.setup import SetupEvidence, SetupItem, SetupTemplate, SetupTemplateItem


@functools.cache
def pdf_bytes() -> bytes:
    """A small real PDF for upload tests (made once: the PDF carries its creation time)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def notification_titles(agency, membership) -> list[str]:
    """The titles of the notifications a member received, oldest first."""
    with agency_scope(agency):
        return list(
            Notification.objects.filter(user=membership.user)
            .order_by("pk")
            .values_list("title", flat=True)
        )


@pytest.fixture
def make_setup_item(db):
    def make(engagement, title="Business licence (营业执照)", **fields):
        fields.setdefault("section", "qualification")
        with agency_scope(engagement.agency_id):
            return SetupItem.objects.create(engagement=engagement, title=title, **fields)

    return make


@pytest.fixture
def make_setup_evidence(db):
    """Evidence on an item; with a PDF file unless `note` or `url` is given."""

    def make(item, *, created_by=None, **fields):
        with agency_scope(item.agency_id):
            evidence = SetupEvidence(item=item, agency_id=item.agency_id, created_by=created_by)
            if not fields:
                from execution.files import file_store

                file_store(instance=evidence, upload=ContentFile(pdf_bytes(), name="licence.pdf"))
            for name, value in fields.items():
                setattr(evidence, name, value)
            evidence.save()
            return evidence

    return make


@pytest.fixture
def make_setup_template(db):
    def make(agency, name="Flagship launch", situation="new", items=(), **fields):
        with agency_scope(agency):
            template = SetupTemplate.objects.create(
                agency=agency, name=name, situation=situation, **fields
            )
            for position, item in enumerate(items, start=1):
                SetupTemplateItem.objects.create(template=template, position=position, **item)
            return template

    return make


@pytest.fixture
def setup_url_arguments(engagement_a, make_setup_item, make_setup_evidence, make_setup_template):
    """Which Brand A object (or demo-agency template) fills each URL argument of the setup pages
    (tests/test_isolation.py). Each call makes a fresh object: the check POSTs to every URL as
    the agency's admin, and a delete must not take away what the next URL needs."""
    agency = engagement_a.agency
    names = iter(range(1, 1_000_000))

    def template_id():
        return make_setup_template(agency, name=f"Isolation template {next(names)}").pk

    def template_item_id():
        template = make_setup_template(
            agency,
            name=f"Isolation template {next(names)}",
            items=[{"section": "visual", "title": "Homepage (首页)"}],
        )
        with agency_scope(agency):
            return SetupTemplateItem.objects.get(template=template).pk

    return {
        "setup_template_id": template_id,
        "setup_template_item_id": template_item_id,
        "setup_item_id": lambda: make_setup_item(engagement_a).pk,
        "setup_evidence_id": lambda: make_setup_evidence(make_setup_item(engagement_a)).pk,
    }


@pytest.fixture
def setup_engagement(make_engagement, store_a, demo_manager):
    """Brand A's engagement in execution (store setup), full service."""
    from engagements.lifecycle import Stage

    return make_engagement(store_a, demo_manager, stage=Stage.SETUP, title="Brand A 开店")
