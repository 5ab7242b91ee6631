"""The retry_interrupted concern (see its issue)."""
