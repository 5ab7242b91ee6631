from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import log as log_module
from shared.log import REDACTED, JsonLogger, redact, redact_url


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
