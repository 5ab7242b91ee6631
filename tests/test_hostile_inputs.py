"""Hostile input on every delivery path: each handler keeps its contract, whatever it is given.

The contract and the harness are tools/fuzz.py's (the long campaign, `make fuzz`); the inputs are
tests/strategies.py's, made by breaking the samples in events/. Property tests draw a few dozen
inputs per handler and path; the example tests pin each named hostile case.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.chat import CHANNELS
from tests.helpers import FUNCTIONS, json_lines, load_event
from tests.strategies import (
    CLASSES,
    CMQ_TEXT_POSITIONS,
    DEPTHS,
    ENTRY_BREAKS,
    HUGE_VALUES,
    MESSAGE_TEXT_POSITIONS,
    PATHS,
    SHAPES,
    STRATEGIES,
    TASK_INDEX_VALUES,
    TOKEN,
    PushCase,
    QueueCase,
    TriggerCase,
    decode_sample_body,
    delivery_event,
    materialise,
    nested,
    node_samples,
    push_cases,
    queue_cases,
    samples,
    set_field,
    to_json,
    trigger_cases,
)
from tools.fuzz import Harness, Verdict

PROPERTY = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# Mixed samples: job, task-instance and compute-node events (alert, churn), and interrupted jobs (retry).
MIXED = ("cmq_topic_multi_record_mixed.json", "cmq_topic_retry_two_jobs.json")
EDGE_TIMES = (
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "not a time at all",
    "2026-11-20T08:35:00.1234567890123456789Z",
    "2026-11-20T08:35:00." + "9" * 5000 + "Z",
)


@pytest.fixture
def harness(monkeypatch):
    """Every fake active, the settings the other tests use (role credentials, memory ledger, queue)."""
    with Harness.open(monkeypatch) as opened:
        yield opened


def assert_contract(verdict: Verdict) -> None:
    assert verdict.ok, verdict.describe()


def lines_of(verdict: Verdict, msg: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(verdict.stdout) if line.get("msg") == msg]


def broken(sample: str, change: Callable[[dict[str, Any]], Any], body: str = "json") -> list[Any]:
    """Every record's message of `sample` after `change`, as msgBody: JSON text with \\u escapes
    ("json"), JSON text with real characters ("raw"), or a dict ("dict")."""
    out = []
    for record in load_event(sample)["Records"]:
        message = decode_sample_body(record["CMQ"]["msgBody"])
        message = change(message) or message
        if body == "dict":
            out.append(materialise(message))
        else:
            out.append(to_json(message, ascii_only=body == "json"))
    return out


def on_every_event(position: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(message: dict[str, Any]) -> None:
        for index in range(len(message["Events"])):
            set_field(message, position, value, index)

    return change


def case_on(path: str, sample: str, bodies: list[Any], label: str) -> TriggerCase | QueueCase | PushCase:
    """The broken bodies delivered on `path`: one trigger event, one queue batch, or one push (the first)."""
    if path == "trigger":
        event = load_event(sample)
        for record, body in zip(event["Records"], bodies):
            record["CMQ"]["msgBody"] = body
        return TriggerCase(event, len(bodies), label)
    if path == "queue":
        return QueueCase(tuple(bodies), frozenset(range(len(bodies))), label)
    event = delivery_event("http_push_simplified.json")
    event["body"] = bodies[0]
    return PushCase(event, True, label)


# --- properties: any hostile input, every handler, every path ------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@PROPERTY
@given(case=trigger_cases())
def test_hostile_trigger_events_give_a_summary_counting_every_record(harness, function, case):
    assert_contract(harness.run(function, case))


@pytest.mark.parametrize("function", FUNCTIONS)
@PROPERTY
@given(case=queue_cases())
def test_hostile_queue_message_is_deleted_with_the_good_ones_beside_it(harness, function, case):
    assert_contract(harness.run(function, case))


@pytest.mark.parametrize("function", FUNCTIONS)
@PROPERTY
@given(case=push_cases())
def test_hostile_push_is_answered_200_with_the_token_and_401_or_403_without(harness, function, case):
    assert_contract(harness.run(function, case))


@pytest.mark.parametrize("hostile", CLASSES)
@settings(PROPERTY, max_examples=25)
@given(data=st.data())
def test_each_hostile_class_alone_keeps_the_contract_on_every_path(harness, hostile, data):
    function = data.draw(st.sampled_from(FUNCTIONS), label="function")
    path = data.draw(st.sampled_from(PATHS), label="path")
    case = data.draw(STRATEGIES[path]((hostile,)), label="case")
    assert_contract(harness.run(function, case))


# --- lone surrogates in every text position ------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("sample", MIXED)
@pytest.mark.parametrize("body", ["json", "raw", "dict"])
@pytest.mark.parametrize("position", MESSAGE_TEXT_POSITIONS)
def test_lone_surrogate_in_a_message_field_is_handled_on_the_trigger_path(
    harness, function, sample, body, position
):
    # GIVEN every event of a valid sample with a lone surrogate at `position`
    bodies = broken(sample, on_every_event(position, "bad\ud800value\udfff"), body)
    # WHEN the trigger delivers it THEN the contract holds (JSON, UTF-8 logs, every record counted)
    assert_contract(harness.run(function, case_on("trigger", sample, bodies, f"{position} {body}")))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("path", ["queue", "push"])
@pytest.mark.parametrize("position", MESSAGE_TEXT_POSITIONS)
def test_lone_surrogate_in_a_message_field_is_handled_on_the_queue_and_push_paths(
    harness, function, path, position
):
    sample = "cmq_topic_multi_record_mixed.json"
    bodies = broken(sample, on_every_event(position, "\udc80" + "x"), "json")
    assert_contract(harness.run(function, case_on(path, sample, bodies, position)))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("position", CMQ_TEXT_POSITIONS)
def test_lone_surrogate_in_a_cmq_record_field_is_handled(harness, function, position):
    event = load_event("cmq_topic_multi_record_mixed.json")
    for record in event["Records"]:
        record["CMQ"][position] = "msg\ud800" if position != "msgTag" else ["batch\udfff", "\ud800"]
    assert_contract(harness.run(function, TriggerCase(event, 3, f"cmq {position}")))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    "header", ["x-cmq-message-id", "x-cmq-message-tag", "x-cmq-request-id", "user-agent", "x-\udfff"]
)
def test_lone_surrogate_in_a_push_header_is_answered_200(harness, function, header):
    event = delivery_event("http_push_simplified.json")
    event["headers"][header] = "\ud800push\udfff"
    verdict = harness.run(function, PushCase(event, True, f"header {header!r}"))
    assert_contract(verdict)
    assert verdict.result["statusCode"] == 200


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("where", ["query", "header"])
@pytest.mark.parametrize("token", [TOKEN + "\ud800", "\udfff", ["\ud800"], "令牌\udc80"])
def test_lone_surrogate_in_the_push_token_is_refused(harness, function, where, token):
    event = delivery_event("http_push_simplified.json")
    if where == "query":
        event["queryString"] = {"token": token}
    else:
        event["queryString"], event["headers"]["x-push-token"] = {}, token
    verdict = harness.run(function, PushCase(event, False, f"token {token!r} in {where}"))
    assert_contract(verdict)
    assert verdict.result["statusCode"] in (401, 403)


# --- nesting near the parser's depth limit -------------------------------------------------------

NESTINGS = [(depth, shape) for depth in DEPTHS for shape in SHAPES]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("body", ["json", "dict"])
@pytest.mark.parametrize(
    "position", ["EventVars.Value", "EventVars.dict", "Batch.StateReason", "Batch.JobId"]
)
@pytest.mark.parametrize("nesting", NESTINGS, ids=[f"{d}-{shape}" for d, shape in NESTINGS])
def test_deeply_nested_values_are_handled(harness, function, body, position, nesting):
    depth, shape = nesting
    sample = MIXED[0] if function != "retry_interrupted" else MIXED[1]
    bodies = broken(sample, on_every_event(position, nested(depth, shape)), body)
    label = f"{position} {depth} deep ({shape}, {body})"
    assert_contract(harness.run(function, case_on("trigger", sample, bodies, label)))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("path", ["queue", "push"])
@pytest.mark.parametrize("depth", [64, 65, 990, 1000, 1100])
def test_deeply_nested_event_vars_are_handled_on_the_queue_and_push_paths(harness, function, path, depth):
    sample = "cmq_topic_multi_record_mixed.json"
    bodies = broken(sample, on_every_event("EventVars.Value", nested(depth, "dict")))
    assert_contract(harness.run(function, case_on(path, sample, bodies, f"EventVars {depth} deep")))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    "body",
    [
        nested(1000, "list").text,
        nested(1000, "dict").text,
        '{"Events": ' + nested(1000, "list").text + "}",
        '{"msgId": "push-deep", "msgBody": ' + nested(1000, "dict").text + "}",
        '{"msgId": "push-deep", "msgBody": ' + json.dumps(nested(1000, "list").text) + "}",
    ],
    ids=["list", "dict", "events", "envelope-object", "envelope-text"],
)
def test_authenticated_push_nested_1000_deep_is_answered_200(harness, function, body):
    event = delivery_event("http_push_simplified.json")
    event["body"] = body
    verdict = harness.run(function, PushCase(event, True, "1000 deep"))
    assert_contract(verdict)
    assert verdict.result["statusCode"] == 200


# --- datetimes at the range edges ----------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("field", ["EventTime", "Batch.ResourceCreatedTime"])
@pytest.mark.parametrize("moment", EDGE_TIMES)
def test_times_at_the_edges_of_datetime_are_handled(harness, function, field, moment):
    sample = MIXED[0] if function != "retry_interrupted" else MIXED[1]
    bodies = broken(sample, on_every_event(field, moment))
    assert_contract(harness.run(function, case_on("trigger", sample, bodies, f"{field}={moment[:40]}")))


@pytest.mark.parametrize("moment", EDGE_TIMES[:4])
def test_year_one_and_year_9999_failures_reach_the_webhook(monkeypatch, robots, moment):
    # GIVEN the webhook channel on the fake receiver, and a job failure at an edge of datetime's range
    bodies = broken("cmq_topic_job_failed.json", on_every_event("EventTime", moment))
    case = case_on("trigger", "cmq_topic_job_failed.json", bodies, f"EventTime={moment}")
    with Harness.open(monkeypatch, chat=robots, channels=("webhook",)) as harness:
        verdict = harness.run("alert_failures", case)
    # THEN the alert is delivered
    assert_contract(verdict)
    assert len(robots.accepted("webhook")) == 1


@pytest.mark.parametrize("field", ["EventTime", "Batch.ResourceCreatedTime"])
@pytest.mark.parametrize("moment", EDGE_TIMES[:4])
def test_year_one_and_year_9999_node_events_are_logged(harness, field, moment):
    sample = "cmq_topic_compute_node_created.json"
    bodies = broken(sample, on_every_event(field, moment))
    verdict = harness.run("log_node_churn", case_on("trigger", sample, bodies, f"{field}={moment}"))
    assert_contract(verdict)
    [line] = lines_of(verdict, "node event")
    assert line["node_id"] == "node-0iy7wxyo"


# --- huge values ---------------------------------------------------------------------------------

HUGE_CASES = [
    (label, position)
    for label, _ in HUGE_VALUES
    for position in ("Batch.TaskInstanceIndex", "Batch.Cpu", "Batch.StateReason", "EventVars.Value")
] + [(label, "Batch.TaskInstanceIndex") for label, _ in TASK_INDEX_VALUES]
_HUGE = dict(HUGE_VALUES + TASK_INDEX_VALUES)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("body", ["json", "dict"])
@pytest.mark.parametrize(("label", "position"), HUGE_CASES)
def test_huge_values_are_handled(harness, function, body, label, position):
    sample = MIXED[0] if function != "retry_interrupted" else MIXED[1]
    bodies = broken(sample, on_every_event(position, _HUGE[label]()), body)
    assert_contract(harness.run(function, case_on("trigger", sample, bodies, f"{label}@{position} ({body})")))


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("path", ["queue", "push"])
@pytest.mark.parametrize("label", ["int:5000-digits", "int:100000-digits", "float:1e400", "str:1MB"])
def test_huge_values_are_handled_on_the_queue_and_push_paths(harness, function, path, label):
    sample = "cmq_topic_multi_record_mixed.json"
    bodies = broken(sample, on_every_event("Batch.StateReason", _HUGE[label]()))
    assert_contract(harness.run(function, case_on(path, sample, bodies, label)))


# --- structural breakage -------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("label", "apply"), ENTRY_BREAKS, ids=[label for label, _ in ENTRY_BREAKS])
def test_missing_renamed_and_mistyped_event_keys_are_handled(harness, function, label, apply):
    def change(message: dict[str, Any]) -> None:
        message["Events"] = [apply(entry) for entry in message["Events"]]

    sample = MIXED[0] if function != "retry_interrupted" else MIXED[1]
    assert_contract(harness.run(function, case_on("trigger", sample, broken(sample, change), label)))


MSG_BODIES = [
    ("number", 42),
    ("list", [{"Events": []}]),
    ("null", None),
    ("true", True),
    ("empty", ""),
    ("whitespace", "  \n"),
    ("truncated", '{"Events": [{"EventName": "JOB_FAILED", "Batch": {"JobId": "job-'),
    ("base64-garbage", "!!!!bm90IGpzb24="),
    ("base64-of-invalid-utf8", "//79"),
    ("events-dict", '{"Events": {"EventName": "JOB_FAILED"}}'),
    ("events-empty", '{"Events": []}'),
    ("json-string", json.dumps('{"Events": []}')),
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("label", "body"), MSG_BODIES, ids=[label for label, _ in MSG_BODIES])
def test_broken_msg_body_is_one_rejection_beside_good_records(harness, function, label, body):
    # GIVEN a valid sample whose second record's msgBody is broken
    event = load_event("cmq_topic_multi_record_mixed.json")
    event["Records"][1]["CMQ"]["msgBody"] = body
    verdict = harness.run(function, TriggerCase(event, 3, f"msgBody {label}"))
    # THEN the contract holds and the other two records' events were parsed
    assert_contract(verdict)
    assert verdict.result["rejected"] >= 1 and verdict.result["events"] >= 4


ENVELOPES = [
    ("records-dict", {"Records": {"CMQ": {}}}, 1),
    ("records-string", {"Records": "[]"}, 1),
    ("records-null", {"Records": None}, 1),
    ("records-empty", {"Records": []}, 0),
    ("record-not-object", {"Records": ["CMQ", None, 5]}, 3),
    ("cmq-not-object", {"Records": [{"CMQ": "x"}, {"CMQ": [1]}]}, 2),
    ("no-msg-body", {"Records": [{"CMQ": {"msgId": "m-1"}}]}, 1),
    ("event-list", [1, 2], 1),
    ("event-string", "Records", 1),
    ("event-null", None, 1),
    ("bare-events-dict", {"Events": {"EventName": "JOB_FAILED"}}, 1),
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("label", "event", "records"), ENVELOPES, ids=[label for label, _, _ in ENVELOPES])
def test_broken_trigger_envelope_is_counted_and_rejected(harness, function, label, event, records):
    assert_contract(harness.run(function, TriggerCase(event, records, label)))


# --- the named cases -----------------------------------------------------------------------------

POISONS = [
    (
        "surrogate-escapes",
        to_json({"Events": [{"EventName": "JOB_FAILED\ud800", "Batch": {"JobId": "\udfff"}}]}),
    ),
    ("real-surrogates", '{"Events": [{"EventName": "COMPUTE_NODE_ABNORMAL", "Batch": {"EnvId": "\ud800"}}]}'),
    ("1000-deep", nested(1000, "list").text),
    ("1100-deep-vars", to_json({"Events": [{"EventName": "JOB_FAILED", "EventVars": nested(1100, "dict")}]})),
    (
        "100000-digits",
        '{"Events": [{"EventName": "JOB_FAILED", "Batch": {"TaskInstanceIndex": ' + "9" * 100_000 + "}}]}",
    ),
    ("1e400", '{"Events": [{"EventName": "COMPUTE_NODE_ABNORMAL", "Batch": {"Cpu": 1e400}}]}'),
    (
        "year-one",
        to_json({"Events": [{"EventName": "JOB_FAILED", "EventTime": "0001-01-01T00:30:00+01:00"}]}),
    ),
    ("truncated", '{"Events": [{"EventName": "JOB_FAILED", "Batch": {'),
    ("base64-garbage", "!!!not base64!!!"),
    ("empty", ""),
]


def _unique(body: str, n: int) -> str:
    """A sample message made distinct (its node ids): log_node_churn logs a repeated event once."""
    message = decode_sample_body(body)
    for index in range(len(message["Events"])):
        batch = message["Events"][index].get("Batch")
        if isinstance(batch, dict) and "ComputeNodeId" in batch:
            batch["ComputeNodeId"] = f"{batch['ComputeNodeId']}-good{n:02d}"
    return json.dumps(message, ensure_ascii=False)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("label", "poison"), POISONS, ids=[label for label, _ in POISONS])
def test_poison_among_sixteen_good_messages_is_deleted_and_the_good_ones_handled(
    harness, function, label, poison
):
    # GIVEN 16 good messages (node events for log_node_churn, any sample for the others) and a poison one
    pool = node_samples() if function == "log_node_churn" else samples()
    good = [_unique(pool[n % len(pool)].body, n) for n in range(16)]
    bodies = (*good[:7], poison, *good[7:])
    verdict = harness.run(function, QueueCase(bodies, frozenset({7}), f"poison {label} at 7/17"))
    # THEN all 17 are deleted (checked by the contract), none left for redelivery
    assert_contract(verdict)
    assert (verdict.result["received"], verdict.result["deleted"]) == (17, 17)
    if function == "log_node_churn":
        # AND each good message's node events were logged (msg ids are given in send order)
        logged = {line["msg_id"] for line in lines_of(verdict, "node event")}
        assert logged >= {f"msg-{n:06d}" for n in range(1, 18) if n != 8}


def _surrogate_node_message(body: str) -> Any:
    message = decode_sample_body(
        load_event("cmq_topic_compute_node_abnormal.json")["Records"][0]["CMQ"]["msgBody"]
    )
    batch = message["Events"][0]["Batch"]
    batch["EnvName"], batch["StateReason"] = "集群\ud800", "disk \udfff failed"
    message["Events"][0]["EventVars"] = [{"Name": "k\udc80", "Value": "v\ud800"}]
    return message if body == "dict" else to_json(message, ascii_only=body == "json")


@pytest.mark.parametrize(
    ("first", "second"), [("json", "json"), ("dict", "dict"), ("raw", "raw"), ("json", "dict")]
)
def test_surrogates_in_a_republished_node_event_are_deduplicated_once(harness, first, second):
    # GIVEN the same node event with lone surrogates, published twice under two msgIds
    event = load_event("cmq_topic_compute_node_abnormal.json")
    record = event["Records"][0]
    again = json.loads(json.dumps(record))
    again["CMQ"]["msgId"] = "republished-1"
    record["CMQ"]["msgBody"], again["CMQ"]["msgBody"] = (
        _surrogate_node_message(first),
        _surrogate_node_message(second),
    )
    event["Records"].append(again)
    # WHEN log_node_churn fingerprints them
    verdict = harness.run(
        "log_node_churn", TriggerCase(event, 2, f"duplicate with surrogates {first}/{second}")
    )
    # THEN the contract holds, and one node_event line is logged, one duplicate skipped
    assert_contract(verdict)
    assert (verdict.result["node_events"], verdict.result["duplicates"]) == (1, 1)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("body", ["json", "dict"])
def test_surrogates_in_a_failure_reach_each_chat_channel_as_utf8(monkeypatch, robots, channel, body):
    # GIVEN one channel on its fake robot, and a job failure with lone surrogates in every text it shows
    def change(message: dict[str, Any]) -> None:
        for position, value in (
            ("Batch.JobName", "渲染\ud800"),
            ("Batch.StateReason", "exit \udfff code"),
            ("Batch.TaskName", "\udc80task"),
            ("EventVars.Value", "v\ud800"),
            ("EventVars.Name", "n\udfff"),
        ):
            set_field(message, position, value)

    bodies = broken("cmq_topic_job_failed.json", change, body)
    case = case_on("trigger", "cmq_topic_job_failed.json", bodies, f"surrogates to {channel}")
    with Harness.open(monkeypatch, chat=robots, channels=(channel,)) as harness:
        verdict = harness.run("alert_failures", case)
    # THEN the robot accepted one message, and what it received was UTF-8 JSON
    assert_contract(verdict)
    assert len(robots.accepted(channel)) == 1
    assert all(r.body is not None for r in robots.requests(channel))


GROUP_KEYS = [
    ("cmq_topic_job_failed.json", "Batch.JobId"),
    ("cmq_topic_compute_node_abnormal.json", "Batch.EnvId"),
    ("cmq_topic_job_failed.json", "Region"),
]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("sample", "position"), GROUP_KEYS, ids=[p for _, p in GROUP_KEYS])
def test_a_one_megabyte_group_key_still_fits_each_chat_channel(
    monkeypatch, robots, channel, sample, position
):
    # GIVEN a failure whose JobId, EnvId or Region is 1 MB (the group key: title, facts and console link)
    bodies = broken(sample, on_every_event(position, "j" * (1 << 20)))
    case = case_on("queue", sample, bodies, f"1 MB {position} to {channel}")
    with Harness.open(monkeypatch, chat=robots, channels=(channel,)) as harness:
        verdict = harness.run("alert_failures", case)
    # THEN the message is clipped to the channel's limit and delivered, so the queue message is deleted
    assert_contract(verdict)
    assert len(robots.accepted(channel)) == 1
