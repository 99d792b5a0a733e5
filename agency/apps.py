from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgencyConfig(AppConfig):
    name = "agency"
    verbose_name = _("Agencies and people")

    def ready(self) -> None:
        from agency import audit  # noqa: F401, I001

        # PostgreSQL row-level security: every new connection carries the tenant of the scope
        # to the database, and every migrate (re)applies the policies (agency/rls.py).
        from agency import rls

        rls.connect_signals()
