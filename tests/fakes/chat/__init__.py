"""Fakes of the chat robots (WeCom, DingTalk, Feishu, Slack) and an Alertmanager webhook receiver.

They answer on a real HTTP server on 127.0.0.1 (one for the session) inside `fake_chat()`.
"""

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
    channel_of,
    dingtalk_expected_sign,
    feishu_expected_sign,
)
from .harness import FakeTime, invoke
from .routes import channel_env, chat_routes, fake_chat, switch_on

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
    "channel_of",
    "chat_routes",
    "dingtalk_expected_sign",
    "fake_chat",
    "feishu_expected_sign",
    "invoke",
    "switch_on",
]
