"""REST endpoints of the engagements app arrive with the API issue, on the one DRF base class that
sets the tenant scope from the token; they will reuse `selectors.engagement_list` and
`filters.EngagementFilter`, as the pages do."""
