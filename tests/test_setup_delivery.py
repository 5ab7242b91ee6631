from __future__ import annotations

import json

import pytest
import responses

from tools import setup_delivery

TDMQ = "https://tdmq.tencentcloudapi.com/"
URLS = [
    "--push-url", "alert_failures=http://1250000000-a.ap-guangzhou.tencentscf.com",
    "--push-url", "retry_interrupted=http://1250000000-b.ap-guangzhou.tencentscf.com",
    "--push-url", "log_node_churn=http://1250000000-c.ap-guangzhou.tencentscf.com",
]  # fmt: skip


def _requests(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_queue_path_dry_run_prints_dead_letter_queue_queues_and_simplified_subscriptions(capsys):
    assert setup_delivery.main(["--topic", "batch-events", "--region", "ap-guangzhou"]) == 0
    requests_ = _requests(capsys.readouterr().out)
    assert [r["Action"] for r in requests_] == ["CreateCmqQueue"] + [
        "CreateCmqQueue",
        "CreateCmqSubscribe",
    ] * 3
    queue = requests_[1]
    assert queue["QueueName"] == "batch-events-alert-failures"
    assert queue["DeadLetterQueueName"] == "batch-events-dead-letter" and queue["MaxReceiveCount"] == 5
    assert queue["VisibilityTimeout"] == 100 and queue["MsgRetentionSeconds"] == 43200
    subscription = requests_[2]
    assert (subscription["Protocol"], subscription["NotifyContentFormat"]) == ("queue", "SIMPLIFIED")
    assert subscription["Endpoint"] == queue["QueueName"]


def test_http_path_dry_run_hides_the_push_token(monkeypatch, capsys):
    monkeypatch.setenv("PUSH_TOKEN", "very-secret-push-token")
    assert setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "ap-guangzhou", *URLS]) == 0
    out = capsys.readouterr().out
    assert "very-secret-push-token" not in out
    endpoints = [r["Endpoint"] for r in _requests(out)]
    assert endpoints[0] == "http://1250000000-a.ap-guangzhou.tencentscf.com?token=***"


def test_http_path_needs_a_token_to_create_and_every_url(monkeypatch, capsys):
    # GIVEN no PUSH_TOKEN: a dry run still shows the requests, with a note; --create refuses
    assert setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "r", *URLS]) == 0
    captured = capsys.readouterr()
    assert "PUSH_TOKEN is not set" in captured.err and "token=***" in captured.out
    assert (
        setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "r", *URLS, "--create"]) == 2
    )
    assert "PUSH_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("PUSH_TOKEN", "x" * 16)
    assert setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "r", *URLS[:2]]) == 2
    assert "retry_interrupted, log_node_churn" in capsys.readouterr().err


def test_cmq_path_has_nothing_to_create(capsys):
    assert setup_delivery.main(["--delivery", "cmq", "--topic", "t", "--region", "r"]) == 0
    assert "nothing to create" in capsys.readouterr().out


def test_create_sends_each_request_through_the_sdk(monkeypatch, capsys):
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDsetup")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "setup-key")
    seen: list[tuple[str, dict]] = []

    def callback(request):
        seen.append((request.headers["X-TC-Action"], json.loads(request.body)))
        return 200, {"Content-Type": "application/json"}, json.dumps({"Response": {"RequestId": "r"}})

    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, TDMQ, callback=callback)
        assert setup_delivery.main(["--topic", "batch-events", "--region", "ap-shanghai", "--create"]) == 0
    assert [a for a, _ in seen] == ["CreateCmqQueue"] + ["CreateCmqQueue", "CreateCmqSubscribe"] * 3
    assert seen[1][1]["MaxReceiveCount"] == 5
    assert capsys.readouterr().out.count("created:") == 7


def test_create_reports_failures_and_exits_non_zero(monkeypatch, capsys):
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDsetup")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "setup-key")
    error = {"Response": {"Error": {"Code": "ResourceInUse", "Message": "queue exists"}, "RequestId": "r"}}
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TDMQ, json=error, content_type="application/json")
        assert setup_delivery.main(["--topic", "t", "--region", "ap-guangzhou", "--create"]) == 1
    assert "FAILED: CreateCmqQueue t-dead-letter: ResourceInUse queue exists" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["0", "1001"])
def test_max_receives_is_bounded(bad, capsys):
    assert setup_delivery.main(["--topic", "t", "--region", "r", "--max-receives", bad]) == 2


def test_an_https_push_url_gets_a_warning_that_the_service_documents_http_only(monkeypatch, capsys):
    # GIVEN function URLs as SCF gives them (https) WHEN the http path is planned
    monkeypatch.setenv("PUSH_TOKEN", "x" * 16)
    https = [u.replace("=http://", "=https://") if u.startswith("alert") else u for u in URLS]
    assert setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "r", *https]) == 0
    # THEN the one https URL is named in a warning that recommends the queue path
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "alert_failures" in err and "--delivery queue" in err
    assert setup_delivery.main(["--delivery", "http", "--topic", "t", "--region", "r", *URLS]) == 0
    assert "warning:" not in capsys.readouterr().err
