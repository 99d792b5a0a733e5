"""FilterSets of the tenancy app. The brand list's only filter is its search box
(`selectors.brand_list(search=...)`); a FilterSet joins here when a list needs more."""
