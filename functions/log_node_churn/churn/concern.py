"""The log_node_churn concern: node_event lines and churn_summary lines."""

from __future__ import annotations

from shared.concern import Outcome
from shared.invocation import Invocation
from shared.log import JsonLogger
from shared.models import ParsedInput

from .records import is_churn_event, node_event_record
from .summary import Churn, event_key

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any


def log_node_churn(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    """Log each compute-node / compute-env event, then one summary per environment.

    Nothing here can be helped by a redelivery (the lines are printed), so the outcome never
    asks for a retry. The CMQ-trigger path streams instead (churn.stream), to the same lines.
    """
    churn = Churn()
    logged = 0
    for event in parsed.known_events:
        if is_churn_event(event):
            logged += log_record(node_event_record(event), churn, log)
    return churn_outcome(churn, logged, log)


def log_record(record: dict[str, Any], churn: Churn, log: JsonLogger) -> bool:
    """Count a node_event record and log its line; False, and a note, when it repeats one."""
    if not churn.add_own(record):
        # The same event delivered twice in one invocation: one line, so CLS counts stay true.
        log.info(
            "duplicate node event skipped",
            msg_id=record["msg_id"],
            position=record["position"],
            event_key=event_key(record),
        )
        return False
    log.write("INFO", "node event", record)
    return True


def churn_outcome(churn: Churn, logged: int, log: JsonLogger) -> Outcome:
    """One churn_summary line per environment, and the figures of the invocation's summary."""
    summaries = churn.summaries()
    for figures in summaries:
        log.write("INFO", "churn summary", figures)
    return Outcome(
        summary={
            "node_events": logged,
            "duplicates": churn.duplicates,
            "environments": len(summaries),
        }
    )
