"""The part every handler shares: read the context, parse the input, log rejections, summarise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .envelope import parse_trigger_event
from .errors import RetryableFailure
from .invocation import Invocation
from .log import JsonLogger
from .models import ParsedInput
from .settings import env_list


@dataclass(frozen=True)
class Outcome:
    """What a concern did: figures for the summary, and the records a new delivery could help."""

    summary: dict[str, Any] = field(default_factory=dict)
    retry_records: frozenset[int] = frozenset()
    retry_reason: str = ""


Concern = Callable[[ParsedInput, Invocation, JsonLogger], Outcome]


def run(event: Any, context: Any, *, function: str, concern: Concern) -> dict[str, Any]:
    """Handle one SCF invocation: returns the summary, raises only when a redelivery can help."""
    invocation = Invocation.from_context(context)
    log = JsonLogger(function, invocation.request_id)
    parsed = parse_trigger_event(event, env_list("BATCH_TOPIC_NAMES"))
    summary, outcome = process(parsed, invocation, log, concern)
    if outcome.retry_records:
        log.error(
            "invocation failed; raising so that SCF delivers the event again",
            reason=outcome.retry_reason,
            records=sorted(outcome.retry_records),
        )
        raise RetryableFailure(outcome.retry_reason or "handling failed; a retry can help")
    return summary


def process(
    parsed: ParsedInput, invocation: Invocation, log: JsonLogger, concern: Concern
) -> tuple[dict[str, Any], Outcome]:
    """Log what was rejected or unknown, run the concern, and log and return the summary."""
    for rejection in parsed.rejections:
        log.warning(
            "record rejected",
            msg_id=rejection.msg_id,
            record_index=rejection.record_index,
            position=rejection.position,
            reason=rejection.reason,
        )
    unknown = parsed.unknown_events
    for event in unknown:
        log.warning(
            "unknown event name ignored",
            event_name=event.name_raw,
            msg_id=event.source.msg_id,
            position=event.position,
        )
    outcome = concern(parsed, invocation, log)
    summary: dict[str, Any] = {
        "records": parsed.records,
        "events": len(parsed.events),
        "rejected": len(parsed.rejections),
        "unknown": len(unknown),
    }
    summary.update(outcome.summary)
    log.info("summary", summary=summary)
    return summary, outcome


def parse_only(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    """A concern that does nothing beyond parsing: the summary counts are all it reports."""
    return Outcome()
