"""The alert_failures concern (see its issue)."""
