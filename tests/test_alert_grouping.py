"""Grouping per job or environment, dedupe within an invocation, severity, and what is alerted at all."""

from __future__ import annotations

import pytest
from alerting import Severity, build_alert, group_events

from shared.catalogue import EventName
from shared.envelope import parse_trigger_event
from tests.fakes.chat import channel_env, fake_chat, invoke
from tests.helpers import load_event
from tools.generate_event import trigger_event


def _groups(name_or_event, region=None):
    event = load_event(name_or_event) if isinstance(name_or_event, str) else name_or_event
    return group_events(parse_trigger_event(event).known_events, region)


def test_job_events_group_by_region_and_job_and_node_events_by_region_and_env():
    # GIVEN a sample with two jobs in two regions and an environment's node events
    # WHEN it is grouped
    groups, duplicates = _groups("cmq_topic_alert_groups.json")
    # THEN three groups, each with its events and its source records
    assert [str(g.key) for g in groups] == [
        "ap-guangzhou/job/job-grp00001",
        "ap-guangzhou/job/job-grp00003",
        "ap-shanghai/env/env-grp00001",
        "ap-shanghai/job/job-grp00002",
    ]
    assert [len(g.events) for g in groups] == [3, 1, 2, 1]
    assert [sorted(g.records) for g in groups] == [[0], [2], [2], [1]]
    assert duplicates == []


def test_same_msgid_delivered_twice_and_same_content_republished_are_reported_once(monkeypatch):
    # GIVEN one event delivered three times: twice under one msgId, once republished under another
    for key, value in channel_env("wecom", "webhook").items():
        monkeypatch.setenv(key, value)
    with fake_chat() as robots:
        # WHEN the invocation handles it
        summary = invoke(load_event("cmq_topic_duplicate_delivery.json"))
    # THEN one event, two duplicates, one message per channel counting one event
    assert (summary["alert_events"], summary["duplicates"], summary["groups"]) == (1, 2, 1)
    [message] = robots.accepted("wecom")
    assert "TASK_INSTANCE_FAILED_INTERRUPTED ×1 (1 in all)" in message.body["markdown"]["content"]
    assert len(robots.accepted("webhook")[0].body["alerts"]) == 1


def test_distinct_events_of_one_message_without_msgid_are_not_taken_for_duplicates():
    # GIVEN a bare Batch message (manual invoke: no msgId) with three distinct events of one job
    sample = load_event("cmq_topic_alert_groups.json")
    import json

    body = json.loads(sample["Records"][0]["CMQ"]["msgBody"])
    # WHEN grouped THEN all three count
    groups, duplicates = _groups(body)
    assert [len(g.events) for g in groups] == [3] and duplicates == []


def test_interrupted_and_abnormal_are_called_out():
    groups, _ = _groups("cmq_topic_alert_groups.json")
    alerts = {str(g.key): build_alert(g, "https://console") for g in groups}
    assert alerts["ap-shanghai/job/job-grp00002"].severity is Severity.INTERRUPTED
    assert "KEPT and still billing" in alerts["ap-shanghai/job/job-grp00002"].severity.note
    assert alerts["ap-shanghai/env/env-grp00001"].severity is Severity.ABNORMAL
    assert alerts["ap-guangzhou/job/job-grp00001"].severity is Severity.FAILED
    assert alerts["ap-guangzhou/job/job-grp00001"].counts == (
        ("JOB_FAILED", 1),
        ("TASK_FAILED", 1),
        ("TASK_INSTANCE_FAILED", 1),
    )


def test_only_the_eight_failure_events_alert_by_default(monkeypatch):
    # GIVEN the default ALERT_EVENTS and a sample that also holds a JOB_SUCCEED
    for key, value in channel_env("webhook").items():
        monkeypatch.setenv(key, value)
    with fake_chat() as robots:
        summary = invoke(load_event("cmq_topic_alert_groups.json"))
    # THEN the succeeded job is not alerted
    assert (summary["alert_events"], summary["groups"]) == (6, 3)
    assert all("job-grp00003" not in m.body["groupKey"] for m in robots.accepted("webhook"))


@pytest.mark.parametrize("name", ["cmq_topic_job_running.json", "cmq_topic_compute_node_created.json"])
def test_non_failure_events_send_nothing(name, monkeypatch):
    for key, value in channel_env().items():
        monkeypatch.setenv(key, value)
    with fake_chat() as robots:
        summary = invoke(load_event(name))
    assert summary["groups"] == 0 and robots.received == []


def test_alert_events_setting_narrows_and_widens_what_alerts(monkeypatch):
    # GIVEN ALERT_EVENTS naming only the interrupted instance event and JOB_SUCCEED
    monkeypatch.setenv("ALERT_EVENTS", "TASK_INSTANCE_FAILED_INTERRUPTED, JOB_SUCCEED")
    for key, value in channel_env("webhook").items():
        monkeypatch.setenv(key, value)
    with fake_chat() as robots:
        summary = invoke(load_event("cmq_topic_alert_groups.json"))
    # THEN just those two alert; a success is a NOTICE
    assert (summary["alert_events"], summary["groups"]) == (2, 2)
    labels = sorted(m.body["alerts"][0]["labels"]["alertname"] for m in robots.accepted("webhook"))
    assert labels == ["JOB_SUCCEED", "TASK_INSTANCE_FAILED_INTERRUPTED"]


def test_event_without_region_takes_the_function_region():
    event = trigger_event(EventName.JOB_FAILED)
    event["Records"][0]["CMQ"]["msgBody"] = event["Records"][0]["CMQ"]["msgBody"].replace(
        '"Region": "ap-guangzhou", ', ""
    )
    groups, _ = _groups(event, "ap-beijing")
    assert str(groups[0].key) == "ap-beijing/job/job-5ik2gmv8"
