"""Print the daily brief of an engagement covering a day, without storing or sending it:

    python manage.py daily_brief --engagement ID --date YYYY-MM-DD [--format json|md|html]

json (the default) is the brief's structured content, indented; md is the group-robot markdown
(at most 800 characters); html the e-mail's HTML. Text is in the agency's default language.
Nothing is written: not the brief, not the day's alerts (an alert the rules would raise is shown
with "id": null).
"""

from __future__ import annotations

import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from agency.tenancy import agency_scope
from engagements.models import Engagement
from reporting.briefs.builder import brief_build
from reporting.briefs.render import brief_render_html, brief_render_markdown
from reporting.briefs.services import engagement_briefs_link

FORMATS = ("json", "md", "html")


class Command(BaseCommand):
    help = "Print an engagement's daily brief for a day (json, md or html), without sending it."

    def add_arguments(self, parser):
        parser.add_argument("--engagement", required=True, help="the engagement's id")
        parser.add_argument("--date", required=True, help="the day the data is about, YYYY-MM-DD")
        parser.add_argument("--format", default="json", help="json (default), md or html")

    def handle(self, *args, engagement, date, format, **options):
        try:
            engagement_id = int(engagement)
        except ValueError:
            raise CommandError(
                f"--engagement must be an id (a whole number), not {engagement!r}."
            ) from None
        try:
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise CommandError(f"--date must be a day as YYYY-MM-DD, not {date!r}.") from None
        if format not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}.")
        # Found unscoped by id (a command has no agency until it knows the engagement); then
        # everything runs inside that engagement's agency.
        found = Engagement.objects.unscoped().filter(pk=engagement_id).first()
        if found is None:
            raise CommandError(f"--engagement: no engagement with id {engagement_id}.")
        with agency_scope(found.agency_id):
            engagement_row = Engagement.objects.select_related("store__brand", "agency").get(
                pk=found.pk
            )
            content = brief_build(engagement=engagement_row, date=day, raise_alerts=False)
            if format == "json":
                output = json.dumps(content, indent=2, ensure_ascii=False)
            else:
                link = engagement_briefs_link(engagement_row)
                with translation.override(content["language"]):
                    if format == "md":
                        output = brief_render_markdown(content, link=link)
                    else:
                        output = brief_render_html(content, link=link)
        self.stdout.write(output)
