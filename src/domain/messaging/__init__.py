"""The messaging context: templates, SMS encoding, delivery status and quiet hours (pure rules)."""
