"""Step 4, traffic: campaigns with budget burn from the ad facts, the event calendar, keywords."""
