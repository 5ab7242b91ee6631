"""log_node_churn's CMQ-trigger path, streamed: each record is read, logged and let go before the next.

It writes the lines and returns the summary that parsing the whole event and running the concern on
it gives (`process(parse_trigger_event(event, topics), invocation, log, log_node_churn)`, the
reference, which the queue and push paths still take), in an order of its own: a record's warnings
come with its node lines instead of all before them. What it does not do is hold every message,
event and line until the end: on Python 3.9 that, and building the full event for the 13 fields a
node line uses, were a fifth to a third of an event's time (docs/benchmarks.md). tests/test_churn_stream.py
holds the two paths to the same lines and summary on every sample and on hostile events.

A record whose handling raises (a bug: nothing here raises on bad input) costs only itself: its error
is logged, the records after it are handled, and it is left for redelivery, as the reference's
isolation does. Each message is read whole before any of it is logged or counted, so a record whose
reading raises leaves nothing behind (should counting or writing its lines raise, those already
written stay). The summary then says what was logged: the figures of the records handled, `raised`
and `isolated`, and each failed record's reason, where the reference, which runs the concern again
record by record, adds up the figures of each run.
"""

from __future__ import annotations

from shared.concern import (
    Outcome,
    failed_outcome,
    finish,
    log_bad_times,
    log_rejection,
    log_unhandled,
    log_unknown,
    merge_outcomes,
    process,
)
from shared.envelope import message_entries, parse_entry, parse_trigger_event, record_message
from shared.errors import ConfigError
from shared.invocation import Invocation
from shared.log import JsonLogger
from shared.models import Rejection, SourceRecord

from .concern import churn_outcome, log_node_churn, log_record
from .records import is_churn_event, node_event_record, plain_record
from .summary import Churn

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Sequence


def churn_trigger(
    event: Any, topics: Sequence[str], invocation: Invocation, log: JsonLogger
) -> tuple[dict[str, Any], Outcome]:
    """The trigger path (shared.runtime's `trigger`): the summary and the outcome."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        # A bare Batch message (a manual invoke) or an event that is neither: one message or one
        # rejection, nothing to stream.
        return process(parse_trigger_event(event, topics), invocation, log, log_node_churn)
    stream = _Stream(log)
    allowed = frozenset(topics)
    failed: list[Outcome] = []
    for index, record in enumerate(records):
        source, body, rejection = record_message(record, index, allowed)
        if rejection is not None:
            stream.reject(rejection)
            continue
        assert source is not None  # noqa: S101 - record_message gives a source with every body
        try:
            stream.message(body, source)
        except ConfigError:
            raise  # not the record's fault: every record would fail alike
        except Exception as exc:  # the point: one record's bug must not cost the others
            log_unhandled(source, exc, log)
            failed.append(failed_outcome(frozenset({index}), exc))
    outcome = churn_outcome(stream.churn, stream.logged, log)
    if failed:
        # As the reference's isolation reports it: each failed record's reason, `raised`, `isolated`.
        outcome = merge_outcomes([outcome, *failed])
    counts = (len(records), stream.events, stream.rejected, stream.unknown, stream.bad_times)
    return finish(counts, outcome, log), outcome


class _Stream:
    """What the records read so far add up to."""

    __slots__ = ("bad_times", "churn", "events", "log", "logged", "rejected", "unknown")

    def __init__(self, log: JsonLogger) -> None:
        self.log = log
        self.churn = Churn()
        self.events = self.rejected = self.unknown = self.bad_times = self.logged = 0

    def reject(self, rejection: Rejection) -> None:
        log_rejection(rejection, self.log)
        self.rejected += 1

    def message(self, body: Any, source: SourceRecord) -> None:
        """One record's message: each entry a node line, a warning, or (a job or task event) counted.

        The message is read whole before anything of it is logged or counted: a record whose reading
        raises leaves no line and no figure behind, so its redelivery is not counted twice.
        """
        entries, rejection = message_entries(body, source)
        if rejection is not None:
            self.reject(rejection)
            return
        lines: list[dict[str, Any]] = []
        notes: list[tuple[Callable[[Any, JsonLogger], None], Any]] = []  # its warnings
        events = rejected = unknown = bad_times = 0
        for position, entry in enumerate(entries):
            record = plain_record(entry, source, position)
            if record is not None:
                events += 1
                lines.append(record)
                continue
            # An entry the fast path left: parsed as the reference parses it.
            event, rejection = parse_entry(entry, source, position)
            if event is None:
                notes.append((log_rejection, rejection))
                rejected += 1
                continue
            events += 1
            if event.problems:
                notes.append((log_bad_times, event))
                bad_times += 1
            if not event.known:
                notes.append((log_unknown, event))
                unknown += 1
            elif is_churn_event(event):
                lines.append(node_event_record(event))
        self.events += events
        self.rejected += rejected
        self.unknown += unknown
        self.bad_times += bad_times
        log = self.log
        for note, subject in notes:
            note(subject, log)
        churn = self.churn
        for record in lines:
            self.logged += log_record(record, churn, log)
