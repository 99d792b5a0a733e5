"""Writes of the diagnosis: intake, competitors, personas, monthly figures and report versions.

Every function checks the actor's right and validates everything before it writes; a refusal is a
`ValidationError` naming the field, in the user's words, and leaves nothing changed. Report
versions follow one rule: a published version is never edited; changing the report afterwards
starts a new draft copied from the latest version (`diagnosis_report_new_draft`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agency.models import Membership
from diagnostics import permissions, selectors
from diagnostics.models import (
    AgeBand,
    Competitor,
    DiagnosisIntake,
    DiagnosisReport,
    Persona,
    ReportStatus,
)
from diagnostics.report_builder import report_sections_build, report_title
from engagements.models import Engagement, Goal
from execution.metrics.ingestion import ingestion_enter_month
from execution.models import IngestionRun

MAX_SECTIONS = 30
MAX_SECTION_BODY = 20_000


def _check_edit(actor: Membership, engagement: Engagement) -> None:
    if not permissions.can_edit_diagnosis(actor, engagement):
        raise PermissionDenied


def _check_money(errors: dict, name: str, value: Decimal | None) -> None:
    if value is not None and value < 0:
        errors[name] = _("Enter an amount of zero or more.")


def _check_range(errors: dict, low_name: str, low, high_name: str, high, message: str) -> None:
    if low is not None and high is not None and low > high and high_name not in errors:
        errors[high_name] = message


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# --- intake ------------------------------------------------------------------------------------


@transaction.atomic
def diagnosis_intake_save(
    *,
    actor: Membership,
    engagement: Engagement,
    goal: str,
    goal_notes: str = "",
    budget_min: Decimal | None = None,
    budget_max: Decimal | None = None,
    budget_notes: str = "",
    category: str = "",
    price_low: Decimal | None = None,
    price_high: Decimal | None = None,
    average_order_value: Decimal | None = None,
    advantages: str = "",
    has_tmall_store: bool = False,
    past_operations: str = "",
) -> DiagnosisIntake:
    """Create or replace the engagement's intake (one per engagement)."""
    _check_edit(actor, engagement)
    errors: dict = {}
    if goal not in Goal.values:
        errors["goal"] = _("Choose a goal from the list.")
    for name, value in (
        ("budget_min", budget_min),
        ("budget_max", budget_max),
        ("price_low", price_low),
        ("price_high", price_high),
        ("average_order_value", average_order_value),
    ):
        _check_money(errors, name, value)
    _check_range(
        errors,
        "budget_min",
        budget_min,
        "budget_max",
        budget_max,
        _("The budget's upper end cannot be below its lower end."),
    )
    _check_range(
        errors,
        "price_low",
        price_low,
        "price_high",
        price_high,
        _("The price band's upper end cannot be below its lower end."),
    )
    _raise_if(errors)
    intake = selectors.diagnosis_intake_of(engagement=engagement) or DiagnosisIntake(
        engagement=engagement
    )
    intake.goal = goal
    intake.goal_notes = goal_notes.strip()
    intake.budget_min, intake.budget_max = budget_min, budget_max
    intake.budget_notes = budget_notes.strip()
    intake.category = category.strip()
    intake.price_low, intake.price_high = price_low, price_high
    intake.average_order_value = average_order_value
    intake.advantages = advantages.strip()
    intake.has_tmall_store = has_tmall_store
    intake.past_operations = past_operations.strip()
    intake.updated_by = actor.user
    intake.agency_id = engagement.agency_id
    intake.full_clean(exclude=["agency", "engagement"])
    intake.save()
    return intake


# --- competitors and personas -----------------------------------------------------------------


def _competitor_fill(competitor: Competitor, fields: dict) -> None:
    errors: dict = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the competitor a name.")
    for money in ("monthly_sales", "price_low", "price_high"):
        _check_money(errors, money, fields.get(money))
    _check_range(
        errors,
        "price_low",
        fields.get("price_low"),
        "price_high",
        fields.get("price_high"),
        _("The price band's upper end cannot be below its lower end."),
    )
    _raise_if(errors)
    competitor.name = name
    competitor.store_url = (fields.get("store_url") or "").strip()
    competitor.monthly_sales = fields.get("monthly_sales")
    competitor.price_low = fields.get("price_low")
    competitor.price_high = fields.get("price_high")
    competitor.marketing_tactics = (fields.get("marketing_tactics") or "").strip()
    competitor.notes = (fields.get("notes") or "").strip()
    # The model's own checks: URL shape, lengths, decimal digits.
    competitor.full_clean(exclude=["agency", "engagement"], validate_unique=False)
    _save_unique_name(competitor, _("This engagement already has a competitor of that name."))


def _save_unique_name(row, message: str) -> None:
    duplicate = (
        type(row)
        .objects.filter(engagement_id=row.engagement_id, name=row.name)
        .exclude(pk=row.pk)
        .exists()
    )
    if duplicate:
        raise ValidationError({"name": message})
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a colleague saved the same name meanwhile
        raise ValidationError({"name": message}) from None


@transaction.atomic
def competitor_create(*, actor: Membership, engagement: Engagement, **fields) -> Competitor:
    """Add a competitor snapshot (name, store URL, estimated monthly sales, price band, tactics,
    notes)."""
    _check_edit(actor, engagement)
    competitor = Competitor(engagement=engagement, agency_id=engagement.agency_id)
    _competitor_fill(competitor, fields)
    return competitor


@transaction.atomic
def competitor_update(*, actor: Membership, competitor: Competitor, **fields) -> Competitor:
    _check_edit(actor, competitor.engagement)
    _competitor_fill(competitor, fields)
    return competitor


@transaction.atomic
def competitor_delete(*, actor: Membership, competitor: Competitor) -> None:
    """Remove a snapshot; published report versions keep the text they were published with."""
    _check_edit(actor, competitor.engagement)
    competitor.delete()


def _persona_fill(persona: Persona, fields: dict) -> None:
    errors: dict = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the persona a name.")
    age_bands = list(fields.get("age_bands") or [])
    if set(age_bands) - set(AgeBand.values):
        errors["age_bands"] = _("Choose age bands from the list.")
    _raise_if(errors)
    persona.name = name
    persona.age_bands = [value for value in AgeBand.values if value in age_bands]
    persona.consumption_habits = (fields.get("consumption_habits") or "").strip()
    persona.pain_points = (fields.get("pain_points") or "").strip()
    persona.full_clean(exclude=["agency", "engagement"], validate_unique=False)
    _save_unique_name(persona, _("This engagement already has a persona of that name."))


@transaction.atomic
def persona_create(*, actor: Membership, engagement: Engagement, **fields) -> Persona:
    """Add an audience persona (age bands, consumption habits, decision pain points)."""
    _check_edit(actor, engagement)
    persona = Persona(engagement=engagement, agency_id=engagement.agency_id)
    _persona_fill(persona, fields)
    return persona


@transaction.atomic
def persona_update(*, actor: Membership, persona: Persona, **fields) -> Persona:
    _check_edit(actor, persona.engagement)
    _persona_fill(persona, fields)
    return persona


@transaction.atomic
def persona_delete(*, actor: Membership, persona: Persona) -> None:
    _check_edit(actor, persona.engagement)
    persona.delete()


# --- store figures entered by month ------------------------------------------------------------


def diagnosis_month_enter(
    *,
    actor: Membership,
    engagement: Engagement,
    month: datetime.date,
    visitors: int,
    paying_buyers: int,
    gmv: Decimal,
    ad_spend: Decimal | None = None,
) -> list[IngestionRun]:
    """A month's visitors, paying buyers, GMV (and ad spend) of the engagement's store, for a
    brand without exports. Written through ingestion as store-day facts, so the baseline (and
    every dashboard later) reads them with the one metric query; see `ingestion_enter_month`."""
    if not (
        permissions.can_edit_diagnosis(actor, engagement)
        and permissions.can_enter_store_months(actor)
    ):
        raise PermissionDenied
    return ingestion_enter_month(
        actor=actor,
        store=engagement.store,
        month=month,
        visitors=visitors,
        paying_buyers=paying_buyers,
        gmv=gmv,
        ad_spend=ad_spend,
    )


# --- report versions ---------------------------------------------------------------------------


def _next_number(engagement: Engagement) -> int:
    latest = DiagnosisReport.objects.filter(engagement=engagement).order_by("-number").first()
    return (latest.number if latest else 0) + 1


def _lock_engagement(engagement: Engagement) -> None:
    """Serialize version changes of one engagement: two staff generating at once must not both
    create version N+1 or a second draft."""
    Engagement.objects.select_for_update().filter(pk=engagement.pk).exists()


@transaction.atomic
def diagnosis_report_generate(*, actor: Membership, engagement: Engagement) -> DiagnosisReport:
    """Write the report's text from the intake, competitors, personas and baseline.

    With a draft open, the draft's text is regenerated in place (the button says it replaces the
    draft's text); otherwise a new draft version is created. Published versions are never
    touched. The text is written in the actor's language; staff edit it before publishing.
    """
    _check_edit(actor, engagement)
    _lock_engagement(engagement)
    sections = report_sections_build(engagement=engagement)
    draft = selectors.report_draft(engagement=engagement)
    if draft is None:
        draft = DiagnosisReport(
            engagement=engagement,
            agency_id=engagement.agency_id,
            number=_next_number(engagement),
            created_by=actor.user,
        )
    draft.title = report_title(engagement=engagement)
    draft.sections = sections
    draft.save()
    return draft


@transaction.atomic
def diagnosis_report_new_draft(*, actor: Membership, engagement: Engagement) -> DiagnosisReport:
    """Start editing after publishing: a new draft copied from the latest version. An open
    draft is returned as it is (there is at most one)."""
    _check_edit(actor, engagement)
    _lock_engagement(engagement)
    draft = selectors.report_draft(engagement=engagement)
    if draft is not None:
        return draft
    latest = DiagnosisReport.objects.filter(engagement=engagement).order_by("-number").first()
    if latest is None:
        raise ValidationError(_("There is no report yet; generate one first."))
    return DiagnosisReport.objects.create(
        engagement=engagement,
        number=latest.number + 1,
        title=latest.title,
        sections=[dict(section) for section in latest.sections],
        created_by=actor.user,
    )


def _clean_sections(sections: list[dict]) -> list[dict]:
    if not isinstance(sections, list) or not sections:
        raise ValidationError({"sections": _("A report needs at least one section.")})
    if len(sections) > MAX_SECTIONS:
        raise ValidationError({"sections": _("A report has at most 30 sections.")})
    cleaned, keys = [], set()
    for position, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            raise ValidationError({"sections": _("Section %(n)s is malformed.") % {"n": position}})
        key = str(section.get("key") or "").strip() or f"section-{position}"
        title = str(section.get("title") or "").strip()
        body = str(section.get("body") or "").replace("\r\n", "\n").strip()
        if not title:
            raise ValidationError({"sections": _("Section %(n)s needs a title.") % {"n": position}})
        if len(title) > 200 or len(body) > MAX_SECTION_BODY:
            raise ValidationError(
                {"sections": _("Section “%(title)s” is too long.") % {"title": title[:40]}}
            )
        if key in keys:
            key = f"{key}-{position}"
        keys.add(key)
        cleaned.append({"key": key, "title": title, "body": body})
    return cleaned


@transaction.atomic
def diagnosis_report_update(
    *, actor: Membership, report: DiagnosisReport, title: str, sections: list[dict]
) -> DiagnosisReport:
    """Edit a draft's title and sections. A published version is refused: it is what the brand
    read, and stays so; `diagnosis_report_new_draft` starts the next version."""
    _check_edit(actor, report.engagement)
    locked = DiagnosisReport.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise ValidationError(
            _("Version %(number)s is published and cannot be edited; start a new draft instead.")
            % {"number": locked.number}
        )
    title = title.strip()
    if not title:
        raise ValidationError({"title": _("Give the report a title.")})
    if len(title) > 200:
        raise ValidationError({"title": _("The title is too long (200 characters at most).")})
    locked.title = title
    locked.sections = _clean_sections(sections)
    locked.save()
    report.title, report.sections, report.updated_at = (
        locked.title,
        locked.sections,
        locked.updated_at,
    )
    return locked


@transaction.atomic
def diagnosis_report_publish(*, actor: Membership, report: DiagnosisReport) -> DiagnosisReport:
    """Publish a draft to the brand. Needs the engagement edit right; the version is frozen."""
    if not permissions.can_publish_diagnosis_report(actor, report.engagement):
        raise PermissionDenied
    locked = DiagnosisReport.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise ValidationError(
            _("Version %(number)s is already published.") % {"number": locked.number}
        )
    if not any(section.get("body", "").strip() for section in locked.sections):
        raise ValidationError(_("The report is empty; write at least one section first."))
    locked.status = ReportStatus.PUBLISHED
    locked.published_by = actor.user
    locked.published_at = timezone.now()
    locked.save()
    report.status, report.published_by, report.published_at = (
        locked.status,
        locked.published_by,
        locked.published_at,
    )
    return locked


@transaction.atomic
def diagnosis_report_discard(*, actor: Membership, report: DiagnosisReport) -> None:
    """Throw a draft away (published versions stay for good)."""
    _check_edit(actor, report.engagement)
    locked = DiagnosisReport.objects.select_for_update().get(pk=report.pk)
    if locked.status != ReportStatus.DRAFT:
        raise ValidationError(
            _("Version %(number)s is published and stays on record.") % {"number": locked.number}
        )
    locked.delete()
