from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        # Data that arrives or changes for a day whose brief was already sent issues a corrected
        # brief: execution announces every successful run, and this app listens.
        from reporting import signals  # noqa: F401
