"""SCF entry point of alert_failures: grouped, signed, injection-safe failure alerts to chat and webhooks."""

from __future__ import annotations

from typing import Any

from alerting import make_concern

from shared.runtime import run


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """SCF handler: returns a JSON-serialisable summary; raises when an alert could not be delivered."""
    return run(event, context, function="alert_failures", concern=make_concern())
