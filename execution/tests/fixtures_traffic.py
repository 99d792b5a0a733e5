"""Fixtures of the traffic area of the execution workspace: factories for campaigns, creatives,
platform events and keywords (written with the ORM inside `agency_scope`, as engagement_a is
still at the diagnosis stage, where the services refuse writes), and the URL arguments of the
isolation check."""

import datetime
import itertools

import pytest
from django.core.files.base import ContentFile

from agency.tenancy import agency_scope
from execution.models import (
    Campaign,
    CampaignCreative,
    Channel,
    EventKind,
    PlatformEvent,
    SearchKeyword,
)

_numbers = itertools.count(1)


@pytest.fixture
def make_campaign(db):
    def make(engagement, **fields):
        fields.setdefault("name", f"直通车 核心词 {next(_numbers)}")
        fields.setdefault("channel", Channel.ZHITONGCHE)
        fields.setdefault("start_date", datetime.date(2026, 9, 1))
        fields.setdefault("end_date", datetime.date(2026, 9, 30))
        with agency_scope(engagement.agency_id):
            return Campaign.objects.create(engagement=engagement, **fields)

    return make


@pytest.fixture
def make_creative(db):
    """A creative with a real PNG file behind it."""
    from tests.images import png_bytes

    def make(campaign, content: bytes | None = None, filename: str = "banner.png", **fields):
        content = png_bytes() if content is None else content
        with agency_scope(campaign.agency_id):
            creative = CampaignCreative(campaign=campaign, **fields)
            creative.filename = filename
            creative.content_type = fields.get("content_type", "image/png")
            creative.size = len(content)
            creative.sha256 = f"{next(_numbers):064d}"
            creative.file.save(creative.sha256, ContentFile(content), save=False)
            creative.save()
            return creative

    return make


@pytest.fixture
def make_event(db):
    def make(agency, **fields):
        fields.setdefault("name", f"双11 {next(_numbers)}")
        fields.setdefault("kind", EventKind.DOUBLE_11)
        fields.setdefault("start_date", datetime.date(2026, 10, 20))
        fields.setdefault("end_date", datetime.date(2026, 11, 11))
        with agency_scope(agency):
            return PlatformEvent.objects.create(agency=agency, **fields)

    return make


@pytest.fixture
def make_keyword(db):
    def make(engagement, **fields):
        fields.setdefault("product_item_id", "600000000001")
        fields.setdefault("product_name", "保湿面霜 50ml")
        fields.setdefault("keyword", f"面霜 {next(_numbers)}")
        with agency_scope(engagement.agency_id):
            return SearchKeyword.objects.create(engagement=engagement, **fields)

    return make


@pytest.fixture
def traffic_url_arguments(
    engagement_a, demo_agency, make_campaign, make_creative, make_event, make_keyword
) -> dict:
    """Which Brand A object fills each URL argument of the traffic pages (the isolation check).
    Each call makes a fresh object: the check POSTs to every URL as the agency's admin, and a
    delete must not take away the object the next URL needs. A platform event belongs to the
    agency, not to a brand: a Brand B user reaches it only through the read-only calendar."""
    return {
        "traffic_campaign_id": lambda: make_campaign(engagement_a).pk,
        "traffic_creative_id": lambda: make_creative(make_campaign(engagement_a)).pk,
        "traffic_event_id": lambda: make_event(demo_agency).pk,
        "traffic_keyword_id": lambda: make_keyword(engagement_a).pk,
    }
