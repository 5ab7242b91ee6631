"""Oversized input and faults across the three functions: handled within memory, or rejected clearly;
the handler raises when, and only when, a new delivery can help."""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc

import pytest

from shared.catalogue import EventName
from shared.errors import RetryableFailure
from tests.fakes.batch.scenario import sample_cloud
from tests.helpers import FUNCTIONS, load_event, load_handler
from tools.generate_event import batch_event, cmq_record, trigger_event

# The 1 MB a TDMQ-CMQ queue message may hold (a topic message holds 64 KB).
ONE_MB = 1024 * 1024


def _run_quietly(function: str, event, context=None):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        summary = load_handler(function).main_handler(event, context or {"time_limit_in_ms": 60000})
    return summary, out.getvalue()


def _one_megabyte_message(name: EventName) -> dict:
    """One record whose body is about 1 MB: many events, one with a very long StateReason."""
    events = [batch_event(name, index=i, node_id=f"node-{i:05d}") for i in range(1500)]
    events[0]["Batch"]["StateReason"] = "x" * (ONE_MB // 2)
    body = json.dumps({"Events": events})
    assert len(body) >= ONE_MB * 0.9
    return {"Records": [cmq_record(body, msg_id="big-1")]}


@pytest.mark.parametrize(
    ("function", "name"),
    [
        ("alert_failures", EventName.TASK_INSTANCE_FAILED),
        ("retry_interrupted", EventName.TASK_INSTANCE_FAILED_INTERRUPTED),
        ("log_node_churn", EventName.COMPUTE_NODE_ABNORMAL),
    ],
)
def test_one_megabyte_message_is_handled_within_memory(function, name, monkeypatch):
    event = _one_megabyte_message(name)
    with sample_cloud(monkeypatch):
        tracemalloc.start()
        summary, out = _run_quietly(function, event)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert (summary["events"], summary["rejected"]) == (1500, 0)
    # 64 MB is SCF's smallest function: the handler's own allocations stay far below it.
    assert peak < 48 * ONE_MB
    # No log line repeats the half-megabyte reason whole.
    assert max(len(line) for line in out.splitlines()) < ONE_MB // 2


@pytest.mark.parametrize("function", FUNCTIONS)
def test_ten_thousand_records_are_all_accounted_for(function, monkeypatch):
    event = trigger_event(EventName.COMPUTE_NODE_RUNNING, records=10000)
    event["Records"][17]["CMQ"]["msgBody"] = "not json"
    with sample_cloud(monkeypatch):
        summary, _ = _run_quietly(function, event)
    assert (summary["records"], summary["events"], summary["rejected"]) == (10000, 9999, 1)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_poison_only_input_never_raises(function, monkeypatch):
    with sample_cloud(monkeypatch):
        summary, out = _run_quietly(function, load_event("malformed_records.json"))
    assert summary["rejected"] == 5
    assert "record rejected" in out


def test_batch_api_internal_errors_raise_for_redelivery_without_a_retry_call(monkeypatch):
    with sample_cloud(monkeypatch) as backend:
        backend.script("InternalError", action="DescribeJob", times=1000)
        with pytest.raises(RetryableFailure), contextlib.redirect_stdout(io.StringIO()):
            load_handler("retry_interrupted").main_handler(
                load_event("cmq_topic_job_failed_interrupted.json"), {"time_limit_in_ms": 20000}
            )
        assert backend.actions("RetryJobs") == []
