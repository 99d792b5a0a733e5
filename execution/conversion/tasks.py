"""Celery tasks of the conversion area: thin wrappers that call one service each."""

from agency.tenancy import tenant_task
from engagements.models import Engagement
from execution.conversion.tiers import tiers_compute


@tenant_task()
def compute_tiers(agency, engagement_id: int) -> int:
    """Recompute an engagement's user tiers from its store's orders (idempotent: the same
    orders give the same snapshots)."""
    engagement = Engagement.objects.filter(pk=engagement_id).select_related("store").first()
    if engagement is None:
        return 0
    return tiers_compute(engagement=engagement)
