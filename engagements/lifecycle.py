"""The eight steps of an engagement in their three phases (shared/DESIGN.md, "The lifecycle")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Phase(models.TextChoices):
    BEFORE = "before", _("Before: diagnose and propose")
    DURING = "during", _("During: execute and monitor")
    AFTER = "after", _("After: review and plan")


class Stage(models.TextChoices):
    DIAGNOSIS = "diagnosis", _("Brand diagnosis")
    PROPOSAL = "proposal", _("Custom proposal")
    SETUP = "setup", _("Store setup")
    TRAFFIC = "traffic", _("Traffic and promotion")
    CONVERSION = "conversion", _("Conversion and user operations")
    MONITORING = "monitoring", _("Monitoring and adjustment")
    REVIEW = "review", _("Full review")
    LONG_TERM_PLAN = "long_term_plan", _("Long-term plan")


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

STAGE_PHASE: dict[Stage, Phase] = {
    Stage.DIAGNOSIS: Phase.BEFORE,
    Stage.PROPOSAL: Phase.BEFORE,
    Stage.SETUP: Phase.DURING,
    Stage.TRAFFIC: Phase.DURING,
    Stage.CONVERSION: Phase.DURING,
    Stage.MONITORING: Phase.DURING,
    Stage.REVIEW: Phase.AFTER,
    Stage.LONG_TERM_PLAN: Phase.AFTER,
}


class Service(models.TextChoices):
    """The services an engagement's scope can hold; all four together are full service."""

    SETUP = "setup", _("Store setup")
    TRAFFIC = "traffic", _("Traffic")
    CONVERSION = "conversion", _("Conversion and user operations")
    MONITORING = "monitoring", _("Monitoring")


# Steps 3 to 6 exist only for engagements whose scope holds the matching service.
STAGE_SERVICE: dict[Stage, Service] = {
    Stage.SETUP: Service.SETUP,
    Stage.TRAFFIC: Service.TRAFFIC,
    Stage.CONVERSION: Service.CONVERSION,
    Stage.MONITORING: Service.MONITORING,
}


def stage_number(stage: str) -> int:
    """1 to 8, as agencies count the steps."""
    return STAGE_ORDER.index(Stage(stage)) + 1


def phase_of(stage: str) -> Phase:
    return STAGE_PHASE[Stage(stage)]
