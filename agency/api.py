"""REST endpoints of the tenancy app (brands, stores, API tokens) arrive with the API issue."""
