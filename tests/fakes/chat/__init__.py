"""Fakes of the chat robots (WeCom, DingTalk, Feishu, Slack) and an Alertmanager webhook receiver."""

from .backend import (
    CHANNELS,
    DINGTALK_SECRET,
    DINGTALK_URL,
    FEISHU_SECRET,
    FEISHU_URL,
    SECRETS,
    SLACK_URL,
    WEBHOOK_URL,
    WECOM_URL,
    ChatBackend,
    Received,
    dingtalk_expected_sign,
    feishu_expected_sign,
)
from .harness import FakeTime, invoke
from .routes import channel_env, fake_chat, register_chat, switch_on

__all__ = [
    "CHANNELS",
    "DINGTALK_SECRET",
    "DINGTALK_URL",
    "FEISHU_SECRET",
    "FEISHU_URL",
    "SECRETS",
    "SLACK_URL",
    "WEBHOOK_URL",
    "WECOM_URL",
    "ChatBackend",
    "FakeTime",
    "Received",
    "channel_env",
    "dingtalk_expected_sign",
    "fake_chat",
    "feishu_expected_sign",
    "invoke",
    "register_chat",
    "switch_on",
]
