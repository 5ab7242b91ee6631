"""Delivery: rate limits retried in the time left, failures isolated, the handler raises, logs redacted."""

from __future__ import annotations

import pytest

from shared.envelope import parse_trigger_event
from shared.errors import RetryableFailure
from shared.invocation import Invocation
from shared.log import JsonLogger
from tests.fakes.chat import CHANNELS, SECRETS, FakeTime, fake_chat, invoke, switch_on
from tests.helpers import json_lines, load_event

# The wait each robot's rate-limit answer leads to: Slack and the webhook send Retry-After: 2.
FIRST_WAIT = {"webhook": 2.0, "wecom": 1.0, "dingtalk": 1.0, "feishu": 1.0, "slack": 2.0}


@pytest.mark.parametrize("channel", CHANNELS)
def test_rate_limited_answer_is_retried_after_backoff_then_delivered(channel, robots, monkeypatch):
    # GIVEN a channel whose robot answers "rate limited" twice, then accepts
    switch_on(monkeypatch, channel)
    robots.script(channel, "rate_limited", "rate_limited")
    clock = FakeTime()
    # WHEN an event is alerted
    summary = invoke(load_event("cmq_topic_job_failed.json"), fake_time=clock)
    # THEN it waited (backoff, or the server's Retry-After) and the third request was accepted
    assert len(robots.requests(channel)) == 3 and len(robots.accepted(channel)) == 1
    expected = [FIRST_WAIT[channel], 2.0] if FIRST_WAIT[channel] == 2.0 else [1.0, 2.0]
    assert clock.sleeps == expected
    assert summary["channels"][channel] == {"delivered": 1, "failed": 0}


def test_resigned_on_every_try_so_the_signature_stays_fresh(robots, monkeypatch):
    # GIVEN signed DingTalk and Feishu robots that rate-limit the first request
    switch_on(monkeypatch, "dingtalk", "feishu")
    robots.script("dingtalk", "rate_limited")
    robots.script("feishu", "rate_limited")
    # WHEN an event is alerted
    invoke(load_event("cmq_topic_job_failed.json"), fake_time=FakeTime())
    # THEN the retried requests carry their own timestamp and signature, and were accepted
    first, second = robots.requests("dingtalk")
    assert not first.accepted and second.accepted and second.query["sign"]
    assert robots.accepted("feishu")[0].body["sign"]


def test_one_channel_failing_for_good_does_not_stop_the_others_and_the_handler_raises(
    robots, monkeypatch, capsys
):
    # GIVEN five channels, WeCom refusing (bad key: errcode 93000 in an HTTP 200)
    switch_on(monkeypatch)
    robots.script("wecom", "refused", "refused")
    # WHEN three groups are alerted, WeCom refusing the first two
    with pytest.raises(RetryableFailure, match="failed"):
        invoke(load_event("cmq_topic_alert_groups.json"))
    # THEN the other four delivered all three groups
    for name in ("webhook", "dingtalk", "feishu", "slack"):
        assert len(robots.accepted(name)) == 3, name
    assert len(robots.requests("wecom")) == 3 and len(robots.accepted("wecom")) == 1
    logs = json_lines(capsys.readouterr().out)
    missed = [line for line in logs if line["msg"] == "alert not delivered"]
    assert [(m["channel"], m["reason"]) for m in missed] == [
        ("wecom", "code 93000: invalid webhook url"),
        ("wecom", "code 93000: invalid webhook url"),
    ]
    assert len([line for line in logs if line["msg"] == "alert delivered"]) == 13
    [summary] = [line["summary"] for line in logs if line["msg"] == "summary"]
    assert summary["channels"]["wecom"] == {"delivered": 1, "failed": 2}
    assert summary["channels"]["slack"] == {"delivered": 3, "failed": 0}
    [raised] = [line for line in logs if line["msg"].startswith("invocation failed")]
    # groups go in order gz job (record 0), sh env (record 2), sh job (record 1): WeCom missed the first two
    assert raised["records"] == [0, 2]


def test_retry_records_are_exactly_the_records_of_the_failed_groups(robots, monkeypatch):
    # GIVEN the Slack robot refusing only the first group's message
    switch_on(monkeypatch, "slack")
    robots.script("slack", "refused")
    parsed = parse_trigger_event(load_event("cmq_topic_alert_groups.json"))
    from alerting import alert_failures

    # WHEN the concern runs
    outcome = alert_failures(parsed, Invocation(time_limit_ms=30000), JsonLogger("alert_failures"))
    # THEN only that group's source records are asked back (groups sort by region/kind/id: gz job first)
    assert outcome.retry_records == frozenset({0})
    assert outcome.summary["channels"]["slack"] == {"delivered": 2, "failed": 1}


def test_server_error_and_connection_reset_are_retried_but_a_timeout_is_not(robots, monkeypatch):
    # GIVEN the webhook answering 503 then resetting, and Slack not answering within its 0.5 s timeout
    switch_on(monkeypatch, "webhook", "slack", ALERT_HTTP_TIMEOUT_S="0.5")
    robots.script("webhook", "server_error", "reset")
    robots.script("slack", "timeout")
    clock = FakeTime()
    # WHEN an event is alerted
    with pytest.raises(RetryableFailure):
        invoke(load_event("cmq_topic_job_failed.json"), fake_time=clock)
    # THEN the webhook got through on the third try; the timed-out Slack message is left to SCF's retry
    assert len(robots.accepted("webhook")) == 1 and len(robots.requests("webhook")) == 3
    assert len(robots.requests("slack")) == 1
    assert clock.sleeps == [1.0, 2.0]


def test_a_robot_that_timed_out_gets_no_further_group_and_the_handler_asks_them_all_back(
    robots, monkeypatch, capsys
):
    # GIVEN WeCom and Slack, WeCom's robot not answering the first request within its 0.5 s timeout
    switch_on(monkeypatch, "wecom", "slack", ALERT_HTTP_TIMEOUT_S="0.5")
    robots.script("wecom", "timeout")
    # WHEN three groups are alerted
    with pytest.raises(RetryableFailure):
        invoke(load_event("cmq_topic_alert_groups.json"))
    # THEN WeCom got one request, Slack all three, and every group's records come back
    assert len(robots.requests("wecom")) == 1 and len(robots.accepted("slack")) == 3
    logs = json_lines(capsys.readouterr().out)
    reasons = [line["reason"] for line in logs if line["msg"] == "alert not delivered"]
    assert reasons[0].startswith("timeout after")
    assert reasons[1:] == ["channel down after a timeout earlier in this run"] * 2
    [summary] = [line["summary"] for line in logs if line["msg"] == "summary"]
    assert summary["channels_down"] == ["wecom"]
    assert summary["channels"]["wecom"] == {"delivered": 0, "failed": 3}
    [raised] = [line for line in logs if line["msg"].startswith("invocation failed")]
    assert raised["records"] == [0, 1, 2]


def test_waits_stop_when_the_invocation_runs_out_of_time(robots, monkeypatch):
    # GIVEN a Slack robot that keeps rate-limiting (Retry-After 2 s) and 8 s left (2 s of margin)
    switch_on(monkeypatch, "slack", ALERT_MAX_ATTEMPTS="20")
    robots.script("slack", *["rate_limited"] * 20)
    clock = FakeTime()
    invocation = Invocation(time_limit_ms=8000, started=clock.now, clock=clock.monotonic)
    parsed = parse_trigger_event(load_event("cmq_topic_job_failed.json"))
    from alerting import alert_failures

    # WHEN the concern runs with the fake clock
    outcome = alert_failures(parsed, invocation, JsonLogger("alert_failures"), sleep=clock.sleep)
    # THEN it waited only while a request still fitted before the margin, then gave up and asked for a retry
    assert sum(clock.sleeps) <= 8 - 2
    assert clock.sleeps == [2.0, 2.0]
    assert outcome.retry_records == frozenset({0})
    assert outcome.summary["channels"]["slack"] == {"delivered": 0, "failed": 1}


def test_retry_after_longer_than_the_time_left_gives_up_without_waiting(monkeypatch, capsys):
    # GIVEN Slack asking for a 120 s wait in a 30 s invocation
    switch_on(monkeypatch, "slack")
    with fake_chat() as robots:
        robots.retry_after = "120"
        robots.script("slack", "rate_limited")
        clock = FakeTime()
        # WHEN an event is alerted THEN no sleep happens and the handler raises
        with pytest.raises(RetryableFailure):
            invoke(load_event("cmq_topic_job_failed.json"), fake_time=clock)
    assert clock.sleeps == []
    [missed] = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "alert not delivered"]
    assert "no time left to wait 120s" in missed["reason"]


def test_logs_never_show_webhook_keys_tokens_or_secrets(robots, monkeypatch, capsys):
    # GIVEN every channel, some failing, some rate-limited
    switch_on(monkeypatch)
    robots.script("wecom", "refused")
    robots.script("feishu", "refused")
    robots.script("slack", "rate_limited")
    # WHEN an event is alerted (and the handler raises)
    with pytest.raises(RetryableFailure):
        invoke(load_event("cmq_topic_job_failed.json"), fake_time=FakeTime())
    # THEN no key, token, path secret or signing secret appears anywhere in the output
    out = capsys.readouterr().out
    assert out.count('"url":"') >= 5
    for secret in SECRETS:
        assert secret not in out


def test_no_time_left_means_nothing_is_sent_and_every_group_comes_back(robots, monkeypatch):
    # GIVEN an invocation whose time is already within the safety margin
    switch_on(monkeypatch, "wecom")
    clock = FakeTime()
    invocation = Invocation(time_limit_ms=2000, started=clock.now, clock=clock.monotonic)
    parsed = parse_trigger_event(load_event("cmq_topic_alert_groups.json"))
    from alerting import alert_failures

    # WHEN the concern runs
    outcome = alert_failures(parsed, invocation, JsonLogger("alert_failures"), sleep=clock.sleep)
    # THEN no request was started, and all three groups' records are asked back
    assert robots.received == []
    assert outcome.retry_records == frozenset({0, 1, 2})
    assert outcome.summary["channels"]["wecom"] == {"delivered": 0, "failed": 3}
