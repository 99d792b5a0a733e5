"""Celery tasks of the reporting app, one module per area (Celery's autodiscovery imports this
package; the modules register their tasks)."""

from reporting.tasks import briefs, reviews  # noqa: F401
