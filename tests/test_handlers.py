from __future__ import annotations

import json
import types

import pytest

from tests.fakes.batch.scenario import sample_cloud
from tests.helpers import FUNCTIONS, json_lines, load_event, load_handler, trigger_samples


@pytest.fixture(autouse=True)
def _batch_api(monkeypatch):
    """retry_interrupted calls the Batch API on interrupted samples: the fake knows every sample job."""
    with sample_cloud(monkeypatch) as backend:
        yield backend


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name", trigger_samples())
def test_every_handler_summarises_every_sample(function, name, capsys):
    summary = load_handler(function).main_handler(
        load_event(name), {"request_id": "req-1", "time_limit_in_ms": 30000}
    )
    json.dumps(summary)
    for key in ("records", "events", "rejected"):
        assert isinstance(summary[key], int)
    logs = json_lines(capsys.readouterr().out)
    assert logs and all(line["request_id"] == "req-1" for line in logs)


@pytest.mark.parametrize(
    "context",
    [None, {}, {"request_id": "r", "time_limit_in_ms": 3000}, types.SimpleNamespace(request_id="obj")],
)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_handlers_accept_any_context_shape(function, context):
    summary = load_handler(function).main_handler(load_event("cmq_topic_job_failed.json"), context)
    assert summary["events"] == 1


@pytest.mark.parametrize("function", FUNCTIONS)
def test_rejected_records_are_logged_with_msg_id_and_reason(function, capsys):
    summary = load_handler(function).main_handler(load_event("malformed_records.json"), None)
    assert summary["records"] == 7
    assert summary["rejected"] == 5
    assert summary["unknown"] == 1
    logs = json_lines(capsys.readouterr().out)
    rejected = {line["msg_id"]: line["reason"] for line in logs if line["msg"] == "record rejected"}
    assert rejected["bad-not-json"] == "msgBody is neither JSON nor base64 of JSON"
    assert len([line for line in logs if line["msg"] == "record rejected"]) == 5


@pytest.mark.parametrize("function", FUNCTIONS)
def test_topic_filter_setting_rejects_other_topics(function, monkeypatch):
    monkeypatch.setenv("BATCH_TOPIC_NAMES", "prod-batch-events, other")
    summary = load_handler(function).main_handler(load_event("cmq_topic_job_failed.json"), None)
    assert (summary["events"], summary["rejected"]) == (0, 1)


@pytest.mark.parametrize("name", trigger_samples())
def test_retry_handler_decides_every_interrupted_sample_without_failing(name, _batch_api, capsys):
    # GIVEN a sample, and the fake Batch API knowing every job the samples name
    # WHEN retry_interrupted handles it
    summary = load_handler("retry_interrupted").main_handler(
        load_event(name), {"request_id": "req-2", "time_limit_in_ms": 30000}
    )
    # THEN each job it names is decided (retried here: all are FAILED_INTERRUPTED), none fails
    decisions = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "retry decision"]
    assert summary["failed"] == 0
    assert summary["jobs"] == len(decisions)
    assert all(line["action"] == "retried" and line["state"] == "FAILED_INTERRUPTED" for line in decisions)
    assert _batch_api.actions("TerminateJob") == (["TerminateJob"] * len(decisions))
    retried = {line["job_id"] for line in decisions}
    assert all(_batch_api.jobs[job_id].retries == 1 for job_id in retried)
    calls = len(_batch_api.actions("RetryJobs"))  # one call takes up to 100 jobs
    assert calls <= len(decisions) and bool(calls) == bool(decisions)
