"""Onboard an agency in production: the agency and its first admin, who gets a set-password link.

python manage.py create_agency --slug acme --name "Acme 代运营" --admin-email boss@acme.cn
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agency.models import Agency, Membership, Role, User
from agency.services import set_password_path
from agency.tenancy import agency_scope


class Command(BaseCommand):
    help = "Create an agency and its first admin; prints the admin's one-time set-password link."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", default="")

    @transaction.atomic
    def handle(self, *args, slug, name, admin_email, admin_name, **options):
        agency = Agency(slug=slug, name=name)
        try:
            agency.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        agency.save()
        email = admin_email.strip().lower()
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, full_name=admin_name
        )
        with agency_scope(agency):
            Membership.objects.create(agency=agency, user=user, role=Role.ADMIN)
        self.stdout.write(f"Agency {agency.slug} created; its admin is {user.email}.")
        self.stdout.write(settings.SITE_URL + set_password_path(user))
