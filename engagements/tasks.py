"""Celery tasks of the engagements app (none yet: stage moves are synchronous, in the request).
Tasks added here use `agency.tenancy.tenant_task` and call one service each."""
