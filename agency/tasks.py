"""Celery tasks of the tenancy app: thin wrappers that call one service each."""

from agency.models import Membership
from agency.services import membership_invitation_deliver
from agency.tenancy import tenant_task


@tenant_task()
def send_invitation(agency, membership_id: int) -> None:
    """E-mail a member the one-time set-password link (see `membership_invitation_deliver`)."""
    membership = Membership.objects.filter(pk=membership_id).select_related("user").first()
    if membership is not None:
        membership_invitation_deliver(membership=membership)


@tenant_task()
def send_notification_emails(agency, messages: list[dict]) -> None:
    """E-mail already rendered notifications (see `agency.notifications.notification_send`)."""
    from agency.notifications import notifications_email_deliver

    notifications_email_deliver(messages=messages)
