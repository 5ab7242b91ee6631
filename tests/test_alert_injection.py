"""Event text can never mention anyone or change a message's layout, in any channel."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.chat import channel_env, fake_chat, invoke
from tests.helpers import load_event

SAMPLE = "cmq_topic_alert_injection.json"
# Mentions a robot would act on, in any of the four chat dialects.
MENTION = re.compile(r"<@|<!|<at[\s>]|@all|isAtAll\s*[:=]\s*true", re.IGNORECASE)
# Markup characters a value must not carry into a markdown message.
MARKDOWN_CHARS = set("<>[]*`~|@&\\")
OWN_MARKDOWN = re.compile(
    "|".join(
        [
            r"\*\*[A-Za-z_ ]+\*\*",
            r"\*\*(A compute node|Interrupted)[^*]*\*\*",
            r"\*\*\[(FAILED|INTERRUPTED|ABNORMAL)\] ",
            r"\*\*$",
            r"^\*\*",
            r"\[Open in the Batch console\]\([^)]*\)",
            r"<font color=(\"warning\"|'red')>",
            r"</font>",
        ]
    )
)
MARKDOWN_LINE_STARTS = (
    "**[",
    "<font",
    "**A compute node",
    "**Interrupted",
    "**Region**",
    "**Job**",
    "**Environment**",
    "**When**",
    "**Events**",
    "- **",
    "[Open",
)


@pytest.fixture
def robots(monkeypatch):
    for key, value in channel_env().items():
        monkeypatch.setenv(key, value)
    with fake_chat() as backend:
        yield backend


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_markdown(text: str, separator: str = "\n") -> None:
    lines = text.split(separator)
    for line in lines:
        assert line.startswith(MARKDOWN_LINE_STARTS), line[:80]
        leftover = OWN_MARKDOWN.sub("", line)
        assert not (set(leftover) & MARKDOWN_CHARS), leftover[:200]


def test_injection_sample_reaches_every_channel(robots):
    # GIVEN injection strings in every field (names, ids, reason, event vars, job id, region)
    # WHEN the sample is alerted to all five channels
    summary = invoke(load_event(SAMPLE))
    # THEN every robot accepted every group: escaping never produced a body a robot refuses
    assert summary["groups"] == 3 and summary["failed"] == 0
    for name in ("webhook", "wecom", "dingtalk", "feishu", "slack"):
        assert len(robots.accepted(name)) == 3


def test_wecom_markdown_carries_no_mention_no_markup_and_keeps_its_lines(robots):
    invoke(load_event(SAMPLE))
    for message in robots.accepted("wecom"):
        content = message.body["markdown"]["content"]
        assert not MENTION.search(content)
        _check_markdown(content)


def test_dingtalk_markdown_mentions_nobody_and_keeps_its_paragraphs(robots):
    invoke(load_event(SAMPLE))
    for message in robots.accepted("dingtalk"):
        assert message.body["at"] == {"atMobiles": [], "atUserIds": [], "isAtAll": False}
        text = message.body["markdown"]["text"]
        assert not MENTION.search(text) and "@1380" not in text
        _check_markdown(text, "\n\n")
        assert not set(message.body["markdown"]["title"]) & set("<>*`@&\n")


def test_feishu_card_and_post_carry_no_at_tag(monkeypatch, robots):
    invoke(load_event(SAMPLE))
    monkeypatch.setenv("FEISHU_MSG_TYPE", "post")
    invoke(load_event(SAMPLE))
    card, post = robots.accepted("feishu")[0], robots.accepted("feishu")[3]
    _check_markdown(card.body["card"]["elements"][0]["text"]["content"])
    assert "<" not in card.body["card"]["header"]["title"]["content"]
    rows = post.body["content"]["post"]["zh_cn"]["content"]
    assert all(element["tag"] in ("text", "a") for row in rows for element in row)
    for text in _strings(post.body):
        assert not MENTION.search(text)
        assert "<" not in text and "\n" not in text


def test_slack_text_is_entity_escaped_and_pings_nobody(robots):
    invoke(load_event(SAMPLE))
    for message in robots.accepted("slack"):
        header, section = message.body["blocks"]
        assert not set(header["text"]["text"]) & set("<>&@*\n")
        text = section["text"]["text"]
        assert not MENTION.search(text)
        without_link = re.sub(r"<https?://[^|>\s]+\|Open in the Batch console>$", "", text)
        assert "<" not in without_link and ">" not in without_link
        assert not re.search(r"&(?!amp;|lt;|gt;)", without_link)
        for line in text.split("\n"):
            assert line.startswith(
                (":warning: *", "*Region*", "*Job*", "*Environment*", "*When*", "*Events*", "• *", "<http")
            )
        assert not MENTION.search(message.body["text"])


def test_webhook_keeps_the_event_values_exactly(robots):
    # GIVEN JSON needs no markup escaping WHEN the sample is alerted THEN the values arrive unchanged
    invoke(load_event(SAMPLE))
    alerts = [a for m in robots.accepted("webhook") for a in m.body["alerts"]]
    task = next(a for a in alerts if a["labels"]["alertname"] == "TASK_INSTANCE_FAILED")
    assert task["labels"]["task_name"].startswith("task-name <@all> <!channel>")
    assert "\n# 标题\n> 引用" in task["labels"]["task_name"]
    job = next(a for a in alerts if a["labels"]["alertname"] == "JOB_FAILED")
    assert job["labels"]["job_id"].startswith("job-x) <@all>")
    # an id (and region) far longer than any Batch id gets the console's list page, not a 900-char link
    assert job["generatorURL"] == "https://console.cloud.tencent.com/batch/job"


def test_configured_mentions_are_the_only_mentions(monkeypatch):
    # GIVEN mentions configured per channel, and the injection sample
    for key, value in channel_env("wecom", "dingtalk", "feishu", "slack").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WECOM_MENTIONS", "zhangsan")
    monkeypatch.setenv("DINGTALK_MENTIONS", "13900000000,all")
    monkeypatch.setenv("FEISHU_MENTIONS", "ou_abc123")
    monkeypatch.setenv("SLACK_MENTIONS", "U024OPS99,all")
    with fake_chat() as robots:
        # WHEN it is alerted
        invoke(load_event(SAMPLE))
    # THEN each message mentions exactly the configured people, once
    for message in robots.accepted("wecom"):
        assert re.findall(r"<@[^>]*>", message.body["markdown"]["content"]) == ["<@zhangsan>"]
    for message in robots.accepted("dingtalk"):
        assert message.body["at"] == {"atMobiles": ["13900000000"], "atUserIds": [], "isAtAll": True}
        assert message.body["markdown"]["text"].endswith("\n\n@13900000000")
    for message in robots.accepted("feishu"):
        assert re.findall(r"<at [^>]*>", message.body["card"]["elements"][0]["text"]["content"]) == [
            "<at id=ou_abc123>"
        ]
    for message in robots.accepted("slack"):
        assert re.findall(r"<[!@][^>]*>", message.body["blocks"][1]["text"]["text"]) == [
            "<!channel>",
            "<@U024OPS99>",
        ]


@given(st.text())
def test_markdown_escape_leaves_no_markup_and_no_line_break(text):
    from alerting import escape

    out = escape.markdown(text)
    assert not set(out) & MARKDOWN_CHARS
    assert not re.search(r"[\n\r\u2028\u2029\x00-\x1f\u202a-\u202e]", out)


@given(st.text())
def test_slack_escape_leaves_only_entities(text):
    from alerting import escape

    out = escape.slack(text)
    assert "<" not in out and ">" not in out and "@" not in out and "*" not in out
    assert not re.search(r"&(?!amp;|lt;|gt;)", out)
    assert "\n" not in out
