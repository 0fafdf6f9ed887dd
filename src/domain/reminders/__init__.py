"""The reminders context: per-policy-type reminder ladders and which step is due on a day (pure rules)."""
