"""Issue 17, alerts people keep reading during an outage: storm digest, silences and inhibition."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Optional

import pytest
from alerting import load_config, make_concern
from alerting.silencing import forget_expiry_warnings

from shared.errors import ConfigError, RetryableFailure
from shared.runtime import run
from tests.fakes.chat import CHANNELS, ChatBackend, switch_on
from tests.helpers import json_lines, load_event

CHATS = ("wecom", "dingtalk", "feishu", "slack")
FOLDED = "12 task instances failed on this node (ins-9rikj9kw): jobs job-0, job-1"
# The wall clock of these tests (silences compare with it; the robots check signatures against it).
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc).timestamp()


def record(sample: str, msg_id: str, **batch: Any) -> dict[str, Any]:
    """The sample's record under another msgId, with Batch fields changed."""
    rec: dict[str, Any] = load_event(sample)["Records"][0]
    body = json.loads(rec["CMQ"]["msgBody"])
    body["Events"][0]["Batch"].update(batch)
    rec["CMQ"]["msgBody"] = json.dumps(body, ensure_ascii=False)
    rec["CMQ"]["msgId"] = msg_id
    return rec


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds})")


def invoke(event: Any, robots: Optional[ChatBackend] = None, wall: float = NOW) -> dict[str, Any]:
    """The handler's path at wall-clock time `wall` (the robots' clock too)."""
    if robots is not None:
        robots.clock = lambda: wall
    context = {"request_id": "req-alert", "time_limit_in_ms": 30000, "tencentcloud_region": "ap-guangzhou"}
    concern = make_concern(sleep=_no_sleep, wall_clock=lambda: wall)
    return run(event, context, function="alert_failures", concern=concern)


def trigger(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def failed_jobs(count: int, prefix: str = "job-storm") -> list[dict[str, Any]]:
    """`count` failed jobs, each its own group."""
    return [
        record("cmq_topic_job_failed.json", f"{prefix}-{n}", JobId=f"{prefix}{n:03d}", JobName=f"nightly-{n}")
        for n in range(count)
    ]


def chat_text(robots: Any, channel: str, index: int = 0) -> str:
    body = robots.accepted(channel)[index].body
    if channel == "wecom":
        return str(body["markdown"]["content"])
    if channel == "dingtalk":
        return str(body["markdown"]["text"])
    if channel == "feishu":
        return str(body["card"]["elements"][0]["text"]["content"])
    return str(body["blocks"][1]["text"]["text"])


# --- storm digest ---------------------------------------------------------------------------------


def _storm() -> dict[str, Any]:
    """Six failed jobs, an interrupted job and an abnormal node: eight groups."""
    return trigger(
        *failed_jobs(6),
        record("cmq_topic_job_failed_interrupted.json", "int-1", JobId="job-int00001", JobName="render-4k"),
        record("cmq_topic_compute_node_abnormal.json", "node-1", ComputeNodeInstanceId="ins-other"),
    )


def test_a_storm_sends_each_chat_channel_one_digest_and_the_webhook_one_payload_per_group(
    robots, monkeypatch
):
    # GIVEN every channel and the default threshold of 5 groups
    switch_on(monkeypatch)
    # WHEN one run has 8 groups
    summary = invoke(_storm(), robots)
    # THEN each chat channel got one message, the webhook one Alertmanager payload per group
    assert summary["digest"] is True and summary["groups"] == 8 and summary["failed"] == 0
    for channel in CHATS:
        assert len(robots.accepted(channel)) == 1, channel
        assert summary["channels"][channel] == {"delivered": 1, "failed": 0}
    assert len(robots.accepted("webhook")) == 8
    assert {len(m.body["alerts"]) for m in robots.accepted("webhook")} == {1}


def test_the_digest_counts_jobs_environments_and_events_and_lists_the_worst_groups_first(robots, monkeypatch):
    switch_on(monkeypatch, "wecom")
    invoke(_storm(), robots)
    content = chat_text(robots, "wecom")
    lines = content.split("\n")
    assert lines[0] == "**[INTERRUPTED] Batch: 8 alerts in one run**"
    assert "**Groups**: 7 jobs, 1 environment (8 in all)" in lines
    assert (
        "**Events**: JOB_FAILED ×6 · COMPUTE_NODE_ABNORMAL ×1 · JOB_FAILED_INTERRUPTED ×1 (8 in all)" in lines
    )
    groups = [line for line in lines if line.startswith("- **[")]
    # interrupted first, then the abnormal node, then the failures in order
    assert groups[0].startswith(
        "- **[INTERRUPTED]** job render-4k (job-int00001) · JOB_FAILED_INTERRUPTED ×1"
    )
    assert groups[1].startswith("- **[ABNORMAL]** compute environment batch-env (env-ptoxdb1t)")
    assert groups[2] == (
        "- **[FAILED]** job nightly-0 (job-storm000) · JOB_FAILED ×1 · reason job failed · "
        "[console](https://console.cloud.tencent.com/batch/job/detail?jobId=job-storm000&region=ap-guangzhou)"
    )
    assert len(groups) == 8 and "more" not in content


def test_at_or_under_the_threshold_each_group_is_its_own_message(robots, monkeypatch):
    # GIVEN five groups (the default threshold)
    switch_on(monkeypatch)
    summary = invoke(trigger(*failed_jobs(5)), robots)
    # THEN messages are as they always were: one per group and channel
    assert summary["digest"] is False
    for channel in CHANNELS:
        assert len(robots.accepted(channel)) == 5, channel
    assert chat_text(robots, "wecom").startswith("**[FAILED] Batch job nightly-0 (job-storm000)**")


def test_alert_digest_after_sets_the_threshold(robots, monkeypatch):
    switch_on(monkeypatch, "slack", ALERT_DIGEST_AFTER="1")
    summary = invoke(trigger(*failed_jobs(2)), robots)
    assert summary["digest"] is True and len(robots.accepted("slack")) == 1
    assert "*Groups*: 2 jobs, 0 environments (2 in all)" in chat_text(robots, "slack")


def test_a_huge_storm_digest_fits_every_robot_and_says_how_many_more(robots, monkeypatch):
    # GIVEN 300 failed jobs with long Chinese names and reasons
    switch_on(monkeypatch)
    records = [
        record(
            "cmq_topic_job_failed.json",
            f"big-{n}",
            JobId=f"job-big{n:05d}",
            JobName="渲染任务" * 40,
            StateReason="内存不足 " * 100,
        )
        for n in range(300)
    ]
    # WHEN they arrive in one run
    summary = invoke(trigger(*records), robots)
    # THEN every robot accepted one digest (each fake refuses a body over its limit)
    assert summary["failed"] == 0 and summary["groups"] == 300
    for channel in CHATS:
        assert len(robots.accepted(channel)) == 1, channel
        shown = chat_text(robots, channel).count("job-big")
        assert 0 < shown < 300, channel
        assert f"and {300 - shown} more" in chat_text(robots, channel), channel
    assert len(robots.accepted("webhook")) == 300


def test_a_digest_a_channel_missed_brings_every_groups_records_back(robots, monkeypatch):
    switch_on(monkeypatch, "wecom")
    robots.script("wecom", "refused")
    with pytest.raises(RetryableFailure):
        invoke(_storm(), robots)
    assert len(robots.requests("wecom")) == 1


# --- silences -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_instance():
    """Every test is a new SCF instance: expired rules warn again."""
    forget_expiry_warnings()
    yield
    forget_expiry_warnings()


def test_the_issues_example_silences_a_job_glob_until_a_time_and_test_env_node_events(
    robots, monkeypatch, capsys
):
    # GIVEN the example from the issue
    silences = "job:render-nightly-*@2026-12-24T00:00:00Z; env:env-test*&event:nodes"
    switch_on(monkeypatch, "wecom", "webhook", ALERT_SILENCES=silences)
    event = trigger(
        record("cmq_topic_job_failed.json", "a", JobId="job-aaa", JobName="render-nightly-7"),
        record("cmq_topic_job_failed.json", "b", JobId="job-bbb", JobName="render-daily"),
        record("cmq_topic_compute_node_abnormal.json", "c", EnvId="env-test01"),
        record("cmq_topic_compute_node_abnormal.json", "d", EnvId="env-prod01"),
    )
    # WHEN it arrives (the fake clock is in November 2026)
    summary = invoke(event, robots)
    # THEN the nightly job and the test environment's node are counted as silenced and never sent
    assert summary["silenced"] == 2 and summary["groups"] == 2
    sent = {
        a["labels"].get("job_id") or a["labels"]["env_id"]
        for m in robots.accepted("webhook")
        for a in m.body["alerts"]
    }
    assert sent == {"job-bbb", "env-prod01"}
    assert len(robots.accepted("wecom")) == 2
    logs = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "alert silenced"]
    assert [(line["group"], line["events"], line["rule"]) for line in logs] == [
        ("ap-guangzhou/env/env-test01", 1, "env:env-test*&event:nodes"),
        ("ap-guangzhou/job/job-aaa", 1, "job:render-nightly-*@2026-12-24T00:00:00Z"),
    ]
    assert logs[1]["until"] == "2026-12-24T00:00:00+00:00"


def test_a_silenced_group_is_logged_once_however_many_events_it_has(robots, monkeypatch, capsys):
    switch_on(monkeypatch, "slack", ALERT_SILENCES="job:job-5ik2gmv8")
    records = [
        record("cmq_topic_task_instance_failed.json", f"i-{n}", TaskInstanceIndex=n) for n in range(12)
    ]
    summary = invoke(trigger(*records), robots)
    assert summary["silenced"] == 12 and summary["groups"] == 0 and robots.received == []
    logs = [line for line in json_lines(capsys.readouterr().out) if line["msg"] == "alert silenced"]
    assert len(logs) == 1 and logs[0]["events"] == 12


@pytest.mark.parametrize(
    ("rule", "silenced"),
    [
        ("job:render-frames", True),  # the job's name
        ("job:job-5ik2*", True),  # or its id
        ("region:ap-shanghai", False),
        ("region:ap-guang*", True),
        ("event:TASK_INSTANCE_FAILED", True),
        ("event:interrupted", False),  # a group of names, as ALERT_EVENTS takes them
        ("event:failures", True),
        ("var:owner=render-*", True),
        ("var:owner=ml-*", False),
        ("var:team=*", False),  # no such var
        ("job:render-*&event:nodes", False),  # every condition must match
        ("env:*", False),  # a task-instance event names no environment
    ],
)
def test_each_condition_matches_what_it_names(robots, monkeypatch, rule, silenced):
    switch_on(monkeypatch, "wecom", ALERT_SILENCES=rule)
    summary = invoke(load_event("cmq_topic_task_instance_failed.json"), robots)
    assert summary["silenced"] == (1 if silenced else 0)
    assert len(robots.accepted("wecom")) == (0 if silenced else 1)


def test_an_expired_rule_silences_nothing_and_warns_once_per_instance(robots, monkeypatch, capsys):
    # GIVEN a rule that ended before the fake clock's now (November 2026)
    switch_on(monkeypatch, "wecom", ALERT_SILENCES="job:render-*@2026-01-01T00:00:00Z")
    # WHEN two runs happen on the same instance
    first = invoke(load_event("cmq_topic_job_failed.json"), robots)
    second = invoke(load_event("cmq_topic_job_failed.json"), robots)
    # THEN both alerted, and the warning was written once
    assert first["silenced"] == second["silenced"] == 0 and len(robots.accepted("wecom")) == 2
    warnings = [
        line for line in json_lines(capsys.readouterr().out) if line["msg"].startswith("silence expired")
    ]
    assert len(warnings) == 1 and warnings[0]["rule"] == "job:render-*@2026-01-01T00:00:00Z"
    assert warnings[0]["level"] == "WARNING"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("jobs:render-*", "is not one of job:..."),
        ("job:", "has nothing after 'job:'"),
        ("event:JOB_EXPLODED", "unknown event name 'JOB_EXPLODED'"),
        ("var:owner", "is not var:<name>=<glob>"),
        ("job:x@2026-13-01T00:00:00Z", "is not an ISO 8601 time"),
        ("job:x@2026-12-24T08:00:00+08:00", "is not a UTC time"),
        ("job:x&&env:y", "an empty condition"),
        ("@2026-12-24T00:00:00Z", "needs at least one condition"),
    ],
)
def test_a_rule_that_cannot_be_parsed_is_a_configuration_error_naming_alert_silences(value, words):
    with pytest.raises(ConfigError, match="ALERT_SILENCES") as raised:
        load_config({"ALERT_SILENCES": f"env:ok; {value}"})
    assert words in str(raised.value) and repr(value) in str(raised.value)


def test_an_at_sign_inside_a_glob_is_part_of_the_glob():
    [rule] = load_config({"ALERT_SILENCES": "var:owner=*@corp.example"}).silences
    assert rule.until is None and rule.conditions[0].pattern == "*@corp.example"


# --- inhibition -----------------------------------------------------------------------------------


def _node_and_its_failures(count: int, instance: str = "ins-9rikj9kw") -> dict[str, Any]:
    failures = [
        record(
            "cmq_topic_task_instance_failed.json",
            f"t-{n}",
            JobId=f"job-{n % 2}",
            TaskInstanceIndex=n,
            ComputeNodeInstanceId=instance,
        )
        for n in range(count)
    ]
    return trigger(record("cmq_topic_compute_node_abnormal.json", "node"), *failures)


def test_task_instance_failures_on_an_abnormal_node_fold_into_the_nodes_alert(robots, monkeypatch):
    # GIVEN 12 task-instance failures of two jobs on the CVM of a node that is ABNORMAL in the same run
    switch_on(monkeypatch)
    summary = invoke(_node_and_its_failures(12), robots)
    # THEN only the node is alerted, and it says what failed on it
    assert summary["inhibited"] == 12 and summary["groups"] == 1 and summary["failed"] == 0
    for channel in CHATS:
        assert len(robots.accepted(channel)) == 1, channel
        assert FOLDED in chat_text(robots, channel), channel
    [payload] = robots.accepted("webhook")
    [alert] = payload.body["alerts"]
    assert alert["labels"]["alertname"] == "COMPUTE_NODE_ABNORMAL"
    assert alert["annotations"]["inhibited"] == FOLDED


def test_failures_on_another_instance_or_without_one_alert_on_their_own(robots, monkeypatch):
    switch_on(monkeypatch, "wecom")
    event = trigger(
        record("cmq_topic_compute_node_abnormal.json", "node"),
        record(
            "cmq_topic_task_instance_failed.json",
            "other",
            JobId="job-other",
            ComputeNodeInstanceId="ins-else",
        ),
        record("cmq_topic_task_instance_failed.json", "none", JobId="job-none", ComputeNodeInstanceId=None),
    )
    summary = invoke(event, robots)
    assert summary["inhibited"] == 0 and summary["groups"] == 3 and len(robots.accepted("wecom")) == 3


def test_a_job_failure_on_the_node_is_not_folded_only_task_instance_failures_are(robots, monkeypatch):
    switch_on(monkeypatch, "wecom")
    event = _node_and_its_failures(1)
    event["Records"].append(record("cmq_topic_job_failed.json", "job", JobId="job-0"))
    summary = invoke(event, robots)
    assert summary["inhibited"] == 1 and summary["groups"] == 2
    texts = [chat_text(robots, "wecom", n) for n in range(2)]
    assert any(
        t.startswith("**[FAILED] Batch job render-frames (job-0)**") and "TASK_INSTANCE" not in t
        for t in texts
    )


def test_a_folded_failures_records_come_back_when_the_nodes_alert_is_not_delivered(
    robots, monkeypatch, capsys
):
    # GIVEN the node's alert refused
    switch_on(monkeypatch, "wecom")
    robots.script("wecom", "refused")
    # WHEN it fails THEN the records of the failures folded into it are redelivered too
    with pytest.raises(RetryableFailure):
        invoke(_node_and_its_failures(3), robots)
    [raised] = [
        line for line in json_lines(capsys.readouterr().out) if line["msg"].startswith("invocation failed")
    ]
    assert raised["records"] == [0, 1, 2, 3]


def test_a_silenced_node_inhibits_nothing(robots, monkeypatch):
    switch_on(monkeypatch, "wecom", ALERT_SILENCES="event:nodes")
    summary = invoke(_node_and_its_failures(2), robots)
    assert summary["silenced"] == 1 and summary["inhibited"] == 0 and summary["groups"] == 2
