"""Writes of the traffic area (step 4): campaigns and their creatives, the agency's platform event
calendar, search keywords and their ranks.

Every write validates everything first and then writes, inside one transaction: bad input gets a
ValidationError naming the field and the value, and nothing is half-written. Engagement work
(campaigns, creatives, keywords, ranks) is refused with the reason until the workspace is open
(`execution.workspace.workspace_check_writable`); the event calendar belongs to the agency and
is edited by its admins and account managers whatever the engagements' stages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Agency, Membership
from engagements.lifecycle import Service
from engagements.models import Engagement
from execution.files import file_store
from execution.models import (
    Campaign,
    CampaignCreative,
    CampaignStatus,
    Channel,
    EventKind,
    KeywordRank,
    PlatformEvent,
    SearchKeyword,
)
from execution.permissions import can_edit_event_calendar, can_edit_workspace
from execution.traffic.calendar import usual_events
from execution.workspace import workspace_check_writable

NAME_MAX = 200
RANK_MAX = 10_000  # deeper than anyone checks by hand: a typo, not a rank


def _require_workspace_editor(actor: Membership, engagement: Engagement) -> None:
    if not can_edit_workspace(actor) or actor.agency_id != engagement.agency_id:
        raise PermissionDenied
    workspace_check_writable(engagement=engagement, service=Service.TRAFFIC)


def _require_calendar_editor(actor: Membership, agency: Agency) -> None:
    if not can_edit_event_calendar(actor) or actor.agency_id != agency.pk:
        raise PermissionDenied


def _delete_file_on_commit(field_file) -> None:
    """Remove a stored file once the row that pointed at it is gone for good."""
    if field_file and field_file.name:
        storage, name = field_file.storage, field_file.name
        transaction.on_commit(lambda: storage.delete(name))


def _save_values(instance, values: dict):
    """Write checked values onto a row and save it."""
    for field, value in values.items():
        setattr(instance, field, value)
    instance.save()
    return instance


def _date_range_errors(
    start_date: datetime.date | None, end_date: datetime.date | None
) -> dict[str, str]:
    """What is wrong with a start and end date (both required, the end not before the start)."""
    errors: dict[str, str] = {}
    if start_date is None:
        errors["start_date"] = _("Enter the start date.")
    if end_date is None:
        errors["end_date"] = _("Enter the end date.")
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = _("The end date %(end)s is before the start date %(start)s.") % {
            "end": end_date.isoformat(),
            "start": start_date.isoformat(),
        }
    return errors


# --- campaigns -------------------------------------------------------------------------------


def _campaign_clean(
    *,
    engagement: Engagement,
    name: str,
    channel: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    budget: Decimal | None,
    status: str,
    event: PlatformEvent | None,
    goal: str,
    targeting_notes: str,
    ad_campaign_name: str,
    brand_visible: bool,
) -> dict:
    """The checked values of a campaign, or a ValidationError naming every bad field."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the campaign a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("The name is %(length)s characters long; the limit is %(limit)s.") % {
            "length": len(name),
            "limit": NAME_MAX,
        }
    if channel not in Channel.values:
        errors["channel"] = _("“%(value)s” is not a channel.") % {"value": channel}
    if status not in CampaignStatus.values:
        errors["status"] = _("“%(value)s” is not a campaign status.") % {"value": status}
    errors.update(_date_range_errors(start_date, end_date))
    if budget is not None and budget < 0:
        errors["budget"] = _("The budget %(budget)s is negative; enter 0 or more.") % {
            "budget": budget
        }
    if event is not None and event.agency_id != engagement.agency_id:
        # The form only offers the agency's own events; this guards every other caller.
        errors["event"] = _("That platform event is not in your agency's calendar.")
    ad_campaign_name = (ad_campaign_name or "").strip()
    if len(ad_campaign_name) > 255:
        errors["ad_campaign_name"] = _("The name in the ad reports is longer than 255 characters.")
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "channel": channel,
        "start_date": start_date,
        "end_date": end_date,
        "budget": budget,
        "status": status,
        "event": event,
        "goal": (goal or "").strip()[:300],
        "targeting_notes": (targeting_notes or "").strip(),
        "ad_campaign_name": ad_campaign_name,
        "brand_visible": brand_visible,
    }


@transaction.atomic
def campaign_create(
    *,
    actor: Membership,
    engagement: Engagement,
    name: str,
    channel: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    budget: Decimal | None = None,
    status: str = CampaignStatus.PLANNED,
    event: PlatformEvent | None = None,
    goal: str = "",
    targeting_notes: str = "",
    ad_campaign_name: str = "",
    brand_visible: bool = True,
) -> Campaign:
    """A new campaign of the engagement. A campaign on an ad tool whose name matches no ad
    report yet is allowed: its figures appear when the reports do."""
    _require_workspace_editor(actor, engagement)
    values = _campaign_clean(
        engagement=engagement,
        name=name,
        channel=channel,
        start_date=start_date,
        end_date=end_date,
        budget=budget,
        status=status,
        event=event,
        goal=goal,
        targeting_notes=targeting_notes,
        ad_campaign_name=ad_campaign_name,
        brand_visible=brand_visible,
    )
    return Campaign.objects.create(engagement=engagement, created_by=actor.user, **values)


@transaction.atomic
def campaign_update(
    *,
    actor: Membership,
    campaign: Campaign,
    name: str,
    channel: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    budget: Decimal | None = None,
    status: str = CampaignStatus.PLANNED,
    event: PlatformEvent | None = None,
    goal: str = "",
    targeting_notes: str = "",
    ad_campaign_name: str = "",
    brand_visible: bool = True,
) -> Campaign:
    _require_workspace_editor(actor, campaign.engagement)
    values = _campaign_clean(
        engagement=campaign.engagement,
        name=name,
        channel=channel,
        start_date=start_date,
        end_date=end_date,
        budget=budget,
        status=status,
        event=event,
        goal=goal,
        targeting_notes=targeting_notes,
        ad_campaign_name=ad_campaign_name,
        brand_visible=brand_visible,
    )
    return _save_values(campaign, values)


@transaction.atomic
def campaign_delete(*, actor: Membership, campaign: Campaign) -> None:
    _require_workspace_editor(actor, campaign.engagement)
    for creative in CampaignCreative.objects.filter(campaign=campaign):
        _delete_file_on_commit(creative.file)
    campaign.delete()


# --- creatives -------------------------------------------------------------------------------


@transaction.atomic
def creative_add(
    *, actor: Membership, campaign: Campaign, upload: File | None, title: str = ""
) -> CampaignCreative:
    """Attach a creative to a campaign; the file is checked by its content (execution.files)."""
    _require_workspace_editor(actor, campaign.engagement)
    if upload is None:
        raise ValidationError({"file": _("Choose a file to upload.")})
    title = (title or "").strip()
    if len(title) > NAME_MAX:
        raise ValidationError(
            {
                "title": _("The title is %(length)s characters long; the limit is %(limit)s.")
                % {"length": len(title), "limit": NAME_MAX}
            }
        )
    creative = CampaignCreative(
        campaign=campaign, agency_id=campaign.agency_id, title=title, created_by=actor.user
    )
    file_store(instance=creative, upload=upload)
    try:
        creative.save()
    except Exception:
        # The file is on disk already; nothing may point at it, so take it away again.
        creative.file.storage.delete(creative.file.name)
        raise
    return creative


@transaction.atomic
def creative_delete(*, actor: Membership, creative: CampaignCreative) -> None:
    _require_workspace_editor(actor, creative.campaign.engagement)
    _delete_file_on_commit(creative.file)
    creative.delete()


# --- the platform event calendar -------------------------------------------------------------


def _event_clean(
    *,
    name: str,
    kind: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    notes: str,
) -> dict:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the event a name.")
    elif len(name) > 100:
        errors["name"] = _("The name is %(length)s characters long; the limit is %(limit)s.") % {
            "length": len(name),
            "limit": 100,
        }
    if kind not in EventKind.values:
        errors["kind"] = _("“%(value)s” is not a kind of event.") % {"value": kind}
    errors.update(_date_range_errors(start_date, end_date))
    notes = (notes or "").strip()
    if len(notes) > 300:
        errors["notes"] = _("The notes are %(length)s characters long; the limit is %(limit)s.") % {
            "length": len(notes),
            "limit": 300,
        }
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "kind": kind,
        "start_date": start_date,
        "end_date": end_date,
        "notes": notes,
    }


@transaction.atomic
def platform_event_create(
    *,
    actor: Membership,
    agency: Agency,
    name: str,
    kind: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    notes: str = "",
) -> PlatformEvent:
    _require_calendar_editor(actor, agency)
    values = _event_clean(
        name=name, kind=kind, start_date=start_date, end_date=end_date, notes=notes
    )
    return PlatformEvent.objects.create(agency=agency, **values)


@transaction.atomic
def platform_event_update(
    *,
    actor: Membership,
    event: PlatformEvent,
    name: str,
    kind: str,
    start_date: datetime.date | None,
    end_date: datetime.date | None,
    notes: str = "",
) -> PlatformEvent:
    _require_calendar_editor(actor, event.agency)
    values = _event_clean(
        name=name, kind=kind, start_date=start_date, end_date=end_date, notes=notes
    )
    return _save_values(event, values)


@transaction.atomic
def platform_event_delete(*, actor: Membership, event: PlatformEvent) -> None:
    """Delete an event; its campaigns stay, no longer tied to it."""
    _require_calendar_editor(actor, event.agency)
    event.delete()


@transaction.atomic
def platform_events_seed_usual(
    *, actor: Membership | None, agency: Agency, year: int
) -> tuple[list[PlatformEvent], list[str]]:
    """Add the usual events of `year` (年货节, 38节, 618, 99划算节, 双11, 双12) with approximate
    dates for the agency to adjust. Idempotent: an event of the same kind that already has the
    usual name or overlaps the usual dates counts as there (edited dates included), so a second
    run adds nothing. Returns (created events, notes on what could not be added). `actor` None
    is the demo loader."""
    if actor is not None:
        _require_calendar_editor(actor, agency)
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("%(year)s is not a year to plan for.") % {"year": year}})
    planned, notes = usual_events(year)
    existing = list(
        PlatformEvent.objects.filter(
            agency=agency,
            start_date__lte=datetime.date(year + 1, 1, 31),
            end_date__gte=datetime.date(year - 1, 12, 1),
        )
    )
    created = []
    for usual in planned:
        already = any(
            event.kind == usual.kind
            and (
                event.name == usual.name
                or (event.start_date <= usual.end_date and event.end_date >= usual.start_date)
            )
            for event in existing
        )
        if already:
            continue
        event = PlatformEvent.objects.create(
            agency=agency,
            name=usual.name,
            kind=usual.kind,
            start_date=usual.start_date,
            end_date=usual.end_date,
            notes=usual.notes,
        )
        existing.append(event)
        created.append(event)
    return created, notes


# --- search keywords and ranks ---------------------------------------------------------------


def _keyword_clean(
    *,
    engagement: Engagement,
    product_item_id: str,
    product_name: str,
    keyword: str,
    search_volume: int | None,
    target_rank: int | None,
    exclude_pk: int | None = None,
) -> dict:
    errors: dict[str, str] = {}
    product_item_id = (product_item_id or "").strip()
    keyword = " ".join((keyword or "").split())
    product_name = (product_name or "").strip()
    if not product_item_id:
        errors["product_item_id"] = _("Enter the product's item id.")
    elif len(product_item_id) > 40 or not product_item_id.isdigit():
        errors["product_item_id"] = _(
            "“%(value)s” is not a Tmall item id (digits only, up to 40)."
        ) % {"value": product_item_id[:60]}
    if not keyword:
        errors["keyword"] = _("Enter the keyword.")
    elif len(keyword) > 100:
        errors["keyword"] = _(
            "The keyword is %(length)s characters long; the limit is %(limit)s."
        ) % {
            "length": len(keyword),
            "limit": 100,
        }
    if len(product_name) > NAME_MAX:
        errors["product_name"] = _(
            "The product name is %(length)s characters long; the limit is %(limit)s."
        ) % {"length": len(product_name), "limit": NAME_MAX}
    if search_volume is not None and search_volume < 0:
        errors["search_volume"] = _("The search volume %(value)s is negative; enter 0 or more.") % {
            "value": search_volume
        }
    if target_rank is not None and not 1 <= target_rank <= RANK_MAX:
        errors["target_rank"] = _("The target rank %(value)s is not between 1 and %(max)s.") % {
            "value": target_rank,
            "max": RANK_MAX,
        }
    if not errors:
        duplicate = SearchKeyword.objects.filter(
            engagement=engagement, product_item_id=product_item_id, keyword=keyword
        )
        if exclude_pk is not None:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            errors["keyword"] = _("“%(keyword)s” is already tracked for item %(item)s.") % {
                "keyword": keyword,
                "item": product_item_id,
            }
    if errors:
        raise ValidationError(errors)
    return {
        "product_item_id": product_item_id,
        "product_name": product_name,
        "keyword": keyword,
        "search_volume": search_volume,
        "target_rank": target_rank,
    }


@transaction.atomic
def keyword_create(
    *,
    actor: Membership,
    engagement: Engagement,
    product_item_id: str,
    keyword: str,
    product_name: str = "",
    search_volume: int | None = None,
    target_rank: int | None = None,
) -> SearchKeyword:
    _require_workspace_editor(actor, engagement)
    values = _keyword_clean(
        engagement=engagement,
        product_item_id=product_item_id,
        product_name=product_name,
        keyword=keyword,
        search_volume=search_volume,
        target_rank=target_rank,
    )
    return SearchKeyword.objects.create(engagement=engagement, **values)


@transaction.atomic
def keyword_update(
    *,
    actor: Membership,
    keyword: SearchKeyword,
    product_item_id: str,
    keyword_text: str,
    product_name: str = "",
    search_volume: int | None = None,
    target_rank: int | None = None,
) -> SearchKeyword:
    _require_workspace_editor(actor, keyword.engagement)
    values = _keyword_clean(
        engagement=keyword.engagement,
        product_item_id=product_item_id,
        product_name=product_name,
        keyword=keyword_text,
        search_volume=search_volume,
        target_rank=target_rank,
        exclude_pk=keyword.pk,
    )
    return _save_values(keyword, values)


@transaction.atomic
def keyword_delete(*, actor: Membership, keyword: SearchKeyword) -> None:
    """Delete a keyword and its rank history."""
    _require_workspace_editor(actor, keyword.engagement)
    keyword.delete()


def _check_rank_date(date: datetime.date | None, field: str = "date") -> None:
    if date is None:
        raise ValidationError({field: _("Enter the date the ranks were checked.")})
    if date > timezone.localdate():
        raise ValidationError(
            {
                field: _("%(date)s is in the future; ranks are recorded once checked.")
                % {"date": date.isoformat()}
            }
        )


def _ranks_write(rows: list[tuple[SearchKeyword, datetime.date, int | None]]) -> int:
    """Upsert (keyword, date) -> rank in one statement: a rank on a date already recorded
    replaces it."""
    if not rows:
        return 0
    KeywordRank.objects.bulk_create(
        [
            KeywordRank(keyword=keyword, agency_id=keyword.agency_id, date=date, rank=rank)
            for keyword, date, rank in rows
        ],
        update_conflicts=True,
        unique_fields=["agency", "keyword", "date"],
        update_fields=["rank"],
    )
    return len(rows)


@transaction.atomic
def keyword_ranks_record(
    *,
    actor: Membership,
    engagement: Engagement,
    date: datetime.date | None,
    ranks: dict[int, int | None],
) -> int:
    """Record one day's ranks for the engagement's keywords at once: `ranks` maps a keyword's id
    to its rank, None for "not found in the positions checked". A rank on a date already
    recorded replaces it. Returns the number of ranks written."""
    _require_workspace_editor(actor, engagement)
    _check_rank_date(date)
    keywords = {
        keyword.pk: keyword for keyword in SearchKeyword.objects.filter(engagement=engagement)
    }
    errors: dict[str, str] = {}
    rows = []
    for keyword_id, rank in ranks.items():
        keyword = keywords.get(keyword_id)
        if keyword is None:
            errors["__all__"] = _("A keyword of the form is not tracked for this engagement.")
            continue
        if rank is not None and not 1 <= rank <= RANK_MAX:
            errors[f"rank_{keyword_id}"] = _(
                "“%(keyword)s”: rank %(value)s is not between 1 and %(max)s."
            ) % {"keyword": keyword.keyword, "value": rank, "max": RANK_MAX}
            continue
        rows.append((keyword, date, rank))
    if errors:
        raise ValidationError(errors)
    return _ranks_write(rows)


@transaction.atomic
def keyword_ranks_import(*, actor: Membership, engagement: Engagement, upload: File) -> int:
    """Import a rank CSV (date, item id, keyword, rank): every row is checked first, and any
    error refuses the whole file, naming row, column and value (execution.traffic.ranks_csv)."""
    from execution.traffic.ranks_csv import RankFileError, rank_rows_parse

    _require_workspace_editor(actor, engagement)
    keywords = {
        (keyword.product_item_id, keyword.keyword): keyword
        for keyword in SearchKeyword.objects.filter(engagement=engagement)
    }
    try:
        parsed = rank_rows_parse(upload, today=timezone.localdate())
    except RankFileError as error:
        raise ValidationError({"file": error.messages}) from error
    errors = []
    rows = []
    for row in parsed:
        keyword = keywords.get((row.item_id, row.keyword))
        if keyword is None:
            errors.append(
                _(
                    "Row %(row)s, column keyword: “%(keyword)s” is not tracked for item %(item)s; "
                    "add it first."
                )
                % {"row": row.line, "keyword": row.keyword, "item": row.item_id}
            )
            continue
        rows.append((keyword, row.date, row.rank))
    if errors:
        raise ValidationError({"file": errors[:20]})
    return _ranks_write(rows)
