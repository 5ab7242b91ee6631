"""The part every handler shares: read the context, pick the delivery path, parse, run the concern."""

from __future__ import annotations

import gc
from collections.abc import Mapping

from .capture import capture_raw
from .concern import Concern, Outcome, parse_only, process
from .envelope import parse_trigger_event
from .errors import RetryableFailure
from .invocation import Invocation
from .log import JsonLogger, scrubbed
from .settings import env_list

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence

__all__ = ["Concern", "Outcome", "is_http_event", "is_timer_event", "parse_only", "process", "run"]


def is_timer_event(event: Any) -> bool:
    """True for the event of an SCF timer trigger (the queue path)."""
    return isinstance(event, Mapping) and event.get("Type") == "Timer"


def is_http_event(event: Any) -> bool:
    """True for the event SCF builds for a function-URL request (the push path)."""
    return isinstance(event, Mapping) and "httpMethod" in event


if TYPE_CHECKING:
    # A function's own CMQ-trigger path: (event, BATCH_TOPIC_NAMES, invocation, log) -> (summary, outcome),
    # what `process(parse_trigger_event(event, topics), invocation, log, concern)` gives.
    TriggerPath = Callable[[Any, Sequence[str], Invocation, JsonLogger], tuple[dict[str, Any], Outcome]]
else:
    TriggerPath = None  # for annotations only (they are strings at run time): mypy reads the alias above


def run(
    event: Any, context: Any, *, function: str, concern: Concern, trigger: Optional[TriggerPath] = None
) -> dict[str, Any]:
    """Handle one SCF invocation, whichever path delivered it.

    A timer event polls this function's queue; a function-URL request is an HTTP push (the answer
    is the HTTP response); anything else is the CMQ-topic trigger event or a bare Batch message,
    for which the summary is returned and an exception raised only when a redelivery can help.
    `trigger`, when given, handles the CMQ-trigger event in place of parsing it whole and running
    `concern` (log_node_churn streams it); it must give what that would.

    The cyclic garbage collector is paused for the invocation and resumed after it, even when it
    raises. An invocation allocates an object graph per record (the parsed message, the event, its
    line) that reference counting frees as it goes; what the collector adds is walking everything
    still alive, again and again as the allocations pile up: 10-17% of log_node_churn's time at 10,000
    records, for no garbage (the code makes no reference cycles on its path). Whatever cycles an
    invocation leaves are collected once the collector runs again.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _run(event, context, function, concern, trigger)
    finally:
        if paused:
            gc.enable()


def _run(
    event: Any, context: Any, function: str, concern: Concern, trigger: Optional[TriggerPath]
) -> dict[str, Any]:
    invocation = Invocation.from_context(context)
    log = JsonLogger(function, invocation.request_id)
    # Each path's module (and the HTTP client the queue path needs) is imported on that path only:
    # a trigger-path cold start loads neither.
    if is_timer_event(event):
        from .poller import poll_queue

        return scrubbed(poll_queue(concern, invocation, log), log.secrets)
    if is_http_event(event):
        from .push import handle_push

        return scrubbed(handle_push(event, concern, invocation, log), log.secrets)
    records = event.get("Records") if isinstance(event, Mapping) else None
    capture_raw("cmq_record", records if isinstance(records, list) else [event], log)
    topics = env_list("BATCH_TOPIC_NAMES")
    if trigger is None:
        summary, outcome = process(parse_trigger_event(event, topics), invocation, log, concern)
    else:
        summary, outcome = trigger(event, topics, invocation, log)
    if outcome.retry_records:
        log.error(
            "invocation failed; raising so that SCF delivers the event again",
            reason=outcome.retry_reason,
            records=sorted(outcome.retry_records),
        )
        raise RetryableFailure(
            scrubbed(outcome.retry_reason or "handling failed; a retry can help", log.secrets)
        )
    # The logger's scan of the environment, not a second one: one per invocation.
    return scrubbed(summary, log.secrets)
