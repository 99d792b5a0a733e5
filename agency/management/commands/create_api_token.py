"""Create an API token from the server's command line (the admin UI does the same):

    python manage.py create_api_token --agency SLUG --name NAME --scopes SCOPE[,SCOPE...] \\
        [--brand BRAND_ID] [--expires-days N]

The token's secret is printed alone on the last line; it is stored only as a hash, so it cannot
be shown again.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agency.models import Agency, ApiScope, Brand
from agency.services import api_token_create
from agency.tenancy import agency_scope


class Command(BaseCommand):
    help = "Create an API token for an agency and print it (once)."

    def add_arguments(self, parser):
        parser.add_argument("--agency", required=True, help="The agency's slug.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated, from: {', '.join(ApiScope.values)}.",
        )
        parser.add_argument("--brand", type=int, help="Restrict the token to one brand (id).")
        parser.add_argument("--expires-days", type=int, help="Expire after N days.")

    def handle(self, *args, agency, name, scopes, brand, expires_days, **options):
        agency_row = Agency.objects.filter(slug=agency).first()
        if agency_row is None:
            raise CommandError(f"No agency with slug {agency!r}.")
        with agency_scope(agency_row):
            brand_row = None
            if brand is not None:
                brand_row = Brand.objects.filter(pk=brand).first()
                if brand_row is None:
                    raise CommandError(f"Agency {agency!r} has no brand with id {brand}.")
            try:
                token, secret = api_token_create(
                    actor=None,
                    agency=agency_row,
                    name=name,
                    scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                    brand=brand_row,
                    expires_days=expires_days,
                )
            except ValidationError as error:
                raise CommandError(
                    "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error)
                ) from error
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        restriction = f"brand {brand_row.pk} ({brand_row.name})" if brand_row else "all brands"
        self.stdout.write(
            f"Token #{token.pk} “{token.name}” for {agency_row.slug}, {restriction}; "
            f"scopes {', '.join(token.scopes)}; expires {expiry}. Shown once: keep it safe."
        )
        self.stdout.write(secret)
