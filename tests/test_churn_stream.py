"""log_node_churn's streamed trigger path: the same lines and summary as the reference (the whole event
parsed, then the concern) on every sample and on hostile events, a fast path that is really taken,
a bounded memory, and a record whose handling raises costing only itself."""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import Any

import churn.records as records_module
import churn.stream as stream_module
import pytest
from churn.records import CHURN_NAMES, plain_record
from churn.stream import churn_trigger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.catalogue import EventName
from shared.errors import ConfigError, RetryableFailure
from shared.invocation import Invocation
from shared.log import JsonLogger
from tests.churn_paths import (
    SOURCE,
    TRICKY_TIMES,
    entry_difference,
    path_difference,
    run_path,
    sample_events,
    takes_fast_path,
    time_difference,
)
from tests.helpers import load_event, load_handler
from tests.strategies import (
    CLASSES,
    DrawSource,
    decode_sample_body,
    hostile_message,
    materialise,
    node_samples,
    trigger_cases,
)
from tools.generate_event import batch_event, trigger_event

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOPICS = st.sampled_from(((), ("batch-events",), ("another-topic",)))


class _Sink:
    """A stdout that keeps nothing (so that a memory figure is the function's own)."""

    def write(self, text: str) -> int:
        return len(text)


# --- the two paths agree --------------------------------------------------------------------------


@pytest.mark.parametrize("topics", [(), ("batch-events",), ("another-topic",)])
@pytest.mark.parametrize(("name", "event"), sample_events(), ids=[n for n, _ in sample_events()])
def test_every_sample_gives_the_reference_lines_and_summary(name, event, topics):
    assert path_difference(event, topics) is None


@PROPERTY
@given(case=trigger_cases(), topics=TOPICS)
def test_hostile_trigger_events_give_the_reference_lines_and_summary(case, topics):
    assert path_difference(case.event, topics) is None


@st.composite
def node_bursts(draw: st.DrawFn) -> dict[str, Any]:
    """Trigger events of node events only, with repeats (the same event under two msgIds), several
    events per message, blank and odd fields: the stream's own ground."""
    names = sorted(CHURN_NAMES)
    records = []
    for index in range(draw(st.integers(0, 12))):
        entries = []
        for _ in range(draw(st.integers(1, 3))):
            fields: dict[str, Any] = {
                "env_id": draw(st.sampled_from(["env-a", "env-b", " env-a ", ""])),
                "node_id": draw(st.sampled_from(["node-1", "node-2", "node-3", ""])),
            }
            entry = batch_event(EventName(draw(st.sampled_from(names))), **fields)
            if draw(st.booleans()):
                entry["EventTime"] = draw(st.sampled_from(TRICKY_TIMES[:12]))
            if draw(st.booleans()):
                entry["Batch"]["ResourceCreatedTime"] = draw(st.sampled_from(TRICKY_TIMES))
            entries.append(entry)
        body = json.dumps({"Events": entries})
        records.append(trigger_event(EventName.COMPUTE_NODE_RUNNING, records=1)["Records"][0])
        records[-1]["CMQ"].update(msgBody=body, msgId=f"msg-{index % 5}")
    return {"Records": records}


@PROPERTY
@given(event=node_bursts())
def test_node_bursts_with_repeats_give_the_reference_lines_and_summary(event):
    assert path_difference(event) is None


# --- its fast pieces agree with what they stand in for ---------------------------------------------


@pytest.mark.parametrize("text", TRICKY_TIMES, ids=repr)
def test_utc_time_reads_each_tricky_text_as_parse_time_and_iso_of(text):
    assert time_difference(text) is None


OFFSETS = st.sampled_from(["Z", "z", "", "+00:00", "+08:00", "-05:30", "+23:59"])


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    separator=st.sampled_from(["T", " ", "t"]),
    offset=OFFSETS,
    fraction=st.booleans(),
)
def test_utc_time_reads_every_time_as_parse_time_and_iso_of(moment, separator, offset, fraction):
    text = moment.isoformat(sep=separator, timespec="microseconds" if fraction else "seconds") + offset
    assert time_difference(text) is None


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    edits=st.lists(
        st.tuples(st.integers(0, 19), st.sampled_from(list("0123456789 +-:.TtZz\u0661\uff12\t\xa0W"))),
        max_size=3,
    ),
)
def test_utc_time_reads_a_batch_time_with_characters_changed_as_parse_time_and_iso_of(moment, edits):
    # A Batch time (`YYYY-MM-DDTHH:MM:SSZ`) with up to three characters changed: most keep its shape,
    # so the fast reading is tried on digits, signs and spaces it must refuse as parse_time refuses them.
    text = list(moment.isoformat(timespec="seconds") + "Z")
    for at, character in edits:
        text[at] = character
    assert time_difference("".join(text)) is None


def test_a_batch_time_is_read_without_parse_time(monkeypatch):
    # Without this, a fast reading that always stood aside would pass the tests above.
    def refused(text: Any) -> None:
        raise AssertionError(f"parse_time({text!r}) called")

    monkeypatch.setattr(records_module, "parse_time", refused)
    moment, text = records_module.utc_time("2026-11-20T08:35:00Z")
    assert (moment, text) == (datetime(2026, 11, 20, 8, 35, tzinfo=timezone.utc), "2026-11-20T08:35:00Z")
    assert moment is not None and moment.tzinfo is timezone.utc


@st.composite
def hostile_entries(draw: st.DrawFn) -> Any:
    """An entry of a hostile message (every mutation class), or a node event with odd field values."""
    if draw(st.booleans()):
        message = materialise(hostile_message(DrawSource(draw), CLASSES, []))
        entries = message.get("Events") if isinstance(message, dict) else None
        if isinstance(entries, list) and entries:
            return entries[draw(st.integers(0, len(entries) - 1))]
        return message
    entry = batch_event(EventName(draw(st.sampled_from(sorted(CHURN_NAMES)))), node_id="node-x")
    odd = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(TRICKY_TIMES),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
    batch_keys = ("EnvId", "EnvName", "ComputeNodeId", "ComputeNodeInstanceId", "ComputeNodeState")
    for key in draw(
        st.lists(st.sampled_from((*batch_keys, "Cpu", "Mem", "ResourceCreatedTime")), max_size=4)
    ):
        entry["Batch"][key] = draw(odd)
    for key in draw(
        st.lists(st.sampled_from(("EventName", "EventTime", "Region", "EventVars", "Batch")), max_size=2)
    ):
        entry[key] = draw(odd)
    return entry


@PROPERTY
@given(entry=hostile_entries())
def test_the_fast_record_is_the_reference_record_whenever_it_is_built(entry):
    assert entry_difference(entry) is None


def test_every_node_sample_takes_the_fast_path():
    # Without this, a fast path that always stood aside would pass every test above.
    entries = [e for sample in node_samples() for e in decode_sample_body(sample.body)["Events"]]
    assert entries
    assert all(takes_fast_path(entry) for entry in entries)


def test_the_handler_streams_the_trigger_event(monkeypatch):
    # GIVEN a count of the entries the fast path sees
    seen = []

    def counting(entry: Any, source: Any, position: int) -> Any:
        seen.append(position)
        return plain_record(entry, source, position)

    monkeypatch.setattr(stream_module, "plain_record", counting)
    event = trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=3)
    # WHEN the handler runs on a trigger event
    with contextlib.redirect_stdout(io.StringIO()):
        summary = load_handler("log_node_churn").main_handler(event, {"request_id": "r"})
    # THEN it went through the stream, and logged every event
    assert len(seen) == 3
    assert summary["node_events"] == 3


# --- what a run holds ------------------------------------------------------------------------------


def test_ten_thousand_records_are_streamed_within_a_few_megabytes():
    # GIVEN a 10,000-record trigger event (about 12 MB as Python objects, which the caller holds)
    event = trigger_event(EventName.COMPUTE_NODE_RUNNING, records=10000)
    log = JsonLogger("log_node_churn", "r", stream=_Sink(), env={})  # type: ignore[arg-type]
    # WHEN the stream handles it
    tracemalloc.start()
    summary, _ = churn_trigger(event, (), Invocation.from_context({}), log)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # THEN every event was logged, and what the run held at most is its dedupe keys and figures
    # (about 3 MB), not every parsed message and line (35 MB on the reference path)
    assert summary["node_events"] == 10000
    assert peak < 10 * 1024 * 1024


# --- a record whose handling raises costs only itself ----------------------------------------------


def _raising_on(msg_id: str, error: Exception) -> Any:
    def plain(entry: Any, source: Any, position: int) -> Any:
        if source.msg_id == msg_id:
            raise error
        return plain_record(entry, source, position)

    return plain


def test_a_record_that_raises_is_left_for_redelivery_and_the_others_logged_once(monkeypatch):
    # GIVEN three node records, the middle one raising inside the stream
    event = trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=3)
    middle = event["Records"][1]["CMQ"]["msgId"]
    monkeypatch.setattr(stream_module, "plain_record", _raising_on(middle, KeyError("boom")))
    # WHEN the stream handles them
    run = run_path(event, (), stream=True)
    # THEN the other two are logged once each, the middle one's error names it
    logged = [line["msg_id"] for line in run.node_lines()]
    assert sorted(logged) == sorted(
        r["CMQ"]["msgId"] for r in event["Records"] if r["CMQ"]["msgId"] != middle
    )
    errors = [line for line in run.lines if line["level"] == "ERROR"]
    assert [(e["msg_id"], e["record_index"]) for e in errors] == [(middle, 1)]
    assert "KeyError" in errors[0]["error"]
    # AND only it is left for redelivery, with the reason the reference's isolation gives
    assert run.outcome.retry_records == frozenset({1})
    assert run.outcome.retry_reason == "KeyError while handling 1 record(s)"
    # AND the summary counts what was handled: the two logged records, the one that raised
    summary = run.summary
    assert (summary["events"], summary["node_events"], summary["raised"], summary["isolated"]) == (
        2,
        2,
        1,
        True,
    )


def test_each_failed_record_gives_its_reason_as_the_references_isolation_does(monkeypatch):
    event = trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=4)
    ids = {event["Records"][0]["CMQ"]["msgId"], event["Records"][2]["CMQ"]["msgId"]}

    def plain(entry: Any, source: Any, position: int) -> Any:
        if source.msg_id in ids:
            raise KeyError(source.msg_id)
        return plain_record(entry, source, position)

    monkeypatch.setattr(stream_module, "plain_record", plain)
    run = run_path(event, (), stream=True)
    assert run.outcome.retry_records == frozenset({0, 2})
    assert (
        run.outcome.retry_reason == "KeyError while handling 1 record(s); KeyError while handling 1 record(s)"
    )
    assert run.summary["raised"] == 2


def test_a_record_that_raises_part_way_leaves_no_line_and_no_figure(monkeypatch):
    # GIVEN a record of two node events (its own environment) whose second entry raises when read
    entries = [
        batch_event(EventName.COMPUTE_NODE_CREATED, env_id="env-doomed", node_id=f"node-{n}")
        for n in range(2)
    ]
    event = trigger_event(EventName.COMPUTE_NODE_RUNNING, records=2)
    event["Records"][0]["CMQ"]["msgBody"] = json.dumps({"Events": entries})
    doomed = event["Records"][0]["CMQ"]["msgId"]

    def plain(entry: Any, source: Any, position: int) -> Any:
        if source.msg_id == doomed and position == 1:
            raise TypeError("second entry")
        return plain_record(entry, source, position)

    monkeypatch.setattr(stream_module, "plain_record", plain)
    # WHEN the stream handles it and the record after it
    run = run_path(event, (), stream=True)
    # THEN nothing of the failed record is logged or counted (its redelivery will be), the next one is
    assert [line["msg_id"] for line in run.node_lines()] == [event["Records"][1]["CMQ"]["msgId"]]
    summaries = [line for line in run.lines if line["msg"] == "churn summary"]
    assert all(line["env_id"] != "env-doomed" for line in summaries)
    assert (run.summary["events"], run.summary["node_events"], run.summary["environments"]) == (1, 1, 1)
    assert run.outcome.retry_records == frozenset({0})


def test_the_handler_raises_for_redelivery_when_a_record_raised(monkeypatch):
    event = trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=2)
    monkeypatch.setattr(
        stream_module, "plain_record", _raising_on(event["Records"][0]["CMQ"]["msgId"], TypeError())
    )
    with pytest.raises(RetryableFailure), contextlib.redirect_stdout(io.StringIO()):
        load_handler("log_node_churn").main_handler(event, {"request_id": "r"})


def test_a_config_error_stops_the_stream_as_it_stops_the_reference(monkeypatch):
    event = trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=2)
    monkeypatch.setattr(
        stream_module,
        "plain_record",
        _raising_on(event["Records"][1]["CMQ"]["msgId"], ConfigError("X is bad")),
    )
    with pytest.raises(ConfigError):
        run_path(event, (), stream=True)


def test_a_bare_message_takes_the_reference_path():
    # A manual invoke with a bare Batch message: one message, nothing to stream.
    message = json.loads(load_event("cmq_topic_compute_node_abnormal.json")["Records"][0]["CMQ"]["msgBody"])
    run = run_path(message, (), stream=True)
    assert (run.summary["records"], run.summary["node_events"]) == (1, len(message["Events"]))


def test_times_an_hour_apart_still_give_node_ages():
    # A fast-path record's age comes from the two times it read (no event in between).
    entry = batch_event(EventName.COMPUTE_NODE_DELETING, node_id="n")
    created = datetime(2026, 11, 20, 7, 35, tzinfo=timezone.utc)
    entry["Batch"]["ResourceCreatedTime"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    entry["EventTime"] = (created + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = plain_record(entry, SOURCE, 0)
    assert record is not None
    assert record["node_age_s"] == 3600
