from __future__ import annotations

import json
import types

import pytest

from tests.helpers import FUNCTIONS, json_lines, load_event, load_handler, trigger_samples


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name", trigger_samples())
def test_every_handler_summarises_every_sample(function, name, capsys):
    summary = load_handler(function).main_handler(load_event(name), {"request_id": "req-1"})
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
