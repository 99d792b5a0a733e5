"""Celery tasks of the tenancy app: thin wrappers that call one service each."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from agency.models import Membership
from agency.tenancy import tenant_task


@tenant_task()
def send_invitation(agency, membership_id: int) -> None:
    """E-mail the one-time set-password link and record when it went out."""
    from agency.services import set_password_path

    membership = Membership.objects.filter(pk=membership_id).select_related("user").first()
    if membership is None or not membership.is_active:
        return
    user = membership.user
    language = user.language or agency.default_language
    with translation.override(language):
        context = {
            "agency": agency,
            "user": user,
            "link": settings.SITE_URL + set_password_path(user),
        }
        subject = render_to_string("emails/invitation_subject.txt", context).strip()
        body = render_to_string("emails/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    Membership.objects.filter(pk=membership.pk).update(invitation_sent_at=timezone.now())
