"""log_node_churn: one node_event line per compute-node / compute-env event, with the issue's fields."""

from __future__ import annotations

import json
from datetime import timezone

import pytest
from churn.records import iso
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import decode_body, parse_time
from tests.helpers import event_files, json_lines, load_event, load_handler

NODE_FIELDS = (
    "kind",
    "event",
    "region",
    "env_id",
    "env_name",
    "node_id",
    "instance_id",
    "node_state",
    "cpu",
    "mem",
    "event_time",
    "node_age_s",
    "event_vars",
    "msg_id",
)
CHURN_SAMPLES = [
    n
    for n in event_files()
    if n.startswith(("cmq_topic_compute_", "batch_message_compute_", "cmq_topic_churn_"))
]
JOB_AND_TASK_SAMPLES = [n for n in event_files() if n.startswith(("cmq_topic_job_", "cmq_topic_task_"))]


def _run(event, capsys):
    summary = load_handler("log_node_churn").main_handler(event, {"request_id": "req-churn"})
    out = capsys.readouterr().out
    return summary, json_lines(out), out


def _node_lines(logs):
    return [line for line in logs if line.get("kind") == "node_event"]


def _sample_entries(event):
    """(msgId, Batch event entry) for every entry of a trigger event or bare message."""
    if "Events" in event:
        return [(None, e) for e in event["Events"]]
    out = []
    for record in event["Records"]:
        cmq = record["CMQ"]
        out += [(cmq["msgId"], e) for e in decode_body(cmq["msgBody"])["Events"]]
    return out


def _node_record(event):
    return json.loads(event["Records"][0]["CMQ"]["msgBody"])


def _with_body(event, body):
    event["Records"][0]["CMQ"]["msgBody"] = json.dumps(body, ensure_ascii=False)
    return event


def test_there_are_node_and_env_samples():
    # GIVEN the samples folder WHEN listing churn samples THEN all five node and both env events are there
    names = {n for n in CHURN_SAMPLES if n.startswith("cmq_topic_compute_")}
    assert len(names) == 7


@pytest.mark.parametrize("name", CHURN_SAMPLES)
def test_every_node_and_env_sample_gives_one_node_event_line_per_event(name, capsys):
    # GIVEN a node or env sample
    event = load_event(name)
    entries = _sample_entries(event)
    # WHEN the function handles it
    summary, logs, _ = _run(event, capsys)
    # THEN each event is one line whose issue fields are top-level keys, in order of arrival
    lines = _node_lines(logs)
    assert len(lines) == len(entries) == summary["node_events"]
    for line, (msg_id, entry) in zip(lines, entries):
        assert all(key in line for key in NODE_FIELDS)
        assert line["kind"] == "node_event"
        assert line["event"] == entry["EventName"]
        assert line["region"] == entry["Region"]
        assert line["env_id"] == entry["Batch"]["EnvId"]
        assert line["msg_id"] == msg_id
        assert line["request_id"] == "req-churn"
        assert parse_time(line["event_time"]) == parse_time(entry["EventTime"])
        created = parse_time(entry["Batch"].get("ResourceCreatedTime"))
        happened = parse_time(entry["EventTime"])
        expected_age = None if created is None or happened is None else (happened - created).total_seconds()
        assert line["node_age_s"] == expected_age
    # AND one churn_summary per environment
    envs = {e["Batch"]["EnvId"] for _, e in entries}
    assert len([line for line in logs if line.get("kind") == "churn_summary"]) == len(envs)


@pytest.mark.parametrize("name", JOB_AND_TASK_SAMPLES)
def test_job_and_task_events_produce_no_churn_lines(name, capsys):
    # GIVEN a job, task or task-instance sample WHEN handled
    summary, logs, _ = _run(load_event(name), capsys)
    # THEN no node_event and no churn_summary line
    assert not [line for line in logs if line.get("kind") in ("node_event", "churn_summary")]
    assert (summary["node_events"], summary["environments"]) == (0, 0)


def test_node_fields_are_copied_from_the_batch_object(capsys):
    # GIVEN the creation-failure sample (its instance id is an empty string)
    _, logs, _ = _run(load_event("cmq_topic_compute_node_creation_failed.json"), capsys)
    # WHEN logged THEN the fields carry Batch's values, the empty id as null, and the reason
    (line,) = _node_lines(logs)
    assert line["node_id"] == "node-0iy7wxyo"
    assert line["instance_id"] is None
    assert line["node_state"] == "CREATION_FAILED"
    assert (line["cpu"], line["mem"]) == (4, 8)
    assert line["event_time"] == "2026-11-20T08:35:00Z"
    assert line["node_age_s"] == 300
    assert line["state_reason"] == "ResourceInsufficient.SpecifiedInstanceType"
    assert "fingerprint" not in line  # duplicates are told by name, environment, node and time


def test_seed_example_negative_age_is_kept_as_batch_says(capsys):
    # GIVEN the seed's message: the resource is created one second after the event
    _, logs, _ = _run(load_event("batch_message_compute_node_created.json"), capsys)
    # WHEN logged THEN node_age_s is -1 on the line (clock skew shown, not hidden) and 0 in the summary
    (line,) = _node_lines(logs)
    assert line["node_age_s"] == -1
    (summary_line,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert summary_line["node_age_s"] == {"min": 0, "median": 0, "max": 0, "known": 1}


@pytest.mark.parametrize("created", [None, "", "yesterday", 12345, {"t": 1}])
def test_node_age_is_null_when_resource_created_time_is_missing_or_malformed(created, capsys):
    # GIVEN a valid node sample whose ResourceCreatedTime is removed or broken
    event = load_event("cmq_topic_compute_node_running.json")
    body = _node_record(event)
    if created is None:
        del body["Events"][0]["Batch"]["ResourceCreatedTime"]
    else:
        body["Events"][0]["Batch"]["ResourceCreatedTime"] = created
    # WHEN handled
    summary, logs, _ = _run(_with_body(event, body), capsys)
    # THEN the event is still logged, with a null age, and the summary knows no age
    (line,) = _node_lines(logs)
    assert line["node_age_s"] is None
    (summary_line,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert summary_line["node_age_s"]["known"] == 0
    assert summary["rejected"] == 0


def test_malformed_fields_become_nulls_not_failures(capsys):
    # GIVEN a node sample with a bad EventTime, non-numeric Cpu, a list for Mem and no EnvId / EnvName
    event = load_event("cmq_topic_compute_node_abnormal.json")
    body = _node_record(event)
    entry = body["Events"][0]
    entry["EventTime"] = "not a time"
    entry["Batch"].update(Cpu="four", Mem=[8], ComputeNodeId=None)
    del entry["Batch"]["EnvId"], entry["Batch"]["EnvName"]
    # WHEN handled
    summary, logs, _ = _run(_with_body(event, body), capsys)
    # THEN one line with nulls, and a summary for the unknown environment that counts the node
    (line,) = _node_lines(logs)
    assert (line["event_time"], line["cpu"], line["mem"], line["env_id"]) == (None, None, None, None)
    assert line["node_age_s"] is None
    assert line["instance_id"] == "ins-9rikj9kw"
    (summary_line,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert summary_line["env_id"] is None
    assert (summary_line["nodes_seen"], summary_line["abnormal_nodes"]) == (1, 1)
    assert summary["node_events"] == 1


def test_event_without_batch_object_is_still_a_node_event(capsys):
    # GIVEN a node event whose Batch object is missing entirely
    event = load_event("cmq_topic_compute_node_deleting.json")
    body = _node_record(event)
    del body["Events"][0]["Batch"]
    # WHEN handled THEN it is logged with null node fields and counted as one (anonymous) node
    _, logs, _ = _run(_with_body(event, body), capsys)
    (line,) = _node_lines(logs)
    assert (line["node_id"], line["env_id"], line["node_age_s"]) == (None, None, None)
    (summary_line,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert summary_line["nodes_seen"] == 1


def test_unicode_environment_names_are_written_as_text(capsys):
    # GIVEN the lifecycle sample, whose environment has a Chinese name
    _, logs, out = _run(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    # WHEN logged THEN the name is readable in the raw line (not \\u escapes) and round-trips
    assert "渲染集群-华南" in out
    assert {line["env_name"] for line in _node_lines(logs)} == {"渲染集群-华南"}


def test_event_vars_are_on_the_line_and_secrets_in_them_are_scrubbed(capsys):
    # GIVEN a node event whose vars hold an owner and, by mistake, a webhook URL with its key
    event = load_event("cmq_topic_compute_node_created.json")
    body = _node_record(event)
    body["Events"][0]["EventVars"] = [
        {"Name": "owner", "Value": "render-team"},
        {"Name": "hook", "Value": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-secret-key"},
    ]
    # WHEN handled
    _, logs, out = _run(_with_body(event, body), capsys)
    # THEN the vars are a dict on the line, and the key never reaches stdout
    (line,) = _node_lines(logs)
    assert line["event_vars"]["owner"] == "render-team"
    assert "abc-secret-key" not in out
    assert line["event_vars"]["hook"].endswith("key=***")


def test_same_event_delivered_twice_in_one_invocation_is_logged_once(capsys):
    # GIVEN a trigger event holding the same node event under two msgIds
    event = load_event("cmq_topic_compute_node_abnormal.json")
    twin = json.loads(json.dumps(event["Records"][0]))
    twin["CMQ"]["msgId"] = "redelivered-1"
    event["Records"].append(twin)
    # WHEN handled
    summary, logs, _ = _run(event, capsys)
    # THEN one node_event line, the repeat reported, and the summary counts the event once
    assert len(_node_lines(logs)) == 1
    assert summary["duplicates"] == 1
    assert [x["msg_id"] for x in logs if x.get("msg") == "duplicate node event skipped"] == ["redelivered-1"]
    (summary_line,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert summary_line["events"] == 1


def test_unknown_and_job_events_in_a_mixed_message_are_skipped(capsys):
    # GIVEN the mixed sample (job, task-instance and node events in several records, one base64)
    summary, logs, _ = _run(load_event("cmq_topic_multi_record_mixed.json"), capsys)
    # WHEN handled THEN only the node/env events become lines
    lines = _node_lines(logs)
    assert lines and all(line["event"].startswith("COMPUTE_") for line in lines)
    assert summary["node_events"] == len(lines) < summary["events"]


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(timezones=st.one_of(st.just(timezone.utc), st.timezones())).filter(
        lambda d: 1 < d.year < 9999
    )
)
def test_times_are_written_as_isoformat_in_utc_to_the_millisecond(moment):
    utc = moment.astimezone(timezone.utc)
    expected = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    assert iso(moment) == expected.replace("+00:00", "Z")


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T08:35:00Z", "2026-11-20T16:35:00+08:00", "2026-11-20 08:35:00", "2026-11-20T08:35:00.250Z"],
)
def test_the_line_takes_batchs_time_text_only_when_it_is_what_iso_would_write(text):
    from churn.records import iso, iso_of

    from shared.envelope import parse_time

    moment = parse_time(text)
    assert iso_of(moment, text) == iso(moment)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T08:35:00Z",
        "2026-W47-5T08:35:00Z",
        "  20261120T083500.0Z",
        "20261120T083500Z",
        "2026-11-20T08:35:00.5Z",
    ],
)
def test_a_time_line_is_always_the_canonical_form_whatever_the_text(text):
    # 3.11's fromisoformat reads basic and week dates too: only the extended form is passed through
    from churn.records import iso, iso_of

    from shared.envelope import parse_time

    moment = parse_time(text)
    assert iso_of(moment, text) == iso(moment)
