"""Sanitised once at the boundary: surrogates, nesting, times at datetime's edges, unprintable values."""

from __future__ import annotations

import io
import json
from datetime import timezone

import pytest

from shared.envelope import MAX_DEPTH, parse_message, parse_time, parse_trigger_event
from shared.log import JsonLogger, scrubbed
from shared.models import SourceRecord
from shared.push import read_push
from tests.helpers import load_event

SOURCE = SourceRecord(msg_id="m-1")


def _message(**batch: object) -> dict:
    return {"Events": [{"EventName": "JOB_FAILED", "EventTime": "2026-11-20T08:35:00Z", "Batch": batch}]}


def _sample_body() -> str:
    body: str = load_event("cmq_topic_job_failed.json")["Records"][0]["CMQ"]["msgBody"]
    return body


def test_a_json_surrogate_escape_in_any_text_becomes_the_replacement_character():
    # GIVEN a message whose job name, reason, var and event name carry `\ud800` escapes
    text = json.dumps(_message(JobName="a\ud800b", StateReason="\udfff"), ensure_ascii=True)
    text = text.replace("JOB_FAILED", "JOB_FAILED\\udc00")
    # WHEN parsed
    [event], rejections = parse_message(text, SOURCE)
    # THEN no lone surrogate is left anywhere, and the event is kept
    assert rejections == []
    assert (event.job_name, event.state_reason, event.name_raw) == ("a\ufffdb", "\ufffd", "JOB_FAILED\ufffd")
    json.dumps(event.raw, ensure_ascii=False).encode("utf-8")
    assert len(event.fingerprint) == 32


def test_a_dict_body_with_real_surrogates_in_keys_and_values_is_cleaned():
    body = _message(JobId="job-\ud83d")
    body["Events"][0]["EventVars"] = [{"Name": "own\udcffer", "Value": "x"}]
    [event], _ = parse_message(body, SOURCE)
    assert event.job_id == "job-\ufffd" and event.vars == {"own\ufffder": "x"}


def test_surrogates_in_the_trigger_records_wrapper_are_cleaned():
    event = load_event("cmq_topic_job_failed.json")
    event["Records"][0]["CMQ"]["msgId"] = "id-\ud800"
    event["Records"][0]["CMQ"]["msgTag"] = ["t\udfff"]
    parsed = parse_trigger_event(event)
    assert parsed.sources[0].msg_id == "id-\ufffd" and parsed.sources[0].tags == ("t\ufffd",)


@pytest.mark.parametrize("depth", [MAX_DEPTH - 2, MAX_DEPTH + 1, 500, 990])
def test_nesting_beyond_the_limit_is_a_rejection_with_a_reason_and_within_it_parses(depth):
    # GIVEN an event var nested `depth` levels inside the message (3 levels are the envelope's own)
    inner = "[" * depth + "]" * depth
    text = '{"Events":[{"EventName":"JOB_FAILED","EventVars":{"deep":' + inner + "}}]}"
    events, rejections = parse_message(text, SOURCE)
    if depth + 3 <= MAX_DEPTH:
        assert len(events) == 1 and rejections == []
    else:
        assert events == [] and [r.reason for r in rejections] == [
            f"msgBody nests deeper than {MAX_DEPTH} levels"
        ]


def test_nesting_past_the_json_parsers_own_limit_is_a_rejection_too():
    text = '{"Events":[' + "[" * 100_000 + "]" * 100_000 + "]}"
    events, rejections = parse_message(text, SOURCE)
    assert events == [] and len(rejections) == 1


def test_a_dict_body_nested_too_deep_is_a_rejection():
    value: list = []
    for _ in range(200):
        value = [value]
    events, rejections = parse_message(_message(Deep=value), SOURCE)
    assert events == [] and "deeper than" in rejections[0].reason


def test_an_unprintable_integer_in_a_dict_body_is_a_rejection():
    events, rejections = parse_message(_message(ExitCode=10**5000), SOURCE)
    assert events == [] and rejections[0].reason == "msgBody holds a number too large to print"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-11-20T16:35:00+08:00", "2026-11-20T08:35:00+00:00"),
        ("2026-11-20T08:35:00Z", "2026-11-20T08:35:00+00:00"),
        ("2026-11-20 08:35:00", "2026-11-20T08:35:00+00:00"),
        ("0001-01-01T00:30:00+01:00", None),
        ("9999-12-31T23:30:00-01:00", None),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"),
    ],
)
def test_times_are_in_utc_or_none_when_utc_cannot_hold_them(text, iso):
    parsed = parse_time(text)
    assert (parsed.isoformat() if parsed else None) == iso
    assert parsed is None or parsed.tzinfo is timezone.utc


def test_an_event_whose_time_cannot_be_in_utc_is_kept_with_a_null_time_and_a_problem():
    message = _message(JobId="job-1", ResourceCreatedTime="9999-12-31T23:30:00-01:00")
    message["Events"][0]["EventTime"] = "0001-01-01T00:30:00+01:00"
    [event], rejections = parse_message(message, SOURCE)
    assert rejections == [] and event.time is None and event.resource_created_time is None
    assert event.raw["EventTime"] == "0001-01-01T00:30:00+01:00"
    assert len(event.problems) == 2 and "EventTime" in event.problems[0]


def test_the_summary_counts_and_the_log_names_events_kept_with_a_null_time(capsys):
    from shared.concern import parse_only, process
    from shared.invocation import Invocation

    message = _message(JobId="job-1")
    message["Events"][0]["EventTime"] = "0001-01-01T00:30:00+01:00"
    parsed = parse_trigger_event(message)
    summary, _ = process(parsed, Invocation(), JsonLogger("t"), parse_only)
    assert summary["bad_times"] == 1
    assert any(
        json.loads(x)["msg"] == "event kept with a null time" for x in capsys.readouterr().out.splitlines()
    )


def test_the_log_writer_never_raises_and_writes_only_utf_8_json():
    stream = io.StringIO()
    log = JsonLogger("t", stream=stream, env={})
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    log.info("surrogate \ud800 here", field="x\udfff")
    log.info("too deep", value=deep)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    for line in lines:
        line.encode("utf-8")
        json.loads(line)
    assert json.loads(lines[0])["field"] == "x\ufffd"
    assert json.loads(lines[1])["msg"] == "a log line could not be encoded"


def test_a_1000_deep_authenticated_push_body_is_read_without_raising():
    body = "[" * 1000 + "]" * 1000
    source, message, fmt = read_push(
        {"httpMethod": "POST", "body": body, "headers": {"x-cmq-message-id": "p\ud800"}}
    )
    assert (source.msg_id, fmt) == ("p\ufffd", "SIMPLIFIED")
    assert parse_message(message, source)[1]


def test_return_values_never_carry_a_secret_or_a_surrogate(monkeypatch):
    monkeypatch.setenv("CMQ_SECRET_ID", "AKIDsecretvalue0001")
    value = {"receive_error": "SecretId AKIDsecretvalue0001 refused", "k\ud800": ["x\udfff"]}
    assert scrubbed(value) == {"receive_error": "SecretId *** refused", "k\ufffd": ["x\ufffd"]}


def test_the_common_message_skips_the_walk_and_is_returned_as_parsed():
    # GIVEN a sample (few brackets, no surrogate escape) WHEN parsed THEN values are the parser's own
    [event], _ = parse_message(_sample_body(), SOURCE)
    assert event.raw is not None and event.job_id == "job-5ik2gmv8"


def test_a_huge_number_in_json_text_is_refused_even_where_the_parser_would_take_it(monkeypatch):
    # GIVEN a runtime whose JSON parser accepts any number of digits (CPython before 3.9.14 / 3.10.7)
    text = '{"Events":[{"EventName":"JOB_FAILED","Batch":{"ExitCode":' + "9" * 4500 + "}}]}"
    from shared import envelope

    real = envelope._DECODER.raw_decode

    def lenient(s):  # what the parser of such a runtime returns: the int itself
        if "9" * 4500 in s:
            return {"Events": [{"EventName": "JOB_FAILED", "Batch": {"ExitCode": 10**4499}}]}, len(s)
        return real(s)

    monkeypatch.setattr(envelope._DECODER, "raw_decode", lenient)
    events, rejections = parse_message(text, SOURCE)
    assert events == [] and rejections[0].reason == "msgBody holds a number too large to print"
