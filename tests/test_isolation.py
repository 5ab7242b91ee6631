"""A concern that raises on one record costs only that record, on every delivery path."""

from __future__ import annotations

import json

import pytest

from shared.concern import Outcome, merge_outcomes, split_by_record
from shared.envelope import parse_trigger_event
from shared.errors import ConfigError, RetryableFailure
from shared.invocation import Invocation
from shared.log import JsonLogger
from shared.models import ParsedInput
from shared.runtime import run
from tests.fakes.cmq import ENDPOINT, CmqBackend, fake_cmq_api
from tests.helpers import EVENTS, json_lines, load_event

POISON_JOB = "job-poison01"
TOKEN = "isolation-token"


class BlowsUpOn:
    """A concern with a bug: it raises whenever a chosen job is in its input."""

    def __init__(self, job_id: str = POISON_JOB, error: type[Exception] = KeyError) -> None:
        self.job_id = job_id
        self.error = error
        self.handled: list[str] = []

    def __call__(self, parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
        jobs = [e.job_id or "-" for e in parsed.known_events]
        if self.job_id in jobs:
            raise self.error("boom")
        self.handled += jobs
        return Outcome({"handled": len(jobs), "flag": False, "per": {"x": len(jobs)}})


def _body(job_id: str) -> str:
    body: str = load_event("cmq_topic_job_failed.json")["Records"][0]["CMQ"]["msgBody"]
    return body.replace("job-5ik2gmv8", job_id)


def _trigger(jobs: list[str]) -> dict:
    record = load_event("cmq_topic_job_failed.json")["Records"][0]
    records = []
    for n, job in enumerate(jobs):
        cmq = dict(record["CMQ"], msgId=f"msg-{n}", msgBody=_body(job))
        records.append({"CMQ": cmq})
    return {"Records": records}


def test_trigger_path_handles_the_good_records_and_raises_only_for_the_one_that_raised(capsys):
    # GIVEN 5 records, the third of which makes the concern raise
    jobs = ["job-good0001", "job-good0002", POISON_JOB, "job-good0003", "job-good0004"]
    concern = BlowsUpOn()
    # WHEN the trigger path runs it
    with pytest.raises(RetryableFailure, match="KeyError"):
        run(_trigger(jobs), {"time_limit_in_ms": 3000}, function="t", concern=concern)
    # THEN the four good records were handled, and the failing one is logged with its msgId
    assert concern.handled == [j for j in jobs if j != POISON_JOB]
    lines = json_lines(capsys.readouterr().out)
    failed = [line for line in lines if line["msg"].startswith("record not handled")]
    assert [(line["msg_id"], line["record_index"]) for line in failed] == [("msg-2", 2)]
    assert "KeyError" in failed[0]["error"]


def test_trigger_path_returns_normally_when_the_concern_does_not_raise():
    concern = BlowsUpOn()
    summary = run(_trigger(["job-good0001", "job-good0002"]), None, function="t", concern=concern)
    assert summary["handled"] == 2 and "isolated" not in summary


def test_a_config_error_is_not_isolated_it_stops_the_invocation():
    with pytest.raises(ConfigError):
        run(_trigger(["job-good0001", POISON_JOB]), None, function="t", concern=BlowsUpOn(error=ConfigError))


def test_queue_path_deletes_every_message_but_the_one_that_raised(monkeypatch):
    # GIVEN 16 good messages and one that makes the concern raise, in one queue
    monkeypatch.setenv("CMQ_QUEUE_NAME", "q")
    monkeypatch.setenv("CMQ_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("CMQ_SECRET_ID", "AKIDq")
    monkeypatch.setenv("CMQ_SECRET_KEY", "cmq-secret-key")
    backend = CmqBackend()
    backend.create_queue("q")
    for n in range(8):
        backend.send("q", _body(f"job-good{n:04d}"))
    backend.send("q", _body(POISON_JOB))
    for n in range(8, 16):
        backend.send("q", _body(f"job-good{n:04d}"))
    concern = BlowsUpOn()
    timer = json.loads((EVENTS / "delivery" / "timer_poll_queue.json").read_text())
    # WHEN one timer run polls it
    with fake_cmq_api(backend, ENDPOINT):
        summary = run(timer, {"time_limit_in_ms": 30000}, function="t", concern=concern)
    # THEN the 16 are handled and deleted; only the one that raised stays for redelivery
    assert (summary["received"], summary["deleted"], summary["left_for_redelivery"]) == (17, 16, 1)
    assert len(concern.handled) == 16
    assert [m.body for m in backend.queues["q"].messages] == [_body(POISON_JOB)]


def test_push_path_answers_503_for_a_message_that_raised_and_200_for_others(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    push = json.loads((EVENTS / "delivery" / "http_push_simplified.json").read_text())
    push["queryString"] = {"token": TOKEN}
    push["body"] = _body(POISON_JOB)
    assert run(push, None, function="t", concern=BlowsUpOn())["statusCode"] == 503
    push["body"] = _body("job-good0001")
    assert run(push, None, function="t", concern=BlowsUpOn())["statusCode"] == 200


def test_split_keeps_each_records_events_and_rejections_together():
    parsed = parse_trigger_event(load_event("malformed_records.json"))
    parts = split_by_record(parsed)
    assert sum(len(p.events) for p in parts) == len(parsed.events)
    assert all(len(p.sources) == 1 and p.records == 1 for p in parts)
    for part in parts:
        index = part.sources[0].index
        assert all(e.source.index == index for e in part.events)
        assert all(r.record_index == index for r in part.rejections)


def test_merged_outcomes_add_figures_or_flags_join_lists_and_keep_every_retry_record():
    merged = merge_outcomes(
        [
            Outcome({"n": 1, "ok": False, "per": {"a": 1}, "down": ["wecom"]}, frozenset({0}), "r0"),
            Outcome({"n": 2, "ok": True, "per": {"a": 2, "b": 1}, "down": ["wecom", "slack"]}),
            Outcome({"n": 3}, frozenset({2}), "r2"),
        ]
    )
    assert merged.summary == {
        "n": 6,
        "ok": True,
        "per": {"a": 3, "b": 1},
        "down": ["wecom", "slack"],
        "isolated": True,
    }
    assert merged.retry_records == frozenset({0, 2}) and merged.retry_reason == "r0; r2"
