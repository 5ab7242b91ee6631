"""log_node_churn with CHURN_METRICS=1: Cloud Monitor custom metrics, batched, best effort."""

from __future__ import annotations

import io
import json

import pytest
import requests
import responses
from churn.config import ChurnConfig
from churn.metrics import MAX_PER_REQUEST, metric_data, publish

from shared.errors import ConfigError
from shared.invocation import Invocation
from shared.log import JsonLogger
from tests.helpers import json_lines, load_event, load_handler

MONITOR = "https://monitor.tencentcloudapi.com/"
OK = {"Response": {"RequestId": "req-monitor-1"}}


@pytest.fixture
def metrics_on(monkeypatch):
    monkeypatch.setenv("CHURN_METRICS", "1")
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDtestchurn")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "test-secret-key-churn")


def _two_env_event():
    event = load_event("cmq_topic_churn_env_lifecycle.json")
    event["Records"] += load_event("cmq_topic_compute_node_abnormal.json")["Records"]
    return event


def _sent(call):
    return json.loads(call.request.body)


@responses.activate
def test_figures_are_sent_as_put_monitor_data_one_request_per_environment(metrics_on, capsys):
    # GIVEN Cloud Monitor answering success, and events of two environments
    responses.add(responses.POST, MONITOR, json=OK, status=200, content_type="application/json")
    # WHEN the function handles them
    summary = load_handler("log_node_churn").main_handler(_two_env_event(), {"request_id": "m1"})
    # THEN one signed PutMonitorData request per environment, the environment as the instance
    assert len(responses.calls) == 2
    first = responses.calls[0].request
    assert first.headers["X-TC-Action"] == "PutMonitorData"
    assert first.headers["X-TC-Version"] == "2018-07-24"
    assert first.headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDtestchurn/")
    bodies = [_sent(c) for c in responses.calls]
    assert [b["AnnounceInstance"] for b in bodies] == ["env-churn001", "env-ptoxdb1t"]
    assert all(b["AnnounceTimestamp"] % 60 == 0 for b in bodies)
    metrics = {m["MetricName"]: m["Value"] for m in bodies[0]["Metrics"]}
    assert metrics["batch_churn_nodes_seen"] == 3
    assert metrics["batch_churn_events_compute_node_deleting"] == 2
    assert metrics["batch_churn_events_compute_env_deleted"] == 0
    assert metrics["batch_churn_abnormal_rate_pct"] == 33
    assert metrics["batch_churn_node_age_max_s"] == 10800
    assert all(isinstance(v, int) for v in metrics.values())
    sent = sum(len(b["Metrics"]) for b in bodies)
    assert summary["metrics"] == {"requests": 2, "sent": sent, "failed": 0, "skipped": 0}
    # AND the secret key never reaches the logs
    assert "test-secret-key-churn" not in capsys.readouterr().out


@responses.activate
def test_an_api_error_is_logged_and_the_rest_skipped_never_raised(metrics_on, capsys):
    # GIVEN Cloud Monitor refusing the call (as a retired API might)
    error = {
        "Response": {"Error": {"Code": "UnsupportedOperation", "Message": "api offline"}, "RequestId": "r"}
    }
    responses.add(responses.POST, MONITOR, json=error, status=200, content_type="application/json")
    # WHEN the function handles two environments
    summary = load_handler("log_node_churn").main_handler(_two_env_event(), None)
    # THEN it returns normally; the failure is a warning line with the code; the second request is not sent
    assert summary["metrics"] == {"requests": 1, "sent": 0, "failed": 1, "skipped": 1}
    assert len(responses.calls) == 1
    logs = json_lines(capsys.readouterr().out)
    (failed,) = [x for x in logs if x.get("msg") == "churn metrics failed"]
    assert (failed["level"], failed["code"], failed["env_id"]) == (
        "WARNING",
        "UnsupportedOperation",
        "env-churn001",
    )
    assert "api offline" in failed["reason"]
    # AND the churn lines were written before the metrics step
    assert len([x for x in logs if x.get("kind") == "churn_summary"]) == 2


@responses.activate
def test_no_answer_from_cloud_monitor_is_logged_never_raised(metrics_on, capsys):
    # GIVEN a connection that fails
    responses.add(responses.POST, MONITOR, body=requests.ConnectionError("connection refused"))
    # WHEN the function handles a node event
    summary = load_handler("log_node_churn").main_handler(
        load_event("cmq_topic_compute_node_created.json"), None
    )
    # THEN the run succeeds and says the metrics failed
    assert summary["metrics"]["failed"] == 1
    assert summary["node_events"] == 1
    assert any(x.get("msg") == "churn metrics failed" for x in json_lines(capsys.readouterr().out))


@responses.activate
def test_metrics_off_sends_nothing(capsys):
    # GIVEN CHURN_METRICS unset WHEN handling node events THEN no request at all
    summary = load_handler("log_node_churn").main_handler(_two_env_event(), None)
    assert summary["metrics"] == "off"
    assert len(responses.calls) == 0


@responses.activate
def test_job_events_send_no_metrics(metrics_on):
    # GIVEN metrics on but a job event WHEN handled THEN nothing to send, no request
    summary = load_handler("log_node_churn").main_handler(load_event("cmq_topic_job_failed.json"), None)
    assert summary["metrics"] == "off"
    assert len(responses.calls) == 0


class _FakeClient:
    def __init__(self, calls, fail=None):
        self.calls, self.fail = calls, fail

    def call_json(self, action, params):
        self.calls.append((action, params))
        if self.fail:
            raise self.fail
        return OK


def _summary(env_id, **extra):
    figures = {
        "env_id": env_id,
        "region": "ap-beijing",
        "counts": {"COMPUTE_NODE_CREATED": 1},
        "nodes_seen": 1,
    }
    figures.update(extra)
    return figures


def test_requests_are_batched_at_most_30_pairs_and_one_per_environment():
    # GIVEN three environments' figures WHEN published
    calls: list = []
    regions: list = []

    def factory(region, timeout_s):
        regions.append((region, timeout_s))
        return _FakeClient(calls)

    log = JsonLogger("log_node_churn", stream=io.StringIO())
    result = publish(
        [_summary("env-a"), _summary("env-b"), _summary("env-c", region=None)],
        config=ChurnConfig(metrics=True, metrics_timeout_s=4),
        invocation=Invocation(time_limit_ms=30000, region="ap-shanghai"),
        log=log,
        client_factory=factory,
        clock=lambda: 1795000059.9,
    )
    # THEN one request each, within the documented 30 pairs, stamped at the whole minute
    assert [p["AnnounceInstance"] for _, p in calls] == ["env-a", "env-b", "env-c"]
    assert all(
        len(p["Metrics"]) <= MAX_PER_REQUEST and p["AnnounceTimestamp"] == 1795000020 for _, p in calls
    )
    # AND the environment's region is used, else the function's own, with the configured timeout
    assert regions == [("ap-beijing", 4), ("ap-beijing", 4), ("ap-shanghai", 4)]
    assert result.as_dict() == {
        "requests": 3,
        "sent": sum(len(p["Metrics"]) for _, p in calls),
        "failed": 0,
        "skipped": 0,
    }


def test_missing_credentials_are_logged_not_raised():
    # GIVEN no credentials (the client factory raises ConfigError) WHEN publishing
    out = io.StringIO()

    def factory(region, timeout_s):
        raise ConfigError("no Tencent Cloud credentials")

    result = publish(
        [_summary("env-a")],
        config=ChurnConfig(metrics=True),
        invocation=Invocation(time_limit_ms=30000),
        log=JsonLogger("log_node_churn", stream=out),
        client_factory=factory,
    )
    # THEN a warning line names the error
    assert result.failed == 1
    (line,) = json_lines(out.getvalue())
    assert (line["msg"], line["error"]) == ("churn metrics failed", "ConfigError")


def test_metrics_are_skipped_when_the_invocation_has_no_time_left():
    # GIVEN an invocation whose clock says the 3 s limit has passed
    ticks = iter([0.0] + [10.0] * 10)
    invocation = Invocation.from_context({"time_limit_in_ms": 3000}, clock=lambda: next(ticks))
    calls: list = []
    out = io.StringIO()
    # WHEN publishing two environments
    result = publish(
        [_summary("env-a"), _summary("env-b")],
        config=ChurnConfig(metrics=True),
        invocation=invocation,
        log=JsonLogger("log_node_churn", stream=out),
        client_factory=lambda region, timeout_s: _FakeClient(calls),
    )
    # THEN nothing is sent and the skip is logged
    assert (calls, result.skipped) == ([], 2)
    assert "not enough time left" in out.getvalue()


def test_metric_values_are_integers_and_unknown_figures_are_left_out():
    # GIVEN an environment with no nodes (rates and ages unknown)
    figures = {"env_id": "e", "counts": {"COMPUTE_ENV_CREATED": 1}, "nodes_seen": 0, "abnormal_rate": None}
    figures["node_age_s"] = {"min": None, "median": None, "max": None, "known": 0}
    # WHEN turned into metric data THEN no rate or age metric, counts as integers
    names = {m["MetricName"]: m["Value"] for m in metric_data(figures)}
    assert names["batch_churn_events_compute_env_created"] == 1
    assert names["batch_churn_nodes_seen"] == 0
    assert not [n for n in names if "rate" in n or "age" in n]
    # AND a fractional figure is rounded
    figures.update(abnormal_rate=0.125, node_age_s={"min": 1.4, "median": 2.5, "max": 3.6, "known": 3})
    names = {m["MetricName"]: m["Value"] for m in metric_data(figures)}
    assert (names["batch_churn_abnormal_rate_pct"], names["batch_churn_node_age_max_s"]) == (12, 4)
