"""A concern's contract: what a function does with parsed events, and the summary around it."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError
from .invocation import Invocation
from .log import JsonLogger
from .models import ParsedInput
from .record import Record

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


class Outcome(Record):
    """What a concern did: figures for the summary, and the records a new delivery could help."""

    __slots__ = ("retry_reason", "retry_records", "summary")

    def __init__(
        self,
        summary: Optional[dict[str, Any]] = None,
        retry_records: frozenset[int] = frozenset(),
        retry_reason: str = "",
    ) -> None:
        self.summary: dict[str, Any] = {} if summary is None else summary
        self.retry_records = retry_records
        self.retry_reason = retry_reason


if TYPE_CHECKING:
    Concern = Callable[[ParsedInput, Invocation, JsonLogger], Outcome]
else:
    Concern = None  # for annotations only (they are strings at run time): mypy reads the alias above


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
    troubled = [e for e in parsed.events if e.problems]
    for event in troubled:
        log.warning(
            "event kept with a null time",
            event_name=event.name_raw,
            msg_id=event.source.msg_id,
            position=event.position,
            problems=list(event.problems),
        )
    outcome = isolated(concern, parsed, invocation, log)
    summary: dict[str, Any] = {
        "records": parsed.records,
        "events": len(parsed.events),
        "rejected": len(parsed.rejections),
        "unknown": len(unknown),
        "bad_times": len(troubled),
    }
    summary.update(outcome.summary)
    log.info("summary", summary=summary)
    return summary, outcome


def isolated(concern: Concern, parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    """Run the concern on the whole input; when it raises unexpectedly, run it again record by record,
    so that every record that can be handled is, and only those that still raise are left for
    redelivery (and, at last, the dead-letter queue), each logged with its msgId and the exception.

    A ConfigError is not a record's fault: it is raised as it is (every record would fail alike).
    """
    try:
        return concern(parsed, invocation, log)
    except ConfigError:
        raise
    except Exception as exc:  # the point: one record's bug must not cost the others
        if len(parsed.sources) <= 1:
            return _failed_outcome(parsed, exc, log)
        log.error(
            "concern raised; handling the records one by one",
            error=f"{type(exc).__name__}: {exc}"[:500],
            records=parsed.records,
        )
    outcomes = [_one_record(concern, part, invocation, log) for part in split_by_record(parsed)]
    return merge_outcomes(outcomes)


def _one_record(concern: Concern, part: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    try:
        return concern(part, invocation, log)
    except ConfigError:
        raise
    except Exception as exc:  # see isolated()
        return _failed_outcome(part, exc, log)


def _failed_outcome(part: ParsedInput, exc: BaseException, log: JsonLogger) -> Outcome:
    indexes = frozenset(source.index for source in part.sources) or frozenset({0})
    for source in part.sources:
        log.error(
            "record not handled: the concern raised; left for redelivery",
            msg_id=source.msg_id,
            record_index=source.index,
            error=f"{type(exc).__name__}: {exc}"[:500],
        )
    reason = f"{type(exc).__name__} while handling {len(indexes)} record(s)"
    return Outcome(summary={"raised": len(indexes)}, retry_records=indexes, retry_reason=reason)


def split_by_record(parsed: ParsedInput) -> list[ParsedInput]:
    """One ParsedInput per source record, holding that record's events and rejections."""
    parts = []
    for source in parsed.sources:
        events = tuple(e for e in parsed.events if e.source.index == source.index)
        rejections = tuple(r for r in parsed.rejections if r.record_index == source.index)
        parts.append(ParsedInput(1, events, rejections, (source,)))
    return parts


def merge_outcomes(outcomes: list[Outcome]) -> Outcome:
    """The outcomes of separate runs as one: figures added, flags or-ed, lists joined, reasons kept."""
    summary: dict[str, Any] = {}
    for outcome in outcomes:
        summary = _merge(summary, outcome.summary)
    summary["isolated"] = True
    records = frozenset().union(*(o.retry_records for o in outcomes)) if outcomes else frozenset()
    reasons = [o.retry_reason for o in outcomes if o.retry_reason]
    reason = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "")
    return Outcome(summary=summary, retry_records=frozenset(records), retry_reason=reason)


def _merge(left: dict[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(left)
    for key, value in right.items():
        mine = merged.get(key)
        if key not in merged:
            merged[key] = value
        elif isinstance(value, bool) or isinstance(mine, bool):
            merged[key] = bool(mine) or bool(value)
        elif isinstance(value, (int, float)) and isinstance(mine, (int, float)):
            merged[key] = mine + value
        elif isinstance(value, Mapping) and isinstance(mine, Mapping):
            merged[key] = _merge(dict(mine), value)
        elif isinstance(value, list) and isinstance(mine, list):
            merged[key] = mine + [v for v in value if v not in mine]
    return merged


def parse_only(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
    """A concern that does nothing beyond parsing: the summary counts are all it reports."""
    return Outcome()
