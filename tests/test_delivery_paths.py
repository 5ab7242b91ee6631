"""The queue poller and the HTTP push reach the same concern logic as the CMQ-topic trigger."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared import capture
from shared.concern import Outcome
from shared.errors import ConfigError, RetryableFailure
from shared.invocation import Invocation
from shared.log import JsonLogger
from shared.models import ParsedInput
from shared.poller import poll_queue
from shared.runtime import run
from tests.fakes.cmq import ENDPOINT, CmqBackend, FakeClock, fake_cmq_api
from tests.helpers import EVENTS, json_lines, load_event

TOKEN = "local-test-token"


def delivery_event(name: str) -> Any:
    return json.loads((EVENTS / "delivery" / name).read_text(encoding="utf-8"))


class Recorder:
    """A concern that records what it saw, and can fail for chosen job or node ids."""

    def __init__(self, fail_ids: frozenset[str] = frozenset()) -> None:
        self.seen: list[tuple[str, str]] = []
        self.fail_ids = fail_ids

    def __call__(self, parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
        failed = set()
        for event in parsed.known_events:
            key = event.job_id or event.node_id or event.env_id or "-"
            self.seen.append((event.name_raw, key))
            if key in self.fail_ids:
                failed.add(event.source.index)
        return Outcome(
            {"seen": len(parsed.known_events)}, frozenset(failed), "scripted failure" if failed else ""
        )


@pytest.fixture
def queue_env(monkeypatch):
    monkeypatch.setenv("CMQ_QUEUE_NAME", "alert-failures")
    monkeypatch.setenv("CMQ_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("CMQ_SECRET_ID", "AKIDqueue")
    monkeypatch.setenv("CMQ_SECRET_KEY", "cmq-secret-key")


def _queue(clock: FakeClock | None = None, **kwargs) -> CmqBackend:
    backend = CmqBackend(clock=clock)
    backend.create_queue("dead-letters")
    backend.create_queue("alert-failures", dead_letter="dead-letters", **kwargs)
    return backend


def _bodies(sample: str) -> list[str]:
    """The raw Batch messages of a CMQ-trigger sample, as a SIMPLIFIED subscription puts them in a queue."""
    return [r["CMQ"]["msgBody"] for r in load_event(sample)["Records"] if "CMQ" in r]


def _poll(concern, clock: FakeClock | None = None, limit_ms: int = 60000):
    """One timer run: through the handler entry point, or (to share a fake clock) the poller itself."""
    context = {"request_id": "timer-1", "time_limit_in_ms": limit_ms}
    if clock is None:
        return run(delivery_event("timer_poll_queue.json"), context, function="t", concern=concern)
    invocation = Invocation.from_context(context, clock=clock)
    return poll_queue(concern, invocation, JsonLogger("t", "timer-1"))


# --- queue poller ---------------------------------------------------------------------------


def test_an_empty_queue_is_asked_once_without_waiting(queue_env):
    # GIVEN the default settings: the next timer run comes in 10 s, so an idle run must not long-poll
    backend = _queue()
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(Recorder())
    assert (summary["received"], summary["receive_calls"], summary["deleted"]) == (0, 1, 0)
    assert backend.calls[0][1]["pollingWaitSeconds"] == "0"


def test_poll_wait_s_makes_the_first_receive_long_poll(queue_env, monkeypatch):
    monkeypatch.setenv("POLL_WAIT_S", "5")
    backend = _queue()
    with fake_cmq_api(backend, ENDPOINT):
        _poll(Recorder())
    assert backend.calls[0][1]["pollingWaitSeconds"] == "5"


def test_hundred_messages_over_several_receives_are_handled_once_and_deleted(queue_env):
    backend = _queue()
    for n in range(100):
        body = _bodies("cmq_topic_task_instance_failed.json")[0].replace("job-5ik2gmv8", f"job-{n:03d}")
        backend.send("alert-failures", body)
    recorder = Recorder()
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(recorder)
    assert summary["received"] == 100 and summary["receive_calls"] == 8  # 7 x 16 calls cover 100, one empty
    assert summary["deleted"] == 100 and summary["delete_failed"] == 0
    assert len({key for _, key in recorder.seen}) == 100
    assert backend.visible_count("alert-failures") == 0
    later_waits = [p["pollingWaitSeconds"] for a, p in backend.calls if a == "BatchReceiveMessage"][1:]
    assert set(later_waits) == {"0"}


def test_poison_message_is_deleted_once_and_logged(queue_env, capsys):
    backend = _queue()
    backend.send("alert-failures", "this is not a Batch message")
    backend.send("alert-failures", _bodies("cmq_topic_job_failed.json")[0])
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(Recorder())
    assert (summary["rejected"], summary["events"], summary["deleted"]) == (1, 1, 2)
    assert backend.visible_count("alert-failures") == 0
    rejected = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "record rejected"]
    assert [line["msg_id"] for line in rejected] == ["msg-000001"]


def test_retryable_failure_is_left_for_redelivery_and_dead_lettered_after_max_receives(queue_env):
    clock = FakeClock()
    backend = _queue(clock=clock, visibility_timeout=30, max_receive_count=2)
    good = _bodies("cmq_topic_job_failed.json")[0]
    backend.send("alert-failures", good.replace("job-5ik2gmv8", "job-ok"))
    backend.send("alert-failures", good.replace("job-5ik2gmv8", "job-broken"))
    recorder = Recorder(fail_ids=frozenset({"job-broken"}))
    with fake_cmq_api(backend, ENDPOINT):
        first = _poll(recorder, clock)
        # WHEN the next timer runs before the visibility timeout, the kept message is invisible
        clock.advance(5)
        second = _poll(recorder, clock)
        # and after it, the message comes back (second receive), then goes to the dead-letter queue
        clock.advance(60)
        third = _poll(recorder, clock)
        clock.advance(60)
        fourth = _poll(recorder, clock)
    assert (first["deleted"], first["left_for_redelivery"]) == (1, 1)
    assert second["received"] == 0
    assert (third["received"], third["left_for_redelivery"]) == (1, 1)
    assert fourth["received"] == 0
    assert [m.msg_id for m in backend.queues["dead-letters"].messages] == ["msg-000002"]
    assert recorder.seen.count(("JOB_FAILED", "job-broken")) == 2
    assert recorder.seen.count(("JOB_FAILED", "job-ok")) == 1


def test_delete_errors_are_logged_and_counted(queue_env, capsys):
    backend = _queue()
    ids = [backend.send("alert-failures", _bodies("cmq_topic_job_failed.json")[0]) for _ in range(3)]
    backend.fail_delete_ids = {ids[0]}
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(Recorder())
    assert (summary["deleted"], summary["delete_failed"]) == (2, 1)
    errors = [
        line for line in json_lines(capsys.readouterr().out) if line["msg"].startswith("message not deleted")
    ]
    assert len(errors) == 1 and errors[0]["reason"] == "invalid receiptHandle"


def test_poller_stops_receiving_when_the_time_left_is_the_reserve(queue_env, monkeypatch):
    # GIVEN a 15 s function, a 10 s reserve, and receives that each take 1 s
    monkeypatch.setenv("POLL_RESERVE_S", "10")
    clock = FakeClock()
    backend = _queue(clock=clock)
    backend.receive_cost_s = 1.0
    for _ in range(16 * 20):
        backend.send("alert-failures", _bodies("cmq_topic_job_failed.json")[0])
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(Recorder(), clock, limit_ms=15000)
    # THEN it received for about 5 s, handled what it got, and left the rest for the next run
    assert 3 <= summary["receive_calls"] <= 5
    assert summary["received"] == 16 * summary["receive_calls"]
    assert summary["deleted"] == summary["received"]
    assert backend.visible_count("alert-failures") == 16 * 20 - summary["received"]


def test_receive_failure_is_logged_not_raised(queue_env, capsys):
    backend = _queue()
    backend.receive_error_code = 4420
    with fake_cmq_api(backend, ENDPOINT):
        summary = _poll(Recorder())
    assert summary["received"] == 0 and "4420" in summary["receive_error"]
    assert any(line["msg"] == "queue receive failed" for line in json_lines(capsys.readouterr().out))


def test_role_credentials_with_session_token_sign_queue_requests(monkeypatch):
    monkeypatch.setenv("CMQ_QUEUE_NAME", "alert-failures")
    monkeypatch.setenv("CMQ_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDrole")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "cmq-secret-key")
    monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", "role-session-token")
    backend = _queue()
    with fake_cmq_api(backend, ENDPOINT):
        _poll(Recorder())
    params = backend.calls[0][1]
    assert (params["SecretId"], params["Token"]) == ("AKIDrole", "role-session-token")


def test_timer_run_without_queue_settings_is_a_config_error():
    with pytest.raises(ConfigError, match="CMQ_QUEUE_NAME"):
        _poll(Recorder())


def test_timer_run_without_any_credentials_says_so(monkeypatch):
    monkeypatch.setenv("CMQ_QUEUE_NAME", "q")
    monkeypatch.setenv("CMQ_ENDPOINT", ENDPOINT)
    with pytest.raises(ConfigError, match="CMQ_SECRET_ID"):
        _poll(Recorder())


# --- HTTP push --------------------------------------------------------------------------------


def _push(event: Any, concern=None) -> dict[str, Any]:
    return run(event, {"request_id": "push-1"}, function="t", concern=concern or Recorder())


@pytest.mark.parametrize(
    ("sample", "fmt", "msg_id"),
    [
        ("http_push_json_format.json", "JSON", "push-msg-0001"),
        ("http_push_simplified.json", "SIMPLIFIED", "push-msg-0002"),
        ("http_push_simplified_base64.json", "SIMPLIFIED", "push-msg-0003"),
    ],
)
def test_push_formats_are_read_and_answered_200(monkeypatch, sample, fmt, msg_id):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    recorder = Recorder()
    answer = _push(delivery_event(sample), recorder)
    assert answer["statusCode"] == 200
    summary = json.loads(answer["body"])["summary"]
    assert (summary["format"], summary["msg_id"], summary["events"]) == (fmt, msg_id, 1)
    assert recorder.seen == [("COMPUTE_NODE_ABNORMAL", "node-push0001")]


def test_push_json_envelope_with_base64_msg_body(monkeypatch):
    import base64

    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    event = delivery_event("http_push_json_format.json")
    outer = json.loads(event["body"])
    outer["msgBody"] = base64.b64encode(outer["msgBody"].encode()).decode()
    event["body"] = json.dumps(outer)
    recorder = Recorder()
    assert _push(event, recorder)["statusCode"] == 200
    assert recorder.seen == [("COMPUTE_NODE_ABNORMAL", "node-push0001")]


def test_push_simplified_tags_come_from_the_header(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    seen: list[tuple[str, ...]] = []

    def concern(parsed, invocation, log):
        seen.extend(e.source.tags for e in parsed.events)
        return Outcome()

    _push(delivery_event("http_push_simplified.json"), concern)
    assert seen == [("batch", "node")]


@pytest.mark.parametrize(
    ("query", "status"),
    [({}, 401), ({"token": "wrong-token"}, 403), ({"token": ["wrong"]}, 403), ({"token": [TOKEN]}, 200)],
)
def test_push_token_is_required_and_checked(monkeypatch, query, status):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    recorder = Recorder()
    event = delivery_event("http_push_simplified.json")
    event["queryString"] = query
    assert _push(event, recorder)["statusCode"] == status
    assert bool(recorder.seen) is (status == 200)


def test_push_sample_without_token_is_refused(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    recorder = Recorder()
    assert _push(delivery_event("http_push_without_token.json"), recorder)["statusCode"] == 401
    assert recorder.seen == []


def test_push_is_refused_when_no_token_is_configured():
    recorder = Recorder()
    assert _push(delivery_event("http_push_simplified.json"), recorder)["statusCode"] == 403
    assert recorder.seen == []


def test_push_only_accepts_post(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    event = delivery_event("http_push_simplified.json")
    event["httpMethod"] = "GET"
    assert _push(event)["statusCode"] == 405


def test_poison_push_is_answered_200_so_it_is_not_pushed_again(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    event = delivery_event("http_push_simplified.json")
    event["body"] = "<html>not a Batch message</html>"
    answer = _push(event)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["summary"]["rejected"] == 1


def test_push_failure_a_retry_can_help_is_answered_503(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    answer = _push(
        delivery_event("http_push_simplified.json"), Recorder(fail_ids=frozenset({"node-push0001"}))
    )
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["retry"] is True


def test_push_deadline_is_bounded_below_the_push_timeout(monkeypatch):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    limits = []

    def concern(parsed, invocation, log):
        limits.append(invocation.time_limit_ms)
        return Outcome()

    run(
        delivery_event("http_push_simplified.json"),
        {"time_limit_in_ms": 900000},
        function="t",
        concern=concern,
    )
    assert limits == [13000]


def test_push_token_never_appears_in_logs(monkeypatch, capsys):
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    monkeypatch.setenv("CAPTURE_RAW_EVENTS", "5")
    capture.reset()
    event = delivery_event("http_push_simplified.json")
    event["headers"]["x-debug"] = f"token={TOKEN}"
    _push(event)
    out = capsys.readouterr().out
    assert "raw record captured" in out
    assert TOKEN not in out


# --- the same records, the same actions, on all three paths ---------------------------------


def test_same_records_give_the_same_actions_on_all_three_paths(queue_env, monkeypatch):
    sample = "cmq_topic_multi_record_mixed.json"
    monkeypatch.setenv("PUSH_TOKEN", TOKEN)
    # CMQ-topic trigger
    via_trigger = Recorder()
    run(load_event(sample), None, function="t", concern=via_trigger)
    # queue poller
    backend = _queue()
    for body in _bodies(sample):
        backend.send("alert-failures", body)
    via_queue = Recorder()
    with fake_cmq_api(backend, ENDPOINT):
        _poll(via_queue)
    # HTTP push, one request per message, SIMPLIFIED format
    via_push = Recorder()
    for n, body in enumerate(_bodies(sample)):
        event = delivery_event("http_push_simplified.json")
        event["body"], event["headers"]["x-cmq-message-id"] = body, f"m{n}"
        assert _push(event, via_push)["statusCode"] == 200
    assert sorted(via_trigger.seen) == sorted(via_queue.seen) == sorted(via_push.seen)
    assert len(via_trigger.seen) == 6


# --- raw capture for the first deployment -----------------------------------------------------


def test_capture_raw_events_logs_only_the_first_n_records(monkeypatch, capsys):
    monkeypatch.setenv("CAPTURE_RAW_EVENTS", "2")
    capture.reset()
    run(load_event("cmq_topic_multi_record_mixed.json"), None, function="t", concern=Recorder())
    run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=Recorder())
    captured = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "raw record captured"]
    assert [line["capture_n"] for line in captured] == [1, 2]
    assert captured[0]["raw"]["CMQ"]["msgId"] == "1233455001"


def test_capture_is_off_by_default(capsys):
    capture.reset()
    run(load_event("cmq_topic_job_failed.json"), None, function="t", concern=Recorder())
    assert "raw record captured" not in capsys.readouterr().out


def test_trigger_path_raises_when_a_retry_can_help():
    with pytest.raises(RetryableFailure, match="scripted failure"):
        run(
            load_event("cmq_topic_job_failed.json"),
            None,
            function="t",
            concern=Recorder(frozenset({"job-5ik2gmv8"})),
        )
