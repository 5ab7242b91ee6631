"""The log_node_churn concern: node_event lines and churn_summary lines."""

from __future__ import annotations

from shared.concern import Outcome
from shared.invocation import Invocation
from shared.log import JsonLogger
from shared.models import ParsedInput

from .records import is_churn_event, node_event_record
from .summary import Churn, event_key


def log_node_churn(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    """Log each compute-node / compute-env event, then one summary per environment.

    Nothing here can be helped by a redelivery (the lines are printed), so the outcome never
    asks for a retry.
    """
    churn = Churn()
    logged = 0
    for event in parsed.known_events:
        if not is_churn_event(event):
            continue
        record = node_event_record(event)
        if not churn.add_own(record):
            # The same event delivered twice in one invocation: one line, so CLS counts stay true.
            log.info(
                "duplicate node event skipped",
                msg_id=event.source.msg_id,
                position=event.position,
                event_key=event_key(record),
            )
            continue
        log.write("INFO", "node event", record)
        logged += 1
    summaries = churn.summaries()
    for figures in summaries:
        log.info("churn summary", **figures)
    return Outcome(
        summary={
            "node_events": logged,
            "duplicates": churn.duplicates,
            "environments": len(summaries),
        }
    )
