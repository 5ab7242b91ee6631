"""SCF entry point of alert_failures: parse and summarise (the concern lands in its own issue)."""

from __future__ import annotations

from typing import Any

from shared.runtime import parse_only, run


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """SCF handler: returns a JSON-serialisable summary."""
    return run(event, context, function="alert_failures", concern=parse_only)
