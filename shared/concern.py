"""A concern's contract: what a function does with parsed events, and the summary around it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .invocation import Invocation
from .log import JsonLogger
from .models import ParsedInput


@dataclass(frozen=True)
class Outcome:
    """What a concern did: figures for the summary, and the records a new delivery could help."""

    summary: dict[str, Any] = field(default_factory=dict)
    retry_records: frozenset[int] = frozenset()
    retry_reason: str = ""


Concern = Callable[[ParsedInput, Invocation, JsonLogger], Outcome]


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
