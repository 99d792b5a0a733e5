"""Steps 7 and 8: the full review (全面效果复盘) and the long-term plan (长期合作建议)."""
