"""Write an engagement's data handover to a file, as the handover page does, and record it:

    python manage.py export_engagement --engagement ID --format xlsx|zip --output PATH
        [--audience brand|internal] [--user EMAIL]

The same data gives the same bytes as a download from the page. The audience defaults to the
brand's export. The record names no one, or the active member of the engagement's agency with
`--user` (who must be allowed that audience). The file appears at PATH only when complete
(written next to it, then renamed); an unknown engagement, a bad format or audience, an
unknown user or a path that cannot be written stops the command with a message and a non-zero
exit, and records nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from agency.models import Membership
from agency.tenancy import agency_scope
from engagements.models import Engagement
from reporting.exports.services import export_create, export_validate
from reporting.models import ExportAudience, ExportFormat


class Command(BaseCommand):
    help = "Write an engagement's data handover (xlsx or zip of CSV files) and record it."

    def add_arguments(self, parser):
        parser.add_argument("--engagement", required=True, help="the engagement's id")
        parser.add_argument("--format", required=True, help="xlsx or zip")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument(
            "--audience", default=ExportAudience.BRAND, help="brand (default) or internal"
        )
        parser.add_argument("--user", default="", help="e-mail of the member it is recorded for")

    def handle(self, *args, engagement, format, output, audience, user, **options):
        try:
            engagement_id = int(engagement)
        except ValueError:
            raise CommandError(
                f"--engagement must be an id (a whole number), not {engagement!r}."
            ) from None
        if format not in ExportFormat.values:
            raise CommandError(f"--format must be xlsx or zip, not {format!r}.")
        if audience not in ExportAudience.values:
            raise CommandError(f"--audience must be brand or internal, not {audience!r}.")
        path = Path(output)
        if path.is_dir():
            raise CommandError(f"--output {output!r} is a directory; give a file name.")
        if not path.parent.is_dir():
            raise CommandError(f"--output: the directory {str(path.parent)!r} does not exist.")
        # Found unscoped by id (a command has no agency until it knows the engagement); then
        # everything runs inside that engagement's agency.
        found = Engagement.objects.unscoped().filter(pk=engagement_id).first()
        if found is None:
            raise CommandError(f"--engagement: no engagement with id {engagement_id}.")
        with agency_scope(found.agency_id):
            row = Engagement.objects.select_related("store__brand", "agency").get(pk=found.pk)
            actor = self._actor(user) if user else None
            try:
                export_validate(actor=actor, engagement=row, audience=audience, file_format=format)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            record = self._write(row, actor, audience, format, path)
        self.stdout.write(
            f"Wrote {path} ({record.size} bytes, sha256 {record.sha256}); "
            + ", ".join(f"{table} {rows}" for table, rows in record.row_counts.items())
        )

    def _actor(self, email: str) -> Membership:
        member = (
            Membership.objects.filter(user__email__iexact=email.strip(), is_active=True)
            .select_related("user")
            .first()
        )
        if member is None:
            raise CommandError(f"--user: no active member {email!r} in the engagement's agency.")
        return member

    def _write(self, engagement, actor, audience, file_format, path: Path):
        try:
            spool = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed into place below)
                "w+b", dir=path.parent, prefix=f".{path.name}.", delete=False
            )
        except OSError as error:
            raise CommandError(f"--output: cannot write in {str(path.parent)!r}: {error}") from None
        try:
            with transaction.atomic():
                record = export_create(
                    actor=actor,
                    engagement=engagement,
                    audience=audience,
                    file_format=file_format,
                    destination=spool,
                    filename=path.name,
                )
                spool.close()
                os.replace(spool.name, path)  # a failure here rolls the record back
        except OSError as error:
            raise CommandError(f"--output: cannot write {str(path)!r}: {error}") from None
        finally:
            spool.close()
            if os.path.exists(spool.name):
                os.unlink(spool.name)
        return record
