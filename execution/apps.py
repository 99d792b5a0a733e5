from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExecutionConfig(AppConfig):
    name = "execution"
    verbose_name = _("Execution and metrics")

    def ready(self) -> None:
        from execution.alerts import facts_changed_receiver
        from execution.signals import facts_changed

        # New or corrected facts raise the alerts of the days they touched.
        facts_changed.connect(facts_changed_receiver, dispatch_uid="execution.alerts.evaluate")
