"""log_node_churn's two trigger paths side by side: the stream (churn.stream, what the handler runs) and
the reference (the whole event parsed, then the concern), and the fast pieces of the stream against the
functions they stand in for. Standard library only, Python 3.9 syntax: tests/test_churn_stream.py uses it
under the repository's Python, and `make compat` runs it as a module under SCF's 3.9 (whose
`datetime.fromisoformat` reads fewer forms than 3.11's):

    python3.9 -m tests.churn_paths
"""

from __future__ import annotations

import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "functions" / "log_node_churn"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from churn.concern import log_node_churn  # noqa: E402
from churn.records import is_churn_event, iso_of, node_event_record, plain_record, utc_time  # noqa: E402
from churn.stream import churn_trigger  # noqa: E402

from shared.concern import Outcome, process  # noqa: E402
from shared.envelope import decode_body, parse_entry, parse_time, parse_trigger_event  # noqa: E402
from shared.invocation import Invocation  # noqa: E402
from shared.log import JsonLogger  # noqa: E402
from shared.models import SourceRecord  # noqa: E402

SOURCE = SourceRecord("msg-paths", "batch-events", index=4)
# Texts where a reading of the time could go wrong: each form parse_time takes, the shapes of
# `YYYY-MM-DDTHH:MM:SSZ` that are not it (or not a time), and the edges of datetime's range.
TRICKY_TIMES: Tuple[Any, ...] = (
    "2026-11-20T08:35:00Z",
    "2026-11-20T08:35:00z",
    "2026-11-20 08:35:00Z",
    "2026-11-20T08:35:00",
    "2026-11-20T08:35:00+08:00",
    "2026-11-20T08:35:00-00:00",
    "2026-11-20T08:35:00.123Z",
    "2026-11-20T08:35:00.000001Z",
    "2026-11-20 08:35:00",
    " 026-11-20T08:35:00Z",
    "\t026-11-20T08:35:00Z",
    "2026-11-20T08:35:00Z ",
    " 2026-11-20T08:35:00Z",
    "2026-13-20T08:35:00Z",
    "2026-02-30T08:35:00Z",
    "2026-11-20T24:00:00Z",
    "2026-11-20T08:60:00Z",
    "2026-11-20T08:35:61Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "2026-1\u0661-20T08:35:00Z",
    "\uff12026-11-20T08:35:00Z",
    "+026-11-20T08:35:00Z",
    "-026-11-20T08:35:00Z",
    "2026-W47-5T08:35:0Z",
    "20261120T083500Z",
    "2026-11-20T083500Z  ",
    "2026-11-20T08:35Z",
    "2026-11-20TZZ:ZZ:ZZZ",
    "XXXX-XX-XXTXX:XX:XXZ",
    "2026-11-20T08:35:00\ud800",
    "",
    "   ",
    None,
    0,
    1732093200,
    20261120.5,
    True,
    ["2026-11-20T08:35:00Z"],
    {"t": "2026-11-20T08:35:00Z"},
)


def time_difference(text: Any) -> Optional[str]:
    """None when utc_time reads `text` as parse_time and iso_of do, else what differs."""
    moment = parse_time(text)
    expected = (moment, iso_of(moment, text))
    got = utc_time(text)
    same = got == expected and (got[0] is None or got[0].tzinfo is expected[0].tzinfo)  # type: ignore[union-attr]
    return None if same else f"utc_time({text!r}) = {got!r}, parse_time and iso_of give {expected!r}"


def entry_difference(entry: Any, source: SourceRecord = SOURCE, position: int = 2) -> Optional[str]:
    """None when plain_record gives node_event_record(parse_batch_event(...)) for `entry`, or gives
    None for an entry that the reference does not log as it is (a rejection, an unknown or non-churn
    event, an event with a time it warns about); else what differs."""
    record = plain_record(entry, source, position)
    if record is None:
        return None
    event, rejection = parse_entry(entry, source, position)
    if event is None:
        return f"plain_record built a line for an entry the envelope rejects: {rejection}"
    if not event.known or not is_churn_event(event) or event.problems:
        return f"plain_record built a line for {event.name_raw!r} (problems {event.problems})"
    reference = node_event_record(event)
    if record != reference or list(record) != list(reference):
        return f"plain_record gave {record!r}, the reference {reference!r}"
    return None


def takes_fast_path(entry: Any) -> bool:
    """True when plain_record builds the line itself (the stream's usual case)."""
    return plain_record(entry, SOURCE, 0) is not None


class Run:
    """One path's summary, outcome and log lines on one event."""

    def __init__(self, summary: dict, outcome: Outcome, text: str) -> None:
        self.summary = summary
        self.outcome = outcome
        self.lines: List[dict] = [json.loads(line) for line in text.splitlines()]
        for line in self.lines:
            line.pop("ts")

    def multiset(self) -> Counter:
        """The lines, timestamps aside, in any order."""
        return Counter(json.dumps(line, sort_keys=True) for line in self.lines)

    def node_lines(self) -> List[dict]:
        """The node_event lines, in order."""
        return [line for line in self.lines if line["msg"] == "node event"]


def run_path(event: Any, topics: Sequence[str], stream: bool) -> Run:
    """log_node_churn's trigger path on `event`: the stream or the reference."""
    out = io.StringIO()
    log = JsonLogger("log_node_churn", "req-paths", stream=out, env={})
    invocation = Invocation.from_context({"request_id": "req-paths", "time_limit_in_ms": 3000})
    if stream:
        summary, outcome = churn_trigger(event, topics, invocation, log)
    else:
        summary, outcome = process(parse_trigger_event(event, topics), invocation, log, log_node_churn)
    return Run(summary, outcome, out.getvalue())


def path_difference(event: Any, topics: Sequence[str] = ()) -> Optional[str]:
    """None when the stream and the reference give the same summary, outcome and lines (their order
    aside, the node_event lines' own order included) on `event`, else what differs."""
    fast, reference = run_path(event, topics, True), run_path(event, topics, False)
    if fast.summary != reference.summary:
        return f"summary {fast.summary} against the reference's {reference.summary}"
    if (fast.outcome.retry_records, fast.outcome.retry_reason) != (
        reference.outcome.retry_records,
        reference.outcome.retry_reason,
    ):
        return f"outcome {fast.outcome} against the reference's {reference.outcome}"
    if fast.node_lines() != reference.node_lines():
        return "the node_event lines differ (or their order)"
    if fast.multiset() != reference.multiset():
        extra = fast.multiset() - reference.multiset()
        missing = reference.multiset() - fast.multiset()
        return f"lines only the stream wrote: {list(extra)[:3]}; only the reference: {list(missing)[:3]}"
    return None


def sample_events() -> List[Tuple[str, Any]]:
    """Every sample in events/ that is a CMQ-trigger event or a bare Batch message."""
    out = []
    for path in sorted((ROOT / "events").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and ("Records" in data or "Events" in data):
            out.append((path.name, data))
    return out


def main() -> int:
    """Check the two paths on every sample and the times on TRICKY_TIMES; print what differs."""
    problems = [p for p in map(time_difference, TRICKY_TIMES) if p]
    checked = 0
    for name, event in sample_events():
        for topics in ((), ("batch-events",), ("another-topic",)):
            difference = path_difference(event, topics)
            if difference:
                problems.append(f"{name} (topics {topics}): {difference}")
        for record in event.get("Records") or []:
            cmq = record.get("CMQ") if isinstance(record, dict) else None
            try:
                entries = decode_body(cmq.get("msgBody")).get("Events")  # type: ignore[union-attr]
            except Exception:
                entries = []
            for entry in entries if isinstance(entries, list) else []:
                checked += 1
                difference = entry_difference(entry)
                if difference:
                    problems.append(f"{name}: {difference}")
    for problem in problems:
        print(problem)
    version = ".".join(map(str, sys.version_info[:3]))
    verdict = "differ" if problems else "agree"
    print(f"python {version}: stream and reference {verdict} ({len(TRICKY_TIMES)} times, {checked} entries)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
