"""Every body fits its channel's documented limit, whatever an event holds (1 MB values, CJK, emoji).

The limits, measured as each service measures them (channels/base.py): WeCom markdown content 4096
UTF-8 bytes; DingTalk body 20000 bytes; Feishu body 20 KB (signature included); Slack section text
3000 and header 150 characters (UTF-16 units), at most 50 blocks; the webhook's label values 1 KB,
annotation values 4 KB, the payload 1 MiB.
"""

from __future__ import annotations

import json
from typing import Any

from alerting import build_alert, group_events, load_config
from alerting.channels import build_channels
from alerting.channels.base import body_bytes, text_bytes, utf16_units
from alerting.channels.webhook import ANNOTATION_BYTES, LABEL_BYTES, PAYLOAD_BYTES
from alerting.digest import build_digest
from alerting.links import console_link
from alerting.outbox import Outbox
from alerting.recovery import recovery_of
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import parse_trigger_event
from tests.fakes.chat import channel_env
from tests.helpers import load_event

MB = 1 << 20
# Units a huge value repeats: ASCII, CJK (3 bytes), emoji (4 bytes, 2 UTF-16 units), markup that
# escaping widens (`&` is `&amp;` in Slack), line breaks, invisible characters, combining marks.
UNITS = ("j", "作", "😀", "&", "<@all>", "\n", "\u200b", "é", "𠀀", "\u202e")
SIZES = (200, 5000, MB)
SETTINGS = {
    **channel_env(),
    "ALERT_MAX_ITEMS": "50",
    "WECOM_MENTIONS": "zhangsan,lisi",
    "DINGTALK_MENTIONS": "13800000000,all",
    "FEISHU_MENTIONS": "all,ou_abc123",
    "SLACK_MENTIONS": "all,U024OPS99",
}


def huge(unit: str, size: int) -> str:
    """About `size` characters of `unit`."""
    return unit * max(1, size // len(unit))


small_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)
values = st.one_of(small_text, st.builds(huge, st.sampled_from(UNITS), st.sampled_from(SIZES)))
numbers = st.one_of(st.none(), st.integers(-(2**70), 2**70))


def _event(name: str, hhmm: str, region: str, batch: dict[str, Any]) -> dict[str, Any]:
    return {"EventName": name, "EventTime": f"2026-11-20T{hhmm}:00Z", "Region": region, "Batch": dict(batch)}


@st.composite
def hostile_message(draw: st.DrawFn) -> dict[str, Any]:
    """A Batch message whose job, task-instance and node events hold a hostile value in every field."""
    region = draw(values)
    job = {
        "JobId": draw(values),
        "JobName": draw(values),
        "TaskName": draw(values),
        "TaskInstanceIndex": draw(numbers),
        "ComputeNodeId": draw(values),
        "ComputeNodeInstanceId": draw(values),
        "ExitCode": draw(numbers),
        "StateReason": draw(values),
    }
    node = {
        "EnvId": draw(values),
        "EnvName": draw(values),
        "ComputeNodeId": draw(values),
        "ComputeNodeInstanceId": draw(values),
        "StateReason": draw(values),
    }
    event_vars = [{"Name": draw(values), "Value": draw(values)} for _ in range(draw(st.integers(0, 3)))]
    names = ("JOB_FAILED_INTERRUPTED", "TASK_INSTANCE_FAILED", "TASK_FAILED")
    events = [_event(name, "08:35", region, job) for name in names[: draw(st.integers(1, 3))]]
    events.append(_event("COMPUTE_NODE_ABNORMAL", "08:36", region, node))
    events.append(_event("JOB_SUCCEED", "09:00", region, job))
    for event in events:
        event["EventVars"] = event_vars
    return {"Events": events}


def _outboxes(message: dict[str, Any]) -> list[Outbox]:
    """The run as alerts (and a recovery), and as a storm digest."""
    config = load_config(SETTINGS)
    parsed = parse_trigger_event(message).known_events
    failures = [e for e in parsed if e.is_failure]
    succeeded = [e for e in parsed if not e.is_failure]
    groups, _ = group_events(failures, "ap-guangzhou")
    alerts = tuple(build_alert(g, config.console_url) for g in groups)
    done, _ = group_events(succeeded, "ap-guangzhou")
    recoveries = tuple(recovery_of(g, 2, "20261120083500", config.console_url) for g in done)
    digest = build_digest(list(alerts), list(recoveries), config.console_url)
    return [Outbox(alerts, recoveries), Outbox(alerts, recoveries, digest)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check_limits(channel_name: str, body: dict[str, Any], signed: dict[str, Any]) -> None:
    """The channel's documented limits, measured as the channel measures them."""
    if channel_name == "wecom":
        assert text_bytes(body["markdown"]["content"]) <= 4096
    elif channel_name == "dingtalk":
        assert body_bytes(body) <= 20000
    elif channel_name == "feishu":
        assert body_bytes(signed) <= 20 * 1024
    elif channel_name == "slack":
        assert len(body["blocks"]) <= 50
        header, section = body["blocks"]
        assert utf16_units(header["text"]["text"]) <= 150
        assert utf16_units(section["text"]["text"]) <= 3000
    else:
        assert body_bytes(body) <= PAYLOAD_BYTES
        for alert in body["alerts"]:
            assert all(len(v.encode("utf-8")) <= LABEL_BYTES for v in alert["labels"].values())
            assert all(len(v.encode("utf-8")) <= ANNOTATION_BYTES for v in alert["annotations"].values())
        # two clipped label values, each at most 4 times as long once quoted as Go quotes (\x00)
        assert len(body["groupKey"].encode("utf-8")) <= 2 * 4 * LABEL_BYTES + 64


@settings(max_examples=60)
@given(hostile_message())
def test_every_body_fits_its_channels_limit_whatever_the_fields_hold(message):
    # GIVEN a job, its task instances and a node whose every field is huge or multi-byte
    # WHEN each channel renders the run as alerts and recovery notices, and as a storm digest
    for outbox in _outboxes(message):
        for channel in build_channels(load_config(SETTINGS)):
            for payload in channel.payloads(outbox):
                signed = dict(channel.request(payload.body, 1_795_000_000.0).json_body)
                # THEN each body is within the channel's limit
                check_limits(channel.name, payload.body, signed)


def _one_huge(field: str, value: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        load_event("cmq_topic_task_instance_failed.json")["Records"][0]["CMQ"]["msgBody"]
    )
    data["Events"][0]["Batch"][field] = value
    return data


def test_a_clipped_value_ends_with_an_ellipsis_in_every_channel():
    # GIVEN a 1 MB StateReason of Chinese text
    message = _one_huge("StateReason", "内存不足" * (MB // 4))
    [outbox, _digest] = _outboxes(message)
    for channel in build_channels(load_config(SETTINGS)):
        [payload, *_] = channel.payloads(outbox)
        # THEN the reason is shown clipped, marked with "…", within the limit
        text = "".join(_strings(payload.body))
        assert "内存不足" in text and "内存不足" * 1000 not in text and "…" in text, channel.name
        check_limits(channel.name, payload.body, dict(channel.request(payload.body, 0.0).json_body))


def test_a_huge_event_var_is_clipped_in_the_webhook_annotations():
    message = _one_huge("StateReason", "ok")
    message["Events"][0]["EventVars"] = [{"Name": "blob", "Value": "😀" * MB}]
    [outbox, _digest] = _outboxes(message)
    webhook = next(c for c in build_channels(load_config(SETTINGS)) if c.name == "webhook")
    [alert] = webhook.payloads(outbox)[0].body["alerts"]
    assert alert["annotations"]["event_vars"].endswith("…")
    assert len(alert["annotations"]["event_vars"].encode("utf-8")) <= ANNOTATION_BYTES


def test_a_console_link_keeps_a_short_hostile_id_percent_encoded_and_drops_a_huge_one():
    from alerting.grouping import GroupKey

    base = "https://console.cloud.tencent.com/batch"
    short = console_link(base, GroupKey("ap-guangzhou", "job", "job-x) <@all>"))
    assert short == f"{base}/job/detail?jobId=job-x%29%20%3C%40all%3E&region=ap-guangzhou"
    assert console_link(base, GroupKey("ap-guangzhou", "job", "j" * MB)) == f"{base}/job?region=ap-guangzhou"
    assert console_link(base, GroupKey("作" * MB, "env", "env-1")) == f"{base}/env/detail?envId=env-1"
