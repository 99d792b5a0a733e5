"""In-app notifications and their e-mails: one service any app calls when something happens that
people should hear about (a proposal sent, approved, sent back).

Each recipient gets a `Notification` row and an e-mail, both in their own language (their choice,
else the agency's default). E-mails are rendered now, while the request's data is at hand, and
queued with `transaction.on_commit`, so a write that rolls back notifies nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation

from agency.models import Agency, Brand, Membership, Notification, User


def notification_send(
    *,
    agency: Agency,
    recipients: Iterable[Membership],
    brand: Brand | None,
    template: str,
    context: dict,
    url: str,
) -> list[Notification]:
    """Notify each active recipient in-app and by e-mail.

    `template` names a pair of text templates, `emails/<template>_subject.txt` (one line, also the
    in-app title) and `emails/<template>.txt`; `context` fills both (with `recipient` and `link`).
    """
    notifications, messages = [], []
    seen: set[int] = set()
    for membership in recipients:
        if not membership.is_active or membership.user_id in seen:
            continue
        seen.add(membership.user_id)
        user = membership.user
        with translation.override(user.language or agency.default_language):
            message_context = {
                **context,
                "agency": agency,
                "recipient": user,
                "link": settings.SITE_URL + url,
            }
            subject = render_to_string(f"emails/{template}_subject.txt", message_context)
            subject = " ".join(subject.split())
            body = render_to_string(f"emails/{template}.txt", message_context)
        notifications.append(
            Notification.objects.create(
                agency=agency, user=user, brand=brand, title=subject[:300], url=url
            )
        )
        messages.append({"subject": subject, "body": body, "to": user.email})
    if messages:
        agency_id = agency.pk
        from agency.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.delay(agency_id, messages))
    return notifications


def notifications_email_deliver(*, messages: list[dict]) -> None:
    """Send the rendered e-mails of `notification_send` (one connection for all); called by the
    `send_notification_emails` task."""
    connection = get_connection()
    connection.send_messages(
        [
            EmailMessage(
                message["subject"],
                message["body"],
                settings.DEFAULT_FROM_EMAIL,
                [message["to"]],
                connection=connection,
            )
            for message in messages
        ]
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    """A member's own notifications (the tenant scope also limits a brand user to their
    brands' notices)."""
    return Notification.objects.filter(user=user)


def notification_unread_count(*, user: User) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).count()


def notifications_mark_read(*, user: User) -> int:
    return notification_list(user=user).filter(read_at__isnull=True).update(read_at=timezone.now())
