"""Reads of the engagements app, shared by pages and (later) the API. The tenant scope of the
request already limits every query to the agency, and brand users to their brands."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from agency.models import Agency, Membership
from engagements.gates import Gate, gate_is_open, gates_for
from engagements.lifecycle import STAGE_ORDER, STAGE_PHASE, Phase, Stage, stage_number
from engagements.models import Engagement, EngagementTransition


def engagement_list(*, agency: Agency) -> QuerySet[Engagement]:
    return Engagement.objects.filter(agency=agency).select_related(
        "store__brand", "account_manager__user"
    )


def engagement_get_for(*, membership: Membership, engagement_id: int) -> Engagement:
    """The engagement if the member may see it; the same 404 for missing and not-yours."""
    engagement = engagement_list(agency=membership.agency).filter(pk=engagement_id).first()
    if engagement is None:
        raise Http404
    return engagement


def engagement_timeline(*, engagement: Engagement) -> QuerySet[EngagementTransition]:
    return EngagementTransition.objects.filter(engagement=engagement).select_related("actor")


@dataclass(frozen=True)
class StepView:
    """One step of the stepper: where it stands for this engagement and what it waits for."""

    stage: Stage
    number: int
    state: str  # "done", "current", "alongside", "upcoming" or "out_of_scope"
    in_scope: bool
    gates: list[tuple[Gate, bool]]

    @property
    def waiting_for(self) -> list[Gate]:
        return [gate for gate, is_open in self.gates if not is_open]


@dataclass(frozen=True)
class PhaseView:
    phase: Phase
    steps: list[StepView]


def engagement_stepper(*, engagement: Engagement) -> list[PhaseView]:
    current = stage_number(engagement.stage)
    gate_state: dict[str, bool] = {}
    phases: dict[Phase, list[StepView]] = {phase: [] for phase in Phase}
    for stage in STAGE_ORDER:
        number = stage_number(stage)
        in_scope = engagement.stage_in_scope(stage)
        gates = []
        for gate in gates_for(stage):
            if gate.key not in gate_state:
                gate_state[gate.key] = gate_is_open(gate, engagement)
            gates.append((gate, gate_state[gate.key]))
        if not in_scope:
            state = "out_of_scope"
        elif number != current and STAGE_PHASE[stage] == Phase.DURING == engagement.phase:
            state = "alongside"  # steps 3 to 6 run side by side once execution has started
        elif number < current:
            state = "done"
        elif number == current:
            state = "current"
        else:
            state = "upcoming"
        phases[STAGE_PHASE[stage]].append(
            StepView(stage=stage, number=number, state=state, in_scope=in_scope, gates=gates)
        )
    return [PhaseView(phase=phase, steps=steps) for phase, steps in phases.items()]
