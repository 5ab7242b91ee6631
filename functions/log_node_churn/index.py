"""SCF entry point of log_node_churn: compute-node lifecycle events as log lines and churn figures."""

from __future__ import annotations

from churn import log_node_churn

from shared.runtime import run

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Sequence

    from shared.concern import Outcome
    from shared.invocation import Invocation
    from shared.log import JsonLogger


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """SCF handler: returns a JSON-serialisable summary. A CMQ-trigger event is streamed (churn.stream)."""
    return run(event, context, function="log_node_churn", concern=log_node_churn, trigger=_stream)


def _stream(
    event: Any, topics: Sequence[str], invocation: Invocation, log: JsonLogger
) -> tuple[dict[str, Any], Outcome]:
    # Imported on the trigger path only: the queue and push paths (the default is the queue) never stream.
    from churn.stream import churn_trigger

    return churn_trigger(event, topics, invocation, log)
