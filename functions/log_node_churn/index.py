"""SCF entry point of log_node_churn: compute-node lifecycle events as log lines and churn figures."""

from __future__ import annotations

from typing import Any

from churn import log_node_churn

from shared.runtime import run


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """SCF handler: returns a JSON-serialisable summary."""
    return run(event, context, function="log_node_churn", concern=log_node_churn)
