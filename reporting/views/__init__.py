"""Pages of the reporting app, one module per area (dashboards, briefs, reviews)."""
