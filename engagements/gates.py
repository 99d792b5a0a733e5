"""Lifecycle gates: conditions an engagement must meet to be in a stage or any later one.

The lifecycle names its gates here; the app that owns each condition provides the check
(`provide_gate_check`, from its AppConfig.ready), so this app imports no step app. A gate whose
owner has not provided a check is closed: it fails until the condition can really be checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from engagements.lifecycle import STAGE_ORDER, Stage

if TYPE_CHECKING:
    from engagements.models import Engagement

GateCheck = Callable[["Engagement"], bool]


@dataclass(frozen=True)
class Gate:
    key: str
    applies_from: Stage  # the gate holds for this stage and every later one
    label: Promise  # what the gate waits for, as the engagement page shows it
    owner_app: str  # the app that provides the check


GATES: tuple[Gate, ...] = (
    Gate(
        key="proposal_approved",
        applies_from=Stage.SETUP,
        label=_("an approved proposal"),
        owner_app="proposals",
    ),
    Gate(
        key="review_published",
        applies_from=Stage.LONG_TERM_PLAN,
        label=_("a published full review"),
        owner_app="reporting",
    ),
)

_checks: dict[str, GateCheck] = {}


def provide_gate_check(key: str, check: GateCheck) -> None:
    """Called by the owning app to say how its gate's condition is checked."""
    if key not in {gate.key for gate in GATES}:
        raise KeyError(f"No lifecycle gate named {key!r}.")
    _checks[key] = check


def gate_is_open(gate: Gate, engagement: Engagement) -> bool:
    """Fails closed: a gate without a check from its owner app is not open."""
    check = _checks.get(gate.key, check_owner_missing)
    return bool(check(engagement))


def check_owner_missing(engagement: Engagement) -> bool:
    """Stand-in check for a gate whose owner app is not built yet: never open."""
    return False


def gates_for(stage: str) -> list[Gate]:
    position = STAGE_ORDER.index(Stage(stage))
    return [gate for gate in GATES if STAGE_ORDER.index(gate.applies_from) <= position]


def closed_gates_for(engagement: Engagement, stage: str) -> list[Gate]:
    return [gate for gate in gates_for(stage) if not gate_is_open(gate, engagement)]
