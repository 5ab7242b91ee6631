from __future__ import annotations

import io
import json
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared import log as log_module
from shared.log import REDACTED, JsonLogger, redact, redact_url
from shared.text import clean_text


def test_one_json_object_per_line_with_request_id():
    stream = io.StringIO()
    log = JsonLogger("fn", "req-9", stream=stream, env={})
    log.info("hello", count=2, text="中文")
    log.warning("second")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["msg"] == "hello" and first["request_id"] == "req-9" and first["count"] == 2
    assert "中文" in lines[0]


def test_secret_setting_values_never_reach_the_log():
    stream = io.StringIO()
    env = {"DINGTALK_SECRET": "SECabcdef123456", "RETRY_MAX_ATTEMPTS": "3"}
    JsonLogger("fn", stream=stream, env=env).error("failed", detail="sig SECabcdef123456 rejected")
    assert "SECabcdef123456" not in stream.getvalue()
    assert "***" in stream.getvalue()


def test_webhook_credentials_are_redacted_in_urls():
    assert redact("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123") == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"
    )
    assert redact("https://oapi.dingtalk.com/robot/send?access_token=t0k3n&timestamp=1&sign=s1g") == (
        "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"
    )
    assert redact("https://open.feishu.cn/open-apis/bot/v2/hook/0a1b-2c") == (
        "https://open.feishu.cn/open-apis/bot/v2/hook/***"
    )
    assert redact_url("https://hooks.slack.com/services/T0/B0/XyZ") == "https://hooks.slack.com/services/***"


def test_very_long_text_fields_are_clipped_and_say_so():
    stream = io.StringIO()
    JsonLogger("fn", stream=stream, env={}).info("big", reason="x" * 100_000, nested={"items": ["y" * 9000]})
    line = json.loads(stream.getvalue())
    assert line["reason"].endswith("...[91808 more characters]")
    assert len(line["reason"]) < 8300
    assert line["nested"]["items"][0].endswith("[808 more characters]")


def _redact_by_regex_only(text: str) -> str:
    """The redaction without the literal pre-checks `redact` makes before each regex."""
    text = log_module._SECRET_PARAM.sub(lambda m: m.group("k") + REDACTED, text)
    return log_module._SECRET_PATH.sub(lambda m: m.group("k") + REDACTED, text)


_URL_PIECES = st.sampled_from(
    [
        "?",
        "&",
        "=",
        "key",
        "access_token",
        "sign",
        "/services/",
        "/open-apis/bot/v2/hook/",
        "/hook/",
        "T0/B0/x",
        "abc",
        " ",
        '"',
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_URL_PIECES, st.text(max_size=4)), max_size=12).map("".join))
def test_redaction_shortcuts_never_change_the_result(text):
    # A line without "=" or a credential path is written as is, without running the regexes:
    # that shortcut must redact exactly what the regexes alone redact.
    assert redact(text) == _redact_by_regex_only(text)


def test_a_secret_set_after_earlier_invocations_is_still_scrubbed(monkeypatch):
    # GIVEN an invocation that logged before the secret existed (names are cached, values are not)
    JsonLogger("fn", stream=io.StringIO()).info("first")
    monkeypatch.setenv("FEISHU_SECRET", "rotated-secret-value")
    stream = io.StringIO()
    # WHEN a later invocation logs the secret's value
    JsonLogger("fn", stream=stream).info("signed", detail="with rotated-secret-value")
    # THEN it is scrubbed
    assert "rotated-secret-value" not in stream.getvalue()


def test_a_tag_key_setting_is_not_a_secret_but_other_keys_are():
    from shared.log import is_secret_name

    assert not is_secret_name("RETRY_TAG_KEY")
    assert is_secret_name("CMQ_SECRET_KEY") and is_secret_name("SOME_API_KEY")


def _whole_record_line(request_id: str | None, head: tuple[str, str], fields, ts: float, secrets=()) -> str:
    """The line as the logger wrote it before it joined the fields to a cached header: the header
    dict updated with the fields, encoded whole (clipped when long), scrubbed and cleaned."""
    level, message = head
    record = {"ts": ts, "level": level, "msg": message, "function": "fn"}
    if request_id:
        record["request_id"] = request_id
    record.update(fields)
    line = log_module._ENCODER.encode(record)
    if len(line) > log_module.MAX_FIELD_CHARS:
        line = log_module._ENCODER.encode(log_module.clip(record))
    return clean_text(redact(line, secrets)) + "\n"


_KEYS = st.one_of(
    st.sampled_from(["ts", "level", "msg", "function", "request_id", "kind", "event", 'a"b', "é"]),
    st.text(max_size=6),
)
_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["\ud800", "x" * 9000, "中文", 'q"uote\\', "\x00\x1f", "supersecret-value", 9876543]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.dictionaries(_KEYS, _VALUES, max_size=6),
    request_id=st.one_of(st.none(), st.just(""), st.text(max_size=8), st.just('req\ud800"x')),
    head=st.tuples(
        st.sampled_from(["INFO", "WARNING", "ERROR"]),
        st.sampled_from(["node event", "summary", 'say "hi"', "\ud800", ""]),
    ),
    lines=st.integers(1, 3),
    secrets=st.lists(
        st.sampled_from(["supersecret-value", "9876543}\n", "9876543}", '"function":"fn"', "node event"]),
        max_size=2,
    ),
)
@example(  # a secret that would end where the line ends, newline included: the newline is never its
    fields={"pin": 9876543}, request_id="r", head=("INFO", "m"), lines=1, secrets=["9876543}\n"]
)
def test_a_line_is_the_header_updated_with_its_fields_encoded_whole(fields, request_id, head, lines, secrets):
    # GIVEN a clock (a line 0.4 ms before the last one's stamp, then one 0.56 ms after it), and any
    # fields: header names, quotes, lone surrogates, fields long enough to clip
    moments = iter([1796133297.6104, 1796133297.6096, 1796133297.61056])
    stream = io.StringIO()
    env = {f"S{n}_SECRET": value for n, value in enumerate(secrets)}
    log = JsonLogger("fn", request_id, stream=stream, env=env)
    # WHEN the logger writes them a few times
    with mock.patch("time.time", lambda: next(moments)):
        for _ in range(lines):
            log.write(head[0], head[1], fields)
    # THEN each line is what encoding the whole record gives
    stamps = [1796133297.61, 1796133297.61, 1796133297.611][:lines]
    known = log_module.secret_values(env)
    assert stream.getvalue() == "".join(
        _whole_record_line(request_id, head, fields, ts, known) for ts in stamps
    )


def test_fields_that_cannot_be_encoded_still_give_the_line_that_says_so():
    stream = io.StringIO()
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    JsonLogger("fn", "r", stream=stream, env={}).write("INFO", "deep", {"value": deep})
    line = json.loads(stream.getvalue())
    assert (line["msg"], line["lost_msg"], line["error"]) == (
        "a log line could not be encoded",
        "deep",
        "RecursionError",
    )


def test_the_environment_is_scanned_again_only_when_it_changed(monkeypatch):
    # GIVEN a count of the scans
    scans: list[int] = []
    real = log_module._secret_values

    def counting(source):
        scans.append(1)
        return real(source)

    monkeypatch.setattr(log_module, "_secret_values", counting)
    monkeypatch.setenv("WECOM_WEBHOOK_URL", "https://example.invalid/send?key=first-value")
    first = log_module.secret_values()
    # WHEN nothing changes, no scan; WHEN a secret changes, is added or removed, a scan that sees it
    assert log_module.secret_values() == first and len(scans) == 1
    monkeypatch.setenv("WECOM_WEBHOOK_URL", "https://example.invalid/send?key=second-value")
    assert "https://example.invalid/send?key=second-value" in log_module.secret_values()
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "brand-new-secret")
    assert "brand-new-secret" in log_module.secret_values()
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    assert "brand-new-secret" not in log_module.secret_values()
    assert len(scans) == 4
    # AND a caller changing the list it got changes nothing for the next
    log_module.secret_values().clear()
    assert log_module.secret_values()


@settings(max_examples=2000, deadline=None)
@given(
    moment=st.floats(min_value=0, max_value=1e11, allow_nan=False),
    offset=st.floats(min_value=-0.0004, max_value=0.0004, allow_nan=False),
)
def test_a_moment_within_0_4_ms_of_a_stamp_rounds_to_that_stamp(moment, offset):
    # What lets the logger reuse the last line's timestamp instead of calling round() (times up to
    # the year 5138)
    stamp = round(moment, 3)
    now = stamp + offset
    if -0.0004 <= now - stamp <= 0.0004:
        assert round(now, 3) == stamp
