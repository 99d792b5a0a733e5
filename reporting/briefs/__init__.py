"""The daily brief (数据日报): what each engagement's people read every morning about yesterday.

- `builder`: `brief_build(engagement=, date=)` gathers the figures (the one metric query, the
  target pacing, the alert rules) into JSON-safe content, and `brief_fingerprint` hashes them.
- `render`: the same content as a portal page, an e-mail (HTML and text) and a group-robot
  markdown of at most 800 characters, each in the reader's language.
- `delivery`: who receives a brief, and sending it by e-mail or to a WeChat Work / DingTalk robot.
- `services`: issuing a brief once per engagement and day, correcting a sent brief when its data
  changes, and the hourly job that finds the engagements whose brief hour has come.
- `selectors`: the scoped reads the pages use.
"""
