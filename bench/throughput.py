"""log_node_churn per event beside its peers: the hand-written handler, the pydantic-model one, and the
baseline any consumer pays (decode, `json.loads`, one `json.dumps` per event).

Each contender runs on the same trigger event, its lines written to /dev/null; the figure is the
fastest of `repeat` runs (timeit's advice for deterministic CPU-bound work), the contenders taking
turns round by round so that a busy machine slows them alike. Standard library and the repository
only, Python 3.9 syntax: `python3.9 -c "...; from bench.throughput import cli; cli()"` runs it under
SCF's runtime too (without the pydantic peer).
"""

from __future__ import annotations

import base64
import contextlib
import gc
import io
import json
import os
import sys
import time
from functools import partial
from typing import Any, Callable, Dict, Iterator, Optional

from shared.catalogue import EventName
from tools.invoke import load_handler

from .events import spread_event
from .peers import handwritten

SIZES = (1, 100, 1000, 10000)
CONTEXT = {"request_id": "bench-churn", "time_limit_in_ms": 10000, "memory_limit_in_mb": 64}
Timer = Callable[[Dict[str, Callable[[], Any]], int], Dict[str, float]]


def baseline(event: dict[str, Any]) -> None:
    """The minimum any consumer does: decode, json.loads, one json.dumps per event."""
    for record in event["Records"]:
        body = record["CMQ"]["msgBody"]
        if not body.startswith("{"):
            body = base64.b64decode(body).decode("utf-8")
        for entry in json.loads(body)["Events"]:
            json.dumps(entry)


def best_times(contenders: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """The fastest of `repeat` runs of each contender (seconds), taking turns round by round."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def repeat_for(n: int, scale: float = 1.0) -> int:
    """Runs per contender: more for small events, whose times are short and noisy."""
    return max(3, int((30 if n <= 100 else 10 if n <= 1000 else 5) * scale))


@contextlib.contextmanager
def discarded_stdout() -> Iterator[None]:
    """stdout to /dev/null for the block: every contender pays a real write, and nothing piles up."""
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def contenders(include_pydantic: bool = True) -> tuple[dict[str, Callable[[Any, Any], Any]], Optional[str]]:
    """The handlers compared, and why the pydantic peer is absent (None when it is there)."""
    handler = load_handler("log_node_churn")
    out: dict[str, Callable[[Any, Any], Any]] = {
        "log_node_churn": handler.main_handler,
        "handwritten": handwritten.main_handler,
    }
    missing: Optional[str] = "not run under this interpreter"
    if include_pydantic:
        try:
            from .peers import pydantic_model
        except ImportError as exc:
            missing = f"{exc}: pip install -r requirements-bench.txt"
        else:
            out["pydantic"] = pydantic_model.main_handler
            missing = None
    return out, missing


def throughput(
    sizes: tuple[int, ...] = SIZES,
    scale: float = 1.0,
    include_pydantic: bool = True,
    timer: Timer = best_times,
) -> dict[str, Any]:
    """Microseconds per event of the baseline and each contender, raw and base64 bodies."""
    handlers, missing = contenders(include_pydantic)
    rows = []
    for encode in (False, True):
        for n in sizes:
            event = spread_event(EventName.COMPUTE_NODE_RUNNING, n, encode)
            timed: dict[str, Callable[[], Any]] = {"baseline": partial(baseline, event)}
            timed.update({name: partial(fn, event, dict(CONTEXT)) for name, fn in handlers.items()})
            with discarded_stdout():
                seconds = timer(timed, repeat_for(n, scale))
            us = {name: s * 1e6 / n for name, s in seconds.items()}
            rows.append({"records": n, "body": "base64" if encode else "raw", "us_per_event": us})
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "rows": rows,
        "pydantic_missing": missing,
    }


STEP_LABELS = {
    "baseline": "baseline: decode, `json.loads`, one `json.dumps`",
    "envelope": "envelope: CMQ wrapper, source record, decode, JSON",
    "node_event_record": "node_event fields from the entry: times, node age, variables",
    "churn_figures": "dedupe and churn figures",
    "line_json": "node_event line: JSON encoding",
    "line_header_scrub_write": "node_event line: header, scrubbing, write",
    "rest": "the rest: settings, loop, summary lines, garbage collection",
    "handler": "log_node_churn, whole invocation",
    "handwritten": "hand-written peer, whole invocation",
}


def churn_steps(n: int = 1000, timer: Timer = best_times, scale: float = 1.0) -> dict[str, Any]:
    """Where log_node_churn's time goes: each step of its trigger path (churn.stream) timed alone on the
    same `n` raw node-event records, in microseconds per event and as a ratio to the hand-written peer's
    time per event."""
    from churn.records import plain_record
    from churn.summary import Churn

    from shared.envelope import message_entries, record_message
    from shared.log import _ENCODER, JsonLogger

    event = spread_event(EventName.COMPUTE_NODE_RUNNING, n)

    def envelope() -> None:
        for index, record in enumerate(event["Records"]):
            source, body, _ = record_message(record, index)
            assert source is not None  # noqa: S101 - as above
            message_entries(body, source)  # each message let go before the next, as the stream does

    messages = []
    for index, record in enumerate(event["Records"]):
        source, body, _ = record_message(record, index)
        assert source is not None  # noqa: S101 - every record of the bench's event has its CMQ object
        messages.append((source, message_entries(body, source)[0]))
    records = [plain_record(e, source, p) for source, entries in messages for p, e in enumerate(entries)]
    logger = JsonLogger("log_node_churn", "bench-churn", stream=io.StringIO(), env={})
    fields_only = [r for r in records if r is not None]

    def envelope_and_fields() -> None:
        # Each message's fields read while it is fresh, as the stream reads them (reading them from
        # messages kept aside costs a third more): the step is this less the envelope alone.
        for index, record in enumerate(event["Records"]):
            source, body, _ = record_message(record, index)
            assert source is not None  # noqa: S101 - as above
            for position, entry in enumerate(message_entries(body, source)[0]):
                plain_record(entry, source, position)

    def figures() -> None:
        churn = Churn()
        for record in fields_only:
            churn.add_own(record)  # what the function does with its own records
        churn.summaries()

    def write() -> None:
        for record in fields_only:
            logger.write("INFO", "node event", record)

    handler = load_handler("log_node_churn")
    timed: dict[str, Callable[[], Any]] = {
        "baseline": partial(baseline, event),
        "envelope": envelope,
        "envelope_and_fields": envelope_and_fields,
        "churn_figures": figures,
        # The logger encodes a line's fields alone and joins them to its header's cached JSON.
        "line_json": lambda: [_ENCODER.encode(record) for record in fields_only],
        "line_write": write,
        "handler": partial(handler.main_handler, event, dict(CONTEXT)),
        "handwritten": partial(handwritten.main_handler, event, dict(CONTEXT)),
    }
    # The handler pauses the cyclic garbage collector for its invocation (shared.runtime.run): every
    # step, and the peer, are timed with it paused too.
    paused = gc.isenabled()
    gc.disable()
    try:
        with discarded_stdout():
            seconds = timer(timed, repeat_for(n, scale))
    finally:
        if paused:
            gc.enable()
    us = {name: s * 1e6 / n for name, s in seconds.items()}
    us["node_event_record"] = us.pop("envelope_and_fields") - us["envelope"]
    # The write includes the encoding: what it adds is the header, the scrubbing and the write itself.
    us["line_header_scrub_write"] = us.pop("line_write") - us["line_json"]
    parts = ("envelope", "node_event_record", "churn_figures", "line_json", "line_header_scrub_write")
    us["rest"] = us["handler"] - sum(us[k] for k in parts)
    peer = us["handwritten"]
    return {
        "records": n,
        "steps": {k: {"us_per_event": us[k], "x_handwritten": us[k] / peer} for k in STEP_LABELS},
    }


def cli() -> None:
    """Under another interpreter: print the stdlib contenders' figures as one JSON line."""
    sizes = tuple(int(s) for s in sys.argv[1].split(",")) if len(sys.argv) > 1 else SIZES
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    print(json.dumps(throughput(sizes, scale, include_pydantic=False)))
