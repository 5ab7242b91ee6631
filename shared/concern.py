"""A concern's contract: what a function does with parsed events, and the summary around it."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ConfigError
from .invocation import Invocation
from .log import JsonLogger
from .models import BatchEvent, ParsedInput, Rejection, SourceRecord
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
        log_rejection(rejection, log)
    unknown = parsed.unknown_events
    for event in unknown:
        log_unknown(event, log)
    troubled = [e for e in parsed.events if e.problems]
    for event in troubled:
        log_bad_times(event, log)
    outcome = isolated(concern, parsed, invocation, log)
    counts = (parsed.records, len(parsed.events), len(parsed.rejections), len(unknown), len(troubled))
    return finish(counts, outcome, log), outcome


# The warnings process() writes, one per rejection, unknown event and event with an unreadable time;
# a function that streams its input (log_node_churn) writes the same ones as it goes.


def log_rejection(rejection: Rejection, log: JsonLogger) -> None:
    """The `record rejected` warning."""
    log.warning(
        "record rejected",
        msg_id=rejection.msg_id,
        record_index=rejection.record_index,
        position=rejection.position,
        reason=rejection.reason,
    )


def log_unknown(event: BatchEvent, log: JsonLogger) -> None:
    """The `unknown event name ignored` warning."""
    log.warning(
        "unknown event name ignored",
        event_name=event.name_raw,
        msg_id=event.source.msg_id,
        position=event.position,
    )


def log_bad_times(event: BatchEvent, log: JsonLogger) -> None:
    """The `event kept with a null time` warning."""
    log.warning(
        "event kept with a null time",
        event_name=event.name_raw,
        msg_id=event.source.msg_id,
        position=event.position,
        problems=list(event.problems),
    )


def finish(counts: tuple[int, int, int, int, int], outcome: Outcome, log: JsonLogger) -> dict[str, Any]:
    """The invocation's summary, logged: the counts (records, events, rejected, unknown, bad times)
    and then the concern's figures."""
    records, events, rejected, unknown, bad_times = counts
    summary: dict[str, Any] = {
        "records": records,
        "events": events,
        "rejected": rejected,
        "unknown": unknown,
        "bad_times": bad_times,
    }
    summary.update(outcome.summary)
    log.info("summary", summary=summary)
    return summary


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
        log_unhandled(source, exc, log)
    return failed_outcome(indexes, exc)


def log_unhandled(source: SourceRecord, exc: BaseException, log: JsonLogger) -> None:
    """The error line of a record whose handling raised: it is left for redelivery."""
    log.error(
        "record not handled: the concern raised; left for redelivery",
        msg_id=source.msg_id,
        record_index=source.index,
        error=f"{type(exc).__name__}: {exc}"[:500],
    )


def failed_outcome(indexes: frozenset[int], exc: BaseException) -> Outcome:
    """The outcome of records whose handling raised (`exc`, the last error): each left for redelivery."""
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
