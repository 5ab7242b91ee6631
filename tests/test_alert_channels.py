"""Every channel against its fake: the exact request (shape, signature, size) and the robot's verdict."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from alerting.identity import fingerprint

from shared.catalogue import EventName
from shared.errors import RetryableFailure
from tests.fakes.chat import (
    DINGTALK_SECRET,
    FEISHU_SECRET,
    WEBHOOK_URL,
    dingtalk_expected_sign,
    fake_chat,
    feishu_expected_sign,
    invoke,
    switch_on,
)
from tests.helpers import load_event
from tools.generate_event import trigger_event

CONSOLE_JOB = "https://console.cloud.tencent.com/batch/job/detail?jobId=job-5ik2gmv8&region=ap-guangzhou"


def test_wecom_gets_one_markdown_message_naming_job_region_event_and_console_link(robots, monkeypatch):
    # GIVEN WeCom switched on
    switch_on(monkeypatch, "wecom")
    # WHEN a JOB_FAILED event arrives
    summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN the robot accepted one markdown message with what a reader needs to act
    [message] = robots.accepted("wecom")
    assert set(message.body) == {"msgtype", "markdown"} and message.body["msgtype"] == "markdown"
    content = message.body["markdown"]["content"]
    for text in (
        "render-frames",
        "job-5ik2gmv8",
        "ap-guangzhou",
        "JOB_FAILED",
        "job failed",
        "owner=render-team",
    ):
        assert text in content
    assert f"[Open in the Batch console]({CONSOLE_JOB})" in content
    assert content.startswith("**[FAILED] Batch job render-frames (job-5ik2gmv8)**\n")
    assert summary["channels"] == {"wecom": {"delivered": 1, "failed": 0}}


def test_dingtalk_request_is_signed_once_encoded_with_the_secret(robots, monkeypatch):
    # GIVEN DingTalk with a signing secret
    switch_on(monkeypatch, "dingtalk")
    # WHEN an event is alerted
    invoke(load_event("cmq_topic_task_failed.json"))
    # THEN timestamp and sign are query parameters, and the sign is the one recomputed from the secret
    [message] = robots.accepted("dingtalk")
    stamp = message.query["timestamp"]
    assert message.query["sign"] == dingtalk_expected_sign(DINGTALK_SECRET, stamp)
    # encoded exactly once: the raw URL carries the percent-encoded base64, not a double encoding
    assert "sign=" + quote(message.query["sign"], safe="") in message.url
    assert message.body["msgtype"] == "markdown"
    assert message.body["at"] == {"atMobiles": [], "atUserIds": [], "isAtAll": False}
    assert message.body["markdown"]["title"] == "[FAILED] Batch job render-frames (job-5ik2gmv8)"
    assert "TASK_FAILED" in message.body["markdown"]["text"]


def test_dingtalk_without_secret_sends_no_signature(monkeypatch):
    # GIVEN a DingTalk robot in keyword mode (no signing) and no DINGTALK_SECRET
    switch_on(monkeypatch, "dingtalk")
    monkeypatch.delenv("DINGTALK_SECRET")
    with fake_chat() as robots:
        robots.dingtalk_secret = None
        robots.dingtalk_keyword = "Batch"
        # WHEN an event is alerted
        invoke(load_event("cmq_topic_task_failed.json"))
    # THEN no timestamp or sign goes out, and the text carries the keyword
    [message] = robots.accepted("dingtalk")
    assert "sign" not in message.query and "timestamp" not in message.query


def test_dingtalk_wrong_secret_is_a_failure_and_the_handler_raises(robots, monkeypatch):
    # GIVEN a DINGTALK_SECRET that is not the robot's
    switch_on(monkeypatch, "dingtalk", DINGTALK_SECRET="SECnot-the-robots-secret")
    # WHEN an event is alerted THEN the robot's 310000 (HTTP 200) is a failure, and SCF must retry
    with pytest.raises(RetryableFailure):
        invoke(load_event("cmq_topic_task_failed.json"))
    assert robots.accepted("dingtalk") == [] and len(robots.requests("dingtalk")) == 1


def test_feishu_card_is_signed_in_the_body(robots, monkeypatch):
    # GIVEN Feishu with a signing secret (card is the default format)
    switch_on(monkeypatch, "feishu")
    # WHEN an interrupted event is alerted
    invoke(load_event("cmq_topic_job_failed_interrupted.json"))
    # THEN the body carries timestamp (a string of seconds) and the sign recomputed from the secret
    [message] = robots.accepted("feishu")
    body = message.body
    assert isinstance(body["timestamp"], str) and body["sign"] == feishu_expected_sign(
        FEISHU_SECRET, body["timestamp"]
    )
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["title"] == {
        "tag": "plain_text",
        "content": "[INTERRUPTED] Batch job render-frames (job-5ik2gmv8)",
    }
    assert card["header"]["template"] == "red"
    [element] = card["elements"]
    assert element["text"]["tag"] == "lark_md"
    assert "KEPT and still billing" in element["text"]["content"]


def test_feishu_post_format_uses_text_link_and_no_markup(robots, monkeypatch):
    # GIVEN FEISHU_MSG_TYPE=post
    switch_on(monkeypatch, "feishu", FEISHU_MSG_TYPE="post")
    # WHEN an event is alerted
    invoke(load_event("cmq_topic_task_instance_failed.json"))
    # THEN a rich-text post: one text row per line, then the console link as an `a` element
    [message] = robots.accepted("feishu")
    post = message.body["content"]["post"]["zh_cn"]
    assert message.body["msg_type"] == "post"
    assert post["title"] == "[FAILED] Batch job render-frames (job-5ik2gmv8)"
    assert all(row[0]["tag"] == "text" for row in post["content"][:-1])
    link = post["content"][-1][0]
    assert link["tag"] == "a" and link["href"] == CONSOLE_JOB
    assert not any("**" in row[0].get("text", "") for row in post["content"])


def test_slack_gets_blocks_and_a_fallback_text(robots, monkeypatch):
    # GIVEN Slack switched on
    switch_on(monkeypatch, "slack")
    # WHEN a node event is alerted
    invoke(load_event("cmq_topic_compute_node_abnormal.json"))
    # THEN a header and a mrkdwn section, answered `ok`
    [message] = robots.accepted("slack")
    header, section = message.body["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "[ABNORMAL] Batch compute environment batch-env (env-ptoxdb1t)",
        },
    }
    assert section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert ":warning: *A compute node is abnormal" in text
    assert "node node-0iy7wxyo" in text and "instance ins-9rikj9kw" in text
    link = "https://console.cloud.tencent.com/batch/env/detail?envId=env-ptoxdb1t&region=ap-guangzhou"
    assert f"<{link}|Open in the Batch console>" in text
    assert message.body["text"] == "[ABNORMAL] Batch compute environment batch-env (env-ptoxdb1t)"


def test_webhook_gets_an_alertmanager_v4_payload_over_plain_http(robots, monkeypatch):
    # GIVEN the generic webhook on an http:// URL
    switch_on(monkeypatch, "webhook", ALERT_RECEIVER="batch-oncall")
    # WHEN a task-instance failure is alerted
    invoke(load_event("cmq_topic_task_instance_failed_interrupted.json"))
    # THEN the receiver (which refuses any other shape) accepted an Alertmanager payload
    [message] = robots.accepted("webhook")
    assert WEBHOOK_URL.startswith("http://") and message.url.startswith(WEBHOOK_URL.split("?", 1)[0])
    body = message.body
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "batch-oncall"
    assert body["groupLabels"] == {"region": "ap-guangzhou", "job_id": "job-5ik2gmv8"}
    # Alertmanager's aggrGroup.GroupKey(): the root route's key, then LabelSet.String() (", "-joined)
    assert body["groupKey"] == '{}:{job_id="job-5ik2gmv8", region="ap-guangzhou"}'
    assert body["truncatedAlerts"] == 0
    assert body["externalURL"] == "https://console.cloud.tencent.com/batch"
    [alert] = body["alerts"]
    assert alert["labels"] == {
        "alertname": "TASK_INSTANCE_FAILED_INTERRUPTED",
        "region": "ap-guangzhou",
        "severity": "critical",
        "job_id": "job-5ik2gmv8",
        "task_name": "render",
        "task_instance_index": "0",
        "instance_id": "ins-9rikj9kw",
    }
    assert alert["startsAt"] == "2026-11-20T08:35:00Z" and alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert alert["generatorURL"] == CONSOLE_JOB and len(alert["fingerprint"]) == 16
    assert alert["annotations"]["description"] == "Task instance exited with a non-zero code"
    assert alert["annotations"]["exit_code"] == "137"
    assert body["commonLabels"] == alert["labels"]
    assert alert["fingerprint"] == fingerprint(alert["labels"])


def test_webhook_node_labels_carry_env_node_and_instance(robots, monkeypatch):
    # GIVEN the webhook WHEN a node creation failure is alerted
    switch_on(monkeypatch, "webhook")
    invoke(load_event("cmq_topic_compute_node_creation_failed.json"))
    # THEN the labels name environment and node; the empty instance id is left out
    [alert] = robots.accepted("webhook")[0].body["alerts"]
    assert alert["labels"] == {
        "alertname": "COMPUTE_NODE_CREATION_FAILED",
        "region": "ap-guangzhou",
        "severity": "error",
        "env_id": "env-ptoxdb1t",
        "node_id": "node-0iy7wxyo",
    }


def test_all_channels_at_once_each_get_one_message(robots, monkeypatch, capsys):
    # GIVEN all five channels
    switch_on(monkeypatch)
    # WHEN one event arrives
    summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN each got exactly one message, and the summary counts them per channel
    for name in ("webhook", "wecom", "dingtalk", "feishu", "slack"):
        assert len(robots.accepted(name)) == 1, name
        assert summary["channels"][name] == {"delivered": 1, "failed": 0}
    assert (summary["delivered"], summary["failed"]) == (5, 0)


def test_chinese_text_is_sent_as_utf8_and_measured_in_bytes(robots, monkeypatch):
    # GIVEN Chinese names, and a reason of 3000 Chinese characters (9000 UTF-8 bytes, under 4096 characters)
    switch_on(monkeypatch)
    event = load_event("cmq_topic_unicode_names.json")
    event["Records"][0]["CMQ"]["msgBody"] = event["Records"][0]["CMQ"]["msgBody"].replace(
        "Task instance exited with a non-zero code", "内存不足" * 750
    )
    # WHEN it is alerted
    summary = invoke(event)
    # THEN every robot accepted it (the WeCom limit is bytes), and the names arrive intact
    assert summary["failed"] == 0
    content = robots.accepted("wecom")[0].body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    assert "渲染-第3批" in content and "负责人=张三" in content and "帧渲染 #0" in content
    assert "内存不足" in content and "…" in content
    # the webhook carries values unchanged up to 4 KB each (UTF-8, cut between characters)
    description = robots.accepted("webhook")[0].body["alerts"][0]["annotations"]["description"]
    assert description == "内存不足" * 341 + "…" and len(description.encode("utf-8")) <= 4096


def _burst() -> dict:
    first = trigger_event(
        EventName.TASK_INSTANCE_FAILED, records=300, job_id="job-burst001", msg_id_prefix="a-"
    )
    second = trigger_event(
        EventName.TASK_INSTANCE_FAILED, records=200, job_id="job-burst002", msg_id_prefix="b-"
    )
    return {"Records": first["Records"] + second["Records"]}


def test_burst_of_500_instance_failures_is_one_message_per_job_within_limits(robots, monkeypatch):
    # GIVEN every channel, and 500 task-instance failures of two jobs (long reasons, to press the limits)
    switch_on(monkeypatch, ALERT_MAX_ITEMS="50")
    event = _burst()
    for record in event["Records"]:
        record["CMQ"]["msgBody"] = record["CMQ"]["msgBody"].replace(
            "non-zero code", "non-zero code " + "x" * 400
        )
    # WHEN they arrive in one invocation
    summary = invoke(event)
    # THEN each channel got one message per job, each within its robot's size limit (the fakes check)
    assert summary["groups"] == 2 and summary["failed"] == 0
    for name in ("webhook", "wecom", "dingtalk", "feishu", "slack"):
        assert len(robots.accepted(name)) == 2, name
    first = robots.accepted("wecom")[0].body["markdown"]["content"]
    assert "TASK_INSTANCE_FAILED ×300 (300 in all)" in first
    assert first.count("\n- **TASK_INSTANCE_FAILED**") < 50 and "more" in first
    shown = first.count("\n- **TASK_INSTANCE_FAILED**")
    assert f"and {300 - shown} more" in first
    slack_text = robots.accepted("slack")[1].body["blocks"][1]["text"]["text"]
    assert "TASK_INSTANCE_FAILED ×200" in slack_text and len(slack_text) <= 3000
    hook = robots.accepted("webhook")[0].body
    assert len(hook["alerts"]) == 100 and hook["truncatedAlerts"] == 200


def test_webhook_starts_at_is_utc_when_the_event_time_has_an_offset(monkeypatch):
    from alerting.channels.webhook import _starts_at

    from shared.envelope import parse_trigger_event

    event = {"Events": [{"EventName": "JOB_FAILED", "EventTime": "2026-01-01T08:00:00+08:00", "Batch": {}}]}
    (parsed,) = parse_trigger_event(event).events
    assert _starts_at(parsed) == "2026-01-01T00:00:00Z"
