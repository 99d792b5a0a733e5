"""Step 5, conversion and user operations: offers, customer service, orders and RFM tiers."""
