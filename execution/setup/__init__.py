"""Step 3, store setup: checklists from templates, evidence, brand approvals, expiry reminders."""
