from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        # Data that arrives or changes for a day whose brief was already sent issues a corrected
        # brief: execution announces every successful run, and this app listens.
        # The lifecycle's gate "review_published" is this app's condition: step 8 (the
        # long-term plan) waits for a full review published to the brand.
        from engagements.gates import provide_gate_check
        from reporting import signals  # noqa: F401
        from reporting.full_review.services import engagement_has_published_full_review

        provide_gate_check("review_published", engagement_has_published_full_review)
