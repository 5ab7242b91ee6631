from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone

import pytest

from shared.catalogue import EventName
from shared.envelope import parse_trigger_event
from shared.models import FIELDS, BatchEvent
from tests.helpers import event_files, load_event


def _accounting_holds(event) -> None:
    """Each record gives exactly one rejection, or one event or rejection per Events entry."""
    parsed = parse_trigger_event(event)
    per_record: dict[int, list] = {}
    for e in parsed.events:
        per_record.setdefault(e.source.index, []).append(("event", e.position))
    for r in parsed.rejections:
        per_record.setdefault(r.record_index, []).append(("rejection", r.position))
    assert set(per_record) == set(range(parsed.records))
    for items in per_record.values():
        whole = [i for i in items if i[1] is None]
        if whole:
            assert items == whole and len(whole) == 1
        else:
            positions = [p for _, p in items]
            assert sorted(positions) == list(range(len(positions)))


@pytest.mark.parametrize("name", event_files())
def test_every_sample_is_fully_accounted_for(name):
    _accounting_holds(load_event(name))


@pytest.mark.parametrize("name", [e for e in EventName])
def test_each_event_name_has_a_sample_that_parses_to_it(name):
    parsed = parse_trigger_event(load_event(f"cmq_topic_{name.value.lower()}.json"))
    assert not parsed.rejections
    (event,) = parsed.events
    assert event.name is name
    assert event.region == "ap-guangzhou"
    assert event.time is not None and event.time.tzinfo is not None
    assert event.source.topic_name == "batch-events"
    assert event.source.msg_id


def test_node_event_fields_map_to_snake_case():
    (event,) = parse_trigger_event(load_event("batch_message_compute_node_created.json")).events
    assert event.node_id == "node-0iy7wxyo"
    assert event.instance_id == "ins-9rikj9kw"
    assert event.env_id == "env-ptoxdb1t"
    assert event.env_name == "batch-env"
    assert event.node_state == "CREATED"
    assert (event.cpu, event.mem) == (4, 8)
    assert event.time == datetime(2018, 6, 15, 14, 43, 17, tzinfo=timezone.utc)
    assert event.resource_created_time == datetime(2018, 6, 15, 14, 43, 18, tzinfo=timezone.utc)
    assert event.source.msg_id is None


def test_task_instance_fields_and_raw_batch_kept():
    event = load_event("cmq_topic_task_instance_failed.json")
    body = json.loads(event["Records"][0]["CMQ"]["msgBody"])
    body["Events"][0]["Batch"]["SomethingNew"] = {"nested": True}
    event["Records"][0]["CMQ"]["msgBody"] = json.dumps(body)
    (parsed,) = parse_trigger_event(event).events
    assert parsed.job_id == "job-5ik2gmv8"
    assert parsed.task_name == "render"
    assert parsed.task_instance_index == 0
    assert parsed.exit_code == 137
    assert parsed.state == "FAILED"
    assert parsed.batch["SomethingNew"] == {"nested": True}
    assert parsed.vars == {"owner": "render-team"}
    assert parsed.is_failure and not parsed.is_interrupted


def test_base64_body_parses_like_the_raw_body():
    event = load_event("cmq_topic_base64_job_failed_interrupted.json")
    body = event["Records"][0]["CMQ"]["msgBody"]
    raw_event = load_event("cmq_topic_base64_job_failed_interrupted.json")
    raw_event["Records"][0]["CMQ"]["msgBody"] = base64.b64decode(body).decode()
    (a,) = parse_trigger_event(event).events
    (b,) = parse_trigger_event(raw_event).events
    assert a.raw == b.raw and a.fingerprint == b.fingerprint
    assert a.name is EventName.JOB_FAILED_INTERRUPTED and a.is_interrupted
    assert a.region == "ap-shanghai"
    assert a.vars["max_retries"] == "2"


def test_msg_tag_as_list_or_comma_string():
    parsed = parse_trigger_event(load_event("cmq_topic_multi_record_mixed.json"))
    tags = {e.source.msg_id: e.source.tags for e in parsed.events}
    assert tags["1233455001"] == ("batch", "job")
    assert tags["1233455002"] == ("batch", "node")
    assert tags["1233455003"] == ()


def test_several_records_and_several_events_per_message():
    parsed = parse_trigger_event(load_event("cmq_topic_multi_record_mixed.json"))
    assert parsed.records == 3
    assert len(parsed.events) == 6
    assert [e.position for e in parsed.events if e.source.msg_id == "1233455001"] == [0, 1, 2]


def test_event_vars_accept_lower_case_keys_and_skip_nameless():
    event = load_event("cmq_topic_job_failed.json")
    body = json.loads(event["Records"][0]["CMQ"]["msgBody"])
    body["Events"][0]["EventVars"] = [
        {"name": "owner", "value": "ml"},
        {"Name": "max_retries", "Value": 5},
        {"Value": "no name"},
        "not an object",
    ]
    event["Records"][0]["CMQ"]["msgBody"] = json.dumps(body)
    (parsed,) = parse_trigger_event(event).events
    assert parsed.vars == {"owner": "ml", "max_retries": "5"}


def test_same_event_under_another_msg_id_has_the_same_fingerprint():
    parsed = parse_trigger_event(load_event("cmq_topic_duplicate_delivery.json"))
    assert len({e.fingerprint for e in parsed.events}) == 1
    assert {e.delivery_key for e in parsed.events} == {"1233456001#0", "1233456002#0"}


@pytest.mark.parametrize(
    ("msg_id", "reason"),
    [
        ("bad-not-json", "msgBody is neither JSON nor base64 of JSON"),
        ("bad-base64-not-json", "msgBody is base64 but not of JSON"),
        ("bad-no-events", "message has no Events list"),
        ("bad-no-event-name", "Events[0] has no EventName"),
    ],
)
def test_malformed_records_become_rejections_with_msg_id_and_reason(msg_id, reason):
    parsed = parse_trigger_event(load_event("malformed_records.json"))
    assert (msg_id, reason) in {(r.msg_id, r.reason) for r in parsed.rejections}


def test_good_record_among_bad_ones_still_parses_and_unknown_is_kept():
    parsed = parse_trigger_event(load_event("malformed_records.json"))
    assert {e.source.msg_id for e in parsed.known_events} == {"good-among-bad"}
    (unknown,) = parsed.unknown_events
    assert unknown.name is None and unknown.name_raw == "JOB_EXPLODED"
    assert any(r.reason == "record has no CMQ object" for r in parsed.rejections)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "msgBody is empty"),
        ("[1, 2]", "msgBody JSON is not an object"),
        ('{"Events": []}', "message has an empty Events list"),
        ('{"Events": "x"}', "message has no Events list"),
        ('{"Events": [42]}', "Events[0] is not an object"),
        ('{"Events": [{"EventName": "JOB_FAILED", "Batch": [1]}]}', "Events[0].Batch is not an object"),
        ('{"Events": [{"EventName": ""}]}', "Events[0] has no EventName"),
        (17, "msgBody is a int, not text"),
    ],
)
def test_each_broken_body_has_its_own_reason(body, reason):
    event = load_event("cmq_topic_job_failed.json")
    event["Records"][0]["CMQ"]["msgBody"] = body
    parsed = parse_trigger_event(event)
    assert not parsed.events
    assert [r.reason for r in parsed.rejections] == [reason]
    assert parsed.rejections[0].msg_id == event["Records"][0]["CMQ"]["msgId"]


def test_missing_msg_body_and_non_list_records_are_rejected():
    event = load_event("cmq_topic_job_failed.json")
    del event["Records"][0]["CMQ"]["msgBody"]
    assert [r.reason for r in parse_trigger_event(event).rejections] == ["record has no msgBody"]
    assert parse_trigger_event({"Records": "x"}).rejections[0].reason == "event.Records is not a list"


@pytest.mark.parametrize("event", [None, [], "text", {"hello": "world"}, 3])
def test_input_that_is_not_an_envelope_is_one_rejection(event):
    parsed = parse_trigger_event(event)
    assert parsed.records == 1 and not parsed.events
    assert "neither a CMQ trigger event" in parsed.rejections[0].reason


def test_records_from_other_topics_are_rejected_when_topics_are_set():
    event = load_event("cmq_topic_multi_record_mixed.json")
    event["Records"][1]["CMQ"]["topicName"] = "someone-elses-topic"
    parsed = parse_trigger_event(event, topics={"batch-events"})
    assert [r.reason for r in parsed.rejections] == [
        "topic 'someone-elses-topic' is not in BATCH_TOPIC_NAMES"
    ]
    assert len(parsed.events) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T08:35:00+08:00", datetime(2026, 11, 20, 0, 35, tzinfo=timezone.utc)),
        ("2026-11-20 08:35:00", datetime(2026, 11, 20, 8, 35, tzinfo=timezone.utc)),
        (" 2026-11-20T08:35:00Z\n", datetime(2026, 11, 20, 8, 35, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("", None),
        ("   ", None),
        (1763627700, None),
        (None, None),
    ],
)
def test_event_time_offsets_and_naive_times(text, expected):
    event = {"Events": [{"EventName": "JOB_FAILED", "EventTime": text, "Batch": {"JobId": "j"}}]}
    (parsed,) = parse_trigger_event(event).events
    assert parsed.time == expected


def test_parsed_event_equals_one_built_by_the_class_constructor():
    # GIVEN every sample event, parsed through the envelope's fast constructor
    for name in event_files():
        for event in parse_trigger_event(load_event(name)).events:
            # THEN it has exactly the class's annotated fields and equals BatchEvent(**fields)
            assert tuple(BatchEvent.__annotations__) == FIELDS
            values = {name: getattr(event, name) for name in FIELDS}
            assert list(vars(event)) == list(values)  # the same key order as __init__'s
            assert event == BatchEvent(**values) and vars(event) == vars(BatchEvent(**values))
            assert event.replace(job_id="other") != event and event.replace().values() == event.values()
            with pytest.raises(AttributeError, match="immutable"):
                event.job_id = "changed"
            with pytest.raises(TypeError, match="unexpected keyword"):
                event.replace(jobid="x")


_STATE_ORDER = ("TaskInstanceState", "TaskState", "JobState", "EnvState")


@pytest.mark.parametrize(
    "batch",
    [
        {"JobState": "FAILED", "TaskState": "FAILED_INTERRUPTED", "TaskInstanceState": "FAILED"},
        {"TaskInstanceState": "FAILED", "JobState": "RUNNING", "TaskState": "RUNNING"},
        {"TaskInstanceState": " ", "TaskState": "FAILED", "EnvState": "NORMAL"},
    ],
)
def test_state_is_the_most_specific_one_whatever_the_key_order(batch):
    # GIVEN a Batch object carrying several resources' states, in any order
    event = {"Events": [{"EventName": "TASK_INSTANCE_FAILED", "Batch": batch}]}
    # WHEN parsed
    (parsed,) = parse_trigger_event(event).events
    # THEN the task instance's state wins, then the task's, the job's, the environment's
    expected = next(batch[k].strip() for k in _STATE_ORDER if batch.get(k, "").strip())
    assert parsed.state == expected


def test_fingerprint_is_the_sha256_of_the_sorted_compact_json():
    # The fingerprint is written in log lines and matched across invocations and versions: it must
    # stay the documented hash, whatever encoder computes it.
    for name in ("cmq_topic_compute_node_abnormal.json", "cmq_topic_unicode_names.json"):
        for event in parse_trigger_event(load_event(name)).events:
            assert "fingerprint" not in vars(event)  # computed on first use only
            canonical = json.dumps(event.raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            assert event.fingerprint == hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"Events": [{"EventName": "JOB_FAILED"}]} trailing', "msgBody is not valid JSON"),
        ('{"Events": [{"EventName": "JOB_FAILED"}]}{"Events": []}', "msgBody is not valid JSON"),
        (base64.b64encode(b'{"Events": []} x').decode(), "msgBody is base64 but not of JSON"),
        # json.loads allows only space, tab, CR and LF around the value: no-break space is not JSON
        (base64.b64encode('{"Events": []}\u00a0'.encode()).decode(), "msgBody is base64 but not of JSON"),
    ],
)
def test_anything_after_the_json_value_is_refused(body, reason):
    event = load_event("cmq_topic_job_failed.json")
    event["Records"][0]["CMQ"]["msgBody"] = body
    assert [r.reason for r in parse_trigger_event(event).rejections] == [reason]


@pytest.mark.parametrize(
    "text", ['{"Events": [{"EventName": "JOB_FAILED"}]}\n', '\n {"Events": [{"EventName": "JOB_FAILED"}]}']
)
def test_whitespace_around_json_is_accepted_raw_or_in_base64(text):
    # `echo '{...}' | base64` ends the JSON with a newline before encoding it
    for body in (text, base64.b64encode(text.encode()).decode()):
        event = load_event("cmq_topic_job_failed.json")
        event["Records"][0]["CMQ"]["msgBody"] = body
        assert [e.name for e in parse_trigger_event(event).events] == [EventName.JOB_FAILED]


def test_new_source_builds_what_the_class_builds():
    from shared.models import SourceRecord, new_source

    fields = ("m-1", "topic", "sub", "2026-11-20T08:35:00Z", ("a", "b"), "req", 3)
    built = new_source(*fields)
    assert built == SourceRecord(*fields)
    assert type(built) is SourceRecord and built._asdict() == SourceRecord(*fields)._asdict()
    with pytest.raises(AttributeError):
        built.msg_id = "other"  # type: ignore[misc]
