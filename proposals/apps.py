from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self) -> None:
        # The lifecycle's gate "proposal_approved" is this app's condition: steps 3 to 8 wait
        # for a version of one of the engagement's proposals that the brand owner approved.
        from engagements.gates import provide_gate_check
        from proposals.selectors import engagement_has_approved_proposal

        provide_gate_check("proposal_approved", engagement_has_approved_proposal)
