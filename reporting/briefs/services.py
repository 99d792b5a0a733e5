"""Writes of the daily brief: issue it once per engagement and day, deliver each copy once,
correct a sent brief when its figures change, and find the engagements whose brief is due.

Exactly once is a property of the database, not of the scheduler: `DailyBrief` is unique per
(agency, engagement, date, revision) and `BriefDelivery` per (agency, brief, channel, recipient),
so a repeated or concurrent job finds the rows already there; and each delivery is sent while
its row is locked (`SELECT ... FOR UPDATE SKIP LOCKED`) and only if it is not sent yet, so two
workers never send the same copy. A worker killed between the send and its commit leaves the
copy pending and it goes out again: the one duplicate no scheduler can rule out.
"""

from __future__ import annotations

import datetime
import logging
import urllib.parse
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from agency.models import Agency
from agency.tenancy import agency_scope
from engagements.models import Engagement, EngagementStatus
from reporting.briefs.builder import brief_build, brief_correction, brief_fingerprint
from reporting.briefs.delivery import (
    DeliveryError,
    brief_email_recipients,
    brief_settings_of,
    email_send,
    webhook_post,
    webhook_private_address,
    webhook_recipient_label,
)
from reporting.briefs.render import brief_render_email, brief_render_markdown, brief_title
from reporting.models import BriefDelivery, BriefSettings, DailyBrief, DeliveryStatus, WebhookKind

logger = logging.getLogger(__name__)

# A copy that failed this many times is given up (its last error stays on the row).
MAX_DELIVERY_ATTEMPTS = 6


class BriefDeliveryIncomplete(Exception):
    """Some copies of a brief failed and will be tried again (the task retries with backoff)."""


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    retriable: int


def brief_link(brief: DailyBrief) -> str:
    """The brief's page in the portal, as an absolute URL for e-mails and robots."""
    path = reverse(
        "reporting:brief_detail",
        kwargs={"agency_slug": brief.agency.slug, "brief_id": brief.pk},
    )
    return settings.SITE_URL + path


def engagement_briefs_link(engagement: Engagement) -> str:
    path = reverse(
        "reporting:brief_list",
        kwargs={"agency_slug": engagement.agency.slug, "engagement_id": engagement.pk},
    )
    return settings.SITE_URL + path


def _deliveries_create(brief: DailyBrief) -> None:
    """One pending delivery per recipient and channel (a second call adds nothing)."""
    engagement = brief.engagement
    brief_settings = brief_settings_of(engagement)
    deliveries = []
    if brief_settings.send_email:
        deliveries += [
            BriefDelivery(
                agency_id=brief.agency_id,
                brief=brief,
                channel=BriefDelivery.Channel.EMAIL,
                recipient=recipient.email,
                language=recipient.language,
            )
            for recipient in brief_email_recipients(engagement)
        ]
    if brief_settings.webhook_url and brief_settings.webhook_kind:
        deliveries.append(
            BriefDelivery(
                agency_id=brief.agency_id,
                brief=brief,
                channel=BriefDelivery.Channel.WEBHOOK,
                recipient=webhook_recipient_label(
                    brief_settings.webhook_kind, brief_settings.webhook_url
                ),
                language=brief.language,
            )
        )
    BriefDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def _brief_release(
    *,
    engagement: Engagement,
    date: datetime.date,
    revision: int,
    content: dict,
    fingerprint: str,
    now: datetime.datetime,
) -> DailyBrief | None:
    """Store a revision and its deliveries in one transaction; None when another run stored
    that revision first (the unique key decides)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                brief = DailyBrief.objects.create(
                    engagement=engagement,
                    date=date,
                    revision=revision,
                    content=content,
                    fingerprint=fingerprint,
                    language=content["language"],
                    sent_at=now,
                )
        except IntegrityError:
            return None
        _deliveries_create(brief)
    return brief


def brief_issue(
    *, engagement: Engagement, date: datetime.date, now: datetime.datetime | None = None
) -> DailyBrief | None:
    """Revision 1 of the engagement's brief for `date`: stored (with its deliveries, pending)
    the first time, found the times after. None for a store that has no data on or before the
    date: there is nothing to report, and no pipeline that stopped."""
    existing = DailyBrief.objects.filter(engagement=engagement, date=date, revision=1).first()
    if existing is not None:
        return existing
    content = brief_build(engagement=engagement, date=date)
    if content["data_through"] is None:
        return None
    brief = _brief_release(
        engagement=engagement,
        date=date,
        revision=1,
        content=content,
        fingerprint=brief_fingerprint(content),
        now=now or timezone.now(),
    )
    return brief or DailyBrief.objects.get(engagement=engagement, date=date, revision=1)


def brief_reissue(
    *, engagement: Engagement, date: datetime.date, now: datetime.datetime | None = None
) -> DailyBrief | None:
    """The corrected brief: rebuild a sent brief and, when its figures differ from the latest
    revision's, store the next revision with what changed (`content["correction"]`) and its
    deliveries. None when nothing was sent for that day or the figures are the same."""
    content = brief_build(engagement=engagement, date=date)
    fingerprint = brief_fingerprint(content)
    for _attempt in range(3):
        latest = (
            DailyBrief.objects.filter(engagement=engagement, date=date, sent_at__isnull=False)
            .order_by("-revision")
            .first()
        )
        if latest is None or latest.fingerprint == fingerprint:
            return None
        corrected = {
            **content,
            "correction": brief_correction(latest.content, content, latest.revision),
        }
        brief = _brief_release(
            engagement=engagement,
            date=date,
            revision=latest.revision + 1,
            content=corrected,
            fingerprint=fingerprint,
            now=now or timezone.now(),
        )
        if brief is not None:
            return brief
        # Another run stored that revision meanwhile: compare with it.
    return None


def brief_latest_revision(*, engagement: Engagement, date: datetime.date) -> DailyBrief | None:
    return DailyBrief.objects.filter(engagement=engagement, date=date).order_by("-revision").first()


def _delivery_send(delivery: BriefDelivery, brief: DailyBrief, link: str, cache: dict) -> None:
    if delivery.channel == BriefDelivery.Channel.EMAIL:
        language = delivery.language or brief.language
        if language not in cache:
            with translation.override(language):
                cache[language] = brief_render_email(
                    brief.content, revision=brief.revision, link=link
                )
        subject, text, html = cache[language]
        if "connection" not in cache:
            cache["connection"] = get_connection()
        email_send(
            to=delivery.recipient,
            subject=subject,
            text=text,
            html=html,
            connection=cache["connection"],
        )
        return
    brief_settings = brief_settings_of(brief.engagement)
    if not (brief_settings.webhook_url and brief_settings.webhook_kind):
        raise DeliveryError("The group robot has been removed from the brief settings.")
    with translation.override(delivery.language or brief.language):
        markdown = brief_render_markdown(brief.content, revision=brief.revision, link=link)
        title = brief_title(brief.content, revision=brief.revision)
    webhook_post(
        kind=brief_settings.webhook_kind,
        url=brief_settings.webhook_url,
        secret=brief_settings.webhook_secret,
        title=title,
        markdown=markdown,
    )


def brief_deliver(*, brief: DailyBrief, now: datetime.datetime | None = None) -> DeliveryReport:
    """Send every copy of the brief that is not sent yet (and not given up), each exactly once:
    a copy is claimed by locking its row, skipped when another worker holds it, and marked sent
    in the same transaction. A failure is recorded on the row (attempts, error)."""
    pending = list(
        BriefDelivery.objects.filter(brief=brief, attempts__lt=MAX_DELIVERY_ATTEMPTS)
        .exclude(status=DeliveryStatus.SENT)
        .values_list("pk", flat=True)
    )
    link = brief_link(brief)
    cache: dict = {}
    sent = failed = retriable = 0
    for pk in pending:
        with transaction.atomic():
            delivery = (
                BriefDelivery.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, attempts__lt=MAX_DELIVERY_ATTEMPTS)
                .exclude(status=DeliveryStatus.SENT)
                .first()
            )
            if delivery is None:
                continue  # sent meanwhile, or being sent by another worker right now
            delivery.attempts += 1
            try:
                _delivery_send(delivery, brief, link, cache)
            except DeliveryError as error:
                delivery.status = DeliveryStatus.FAILED
                delivery.error = str(error)[:2000]
                failed += 1
                if delivery.attempts < MAX_DELIVERY_ATTEMPTS:
                    retriable += 1
                logger.warning("Brief %s delivery %s failed: %s", brief.pk, delivery.pk, error)
            else:
                delivery.status = DeliveryStatus.SENT
                delivery.error = ""
                delivery.sent_at = now or timezone.now()
                sent += 1
            delivery.save(update_fields=["status", "error", "attempts", "sent_at"])
    return DeliveryReport(sent=sent, failed=failed, retriable=retriable)


def brief_due_date(agency: Agency, now: datetime.datetime) -> datetime.date | None:
    """The day whose brief is due for the agency at `now`: yesterday in its time zone, once its
    brief hour has come today; None before that hour."""
    local = now.astimezone(zoneinfo.ZoneInfo(agency.time_zone))
    if local.hour < agency.brief_hour:
        return None
    return local.date() - datetime.timedelta(days=1)


def briefs_due(*, now: datetime.datetime) -> list[tuple[int, int, datetime.date]]:
    """(agency id, engagement id, date) of every brief to issue or finish delivering at `now`:
    active engagements (running on that date) of the agencies whose brief hour has come, whose
    brief for the day is missing or still has copies to send. Crosses agencies, one scope at a
    time; a few queries per agency whatever the number of engagements."""
    due = []
    for agency in Agency.objects.only("pk", "time_zone", "brief_hour").order_by("pk"):
        day = brief_due_date(agency, now)
        if day is None:
            continue
        with agency_scope(agency):
            running = set(
                Engagement.objects.filter(status=EngagementStatus.ACTIVE, start_date__lte=day)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
                .values_list("pk", flat=True)
            )
            if not running:
                continue
            issued = set(
                DailyBrief.objects.filter(date=day, revision=1).values_list(
                    "engagement_id", flat=True
                )
            )
            unfinished = set(
                BriefDelivery.objects.filter(
                    brief__date=day, brief__revision=1, attempts__lt=MAX_DELIVERY_ATTEMPTS
                )
                .exclude(status=DeliveryStatus.SENT)
                .values_list("brief__engagement_id", flat=True)
            )
        due += [
            (agency.pk, engagement_id, day)
            for engagement_id in sorted((running - issued) | (running & unfinished))
        ]
    return due


def brief_issue_and_deliver(
    *, engagement: Engagement, date: datetime.date, now: datetime.datetime | None = None
) -> DailyBrief | None:
    """Issue the day's brief if needed and send what is not sent yet; raises
    BriefDeliveryIncomplete when a copy failed and should be tried again."""
    brief = brief_issue(engagement=engagement, date=date, now=now)
    if brief is not None:
        _deliver_or_raise(brief, now)
    return brief


def brief_correct_and_deliver(
    *, engagement: Engagement, date: datetime.date, now: datetime.datetime | None = None
) -> DailyBrief | None:
    """Issue a corrected brief when the figures changed, and send what is not sent yet of the
    day's latest correction (a retry after a failed copy resumes there)."""
    corrected = brief_reissue(engagement=engagement, date=date, now=now)
    latest = corrected or brief_latest_revision(engagement=engagement, date=date)
    if latest is not None and latest.revision > 1:
        _deliver_or_raise(latest, now)
    return corrected


def _deliver_or_raise(brief: DailyBrief, now) -> None:
    report = brief_deliver(brief=brief, now=now)
    if report.retriable:
        raise BriefDeliveryIncomplete(
            f"Brief {brief.pk}: {report.retriable} copies failed and will be tried again."
        )


def brief_settings_save(
    *,
    engagement: Engagement,
    send_email: bool,
    webhook_kind: str,
    webhook_url: str,
    webhook_secret: str | None = None,
) -> BriefSettings:
    """Save how the engagement's brief goes out: e-mail on or off, and the group robot (an
    http(s) address, its kind, and for DingTalk an optional signing secret; `None` keeps the
    secret already saved). Without an address there is no robot."""
    from django.utils.translation import gettext as _

    webhook_url = (webhook_url or "").strip()
    if webhook_url and urllib.parse.urlsplit(webhook_url).scheme not in {"http", "https"}:
        raise ValidationError(
            {"webhook_url": _("Enter the robot's address, starting with https:// or http://.")}
        )
    private = webhook_url and webhook_private_address(webhook_url)
    if private:
        raise ValidationError(
            {
                "webhook_url": _(
                    "The robot's address points into a private network (%(address)s); use the "
                    "address WeChat Work or DingTalk gave you."
                )
                % {"address": private}
            }
        )
    if webhook_url and webhook_kind not in WebhookKind.values:
        raise ValidationError({"webhook_kind": _("Choose which group robot the address is for.")})
    brief_settings = brief_settings_of(engagement)
    brief_settings.send_email = send_email
    brief_settings.webhook_url = webhook_url
    brief_settings.webhook_kind = webhook_kind if webhook_url else ""
    if webhook_secret is not None:
        brief_settings.webhook_secret = webhook_secret.strip()
    if brief_settings.webhook_kind != WebhookKind.DINGTALK:
        brief_settings.webhook_secret = ""  # only DingTalk robots sign
    brief_settings.full_clean(exclude=["agency", "engagement"])
    brief_settings.save()
    return brief_settings


def brief_settings_test(*, engagement: Engagement) -> None:
    """Post a short test message to the engagement's group robot; raises DeliveryError."""
    from django.utils.translation import gettext as _

    brief_settings = brief_settings_of(engagement)
    if not brief_settings.webhook_url:
        raise DeliveryError(_("No group robot is set up for this engagement."))
    agency = engagement.agency
    with translation.override(agency.default_language):
        title = _("Test message from %(agency)s") % {"agency": agency.name}
        markdown = "### {title}\n{body}\n[{link_text}]({link})".format(
            title=title,
            body=_("The daily brief of %(engagement)s will be posted here.")
            % {"engagement": engagement.title},
            link_text=_("Open the briefs"),
            link=engagement_briefs_link(engagement),
        )
    webhook_post(
        kind=brief_settings.webhook_kind,
        url=brief_settings.webhook_url,
        secret=brief_settings.webhook_secret,
        title=title,
        markdown=markdown,
    )
