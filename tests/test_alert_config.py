"""The settings of alert_failures: defaults, checks with clear messages, secrets never repeated."""

from __future__ import annotations

import pytest
from alerting import load_config

from shared.catalogue import FAILURE_EVENTS, EventName
from shared.errors import ConfigError


def test_defaults_alert_the_eight_failure_events_with_no_channel():
    config = load_config({})
    assert config.events == FAILURE_EVENTS and len(config.events) == 8
    assert config.channels == () and config.enrich is False
    assert config.console_url == "https://console.cloud.tencent.com/batch"


def test_unknown_event_name_is_named_and_the_valid_ones_listed():
    with pytest.raises(ConfigError) as raised:
        load_config({"ALERT_EVENTS": "JOB_FAILED,JOB_EXPLODED"})
    message = str(raised.value)
    assert message.startswith("ALERT_EVENTS:") and "'JOB_EXPLODED'" in message
    assert all(name.value in message for name in EventName)


def test_alert_events_accepts_names_and_groups():
    config = load_config({"ALERT_EVENTS": "interrupted, COMPUTE_NODE_ABNORMAL"})
    assert (
        EventName.JOB_FAILED_INTERRUPTED in config.events and EventName.COMPUTE_NODE_ABNORMAL in config.events
    )
    assert EventName.JOB_FAILED not in config.events


def test_channels_are_switched_on_by_their_url_settings_in_a_fixed_order():
    config = load_config(
        {
            "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
            "ALERT_WEBHOOK_URL": "http://127.0.0.1:9093/hook",
            "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "DINGTALK_SECRET": "SECabc",
        }
    )
    assert [c.name for c in config.channels] == ["webhook", "dingtalk", "slack"]
    assert config.channel("dingtalk").secret == "SECabc"  # type: ignore[union-attr]


def test_a_bad_webhook_url_is_refused_without_repeating_it():
    secret_url = "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=very-secret-key"
    with pytest.raises(ConfigError) as raised:
        load_config({"WECOM_WEBHOOK_URL": secret_url})
    assert "WECOM_WEBHOOK_URL" in str(raised.value) and "very-secret-key" not in str(raised.value)


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("ALERT_MAX_ITEMS", "0", "below the minimum"),
        ("ALERT_HTTP_TIMEOUT_S", "120", "outside"),
        ("ALERT_TIME_MARGIN_S", "-1", "below the minimum"),
        ("FEISHU_MSG_TYPE", "text", "not one of"),
        ("ALERT_ENRICH", "maybe", "yes/no"),
        ("ALERT_CONSOLE_URL", "console.example.com", "not an http"),
    ],
)
def test_bad_values_name_the_setting(setting, value, words):
    with pytest.raises(ConfigError, match=setting) as raised:
        load_config({setting: value})
    assert words in str(raised.value)


URLS = {
    "WECOM_WEBHOOK_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
    "FEISHU_WEBHOOK_URL": "https://open.feishu.cn/open-apis/bot/v2/hook/t",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
}


def test_mentions_come_per_channel_or_from_alert_mentions():
    config = load_config(
        {
            **URLS,
            "ALERT_MENTIONS": "ou_lead",
            "DINGTALK_MENTIONS": "13800000000,all,manager01",
            "SLACK_MENTIONS": "U024OPS99",
        }
    )
    mentions = {c.name: c.mentions for c in config.channels}
    assert mentions["wecom"].user_ids == ("ou_lead",) and mentions["feishu"].user_ids == ("ou_lead",)
    dingtalk = mentions["dingtalk"]
    assert (dingtalk.everyone, dingtalk.mobiles, dingtalk.user_ids) == (
        True,
        ("13800000000",),
        ("manager01",),
    )
    assert mentions["slack"].user_ids == ("U024OPS99",)


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("ALERT_MENTIONS", "all", "wecom messages cannot mention all"),
        ("FEISHU_MENTIONS", "<at user_id=all>", "is not 'all'"),
        ("SLACK_MENTIONS", "ops-team", "is not 'all'"),
        ("WECOM_MENTIONS", "zhang san", "is not 'all'"),
    ],
)
def test_mentions_a_channel_cannot_make_are_configuration_errors(setting, value, words):
    with pytest.raises(ConfigError, match=setting) as raised:
        load_config({**URLS, setting: value})
    assert words in str(raised.value)
