"""shared.runtime.run pauses the cyclic garbage collector for an invocation, and only for it."""

from __future__ import annotations

import gc

import pytest

from shared import runtime
from shared.concern import Outcome
from tests.helpers import load_event


def _concern(seen: list[bool]):
    def concern(parsed, invocation, log):
        seen.append(gc.isenabled())
        return Outcome(summary={})

    return concern


def test_the_collector_is_paused_during_an_invocation_and_resumed_after():
    seen: list[bool] = []
    assert gc.isenabled()
    runtime.run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=_concern(seen))
    assert seen == [False] and gc.isenabled()


def test_the_collector_is_resumed_when_the_invocation_raises(monkeypatch):
    seen: list[bool] = []

    def broken(*args, **kwargs):
        seen.append(gc.isenabled())
        raise RuntimeError("parsing broke")

    monkeypatch.setattr(runtime, "parse_trigger_event", broken)
    with pytest.raises(RuntimeError):
        runtime.run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=_concern([]))
    assert seen == [False] and gc.isenabled()


def test_a_collector_the_caller_paused_stays_paused():
    seen: list[bool] = []
    gc.disable()
    try:
        runtime.run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=_concern(seen))
        assert seen == [False] and not gc.isenabled()
    finally:
        gc.enable()


def test_the_summary_is_scrubbed_with_the_loggers_secrets_without_a_second_scan(monkeypatch):
    # GIVEN a secret setting, and a concern whose summary repeats it
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-secret-123"
    monkeypatch.setenv("WECOM_WEBHOOK_URL", url)
    from shared import log

    scans: list[int] = []
    real = log.secret_values

    def counting(env=None):
        scans.append(1)
        return real(env)

    monkeypatch.setattr(log, "secret_values", counting)

    def leaky(parsed, invocation, logger):
        return Outcome(summary={"echo": url})

    # WHEN it runs
    summary = runtime.run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=leaky)
    # THEN the secret is gone from the summary, and the environment was scanned once
    assert "k-secret-123" not in str(summary) and summary["echo"].endswith("***")
    assert scans == [1]
