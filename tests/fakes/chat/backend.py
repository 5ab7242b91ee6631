"""The chat robots' state (localcloud.chat), and their constant URLs on the session's loopback server."""

from __future__ import annotations

from localcloud.chat import (
    CHANNELS,
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    FEISHU_SECRET,
    FEISHU_TOKEN,
    PATHS,
    SECRETS,
    SLACK_PATH,
    WEBHOOK_TOKEN,
    WECOM_KEY,
    ChatBackend,
    Received,
    channel_of,
    dingtalk_expected_sign,
    feishu_expected_sign,
    robot_urls,
)
from tests.fakes.loopback import session_server

__all__ = [
    "CHANNELS",
    "DINGTALK_SECRET",
    "DINGTALK_TOKEN",
    "DINGTALK_URL",
    "FEISHU_SECRET",
    "FEISHU_TOKEN",
    "FEISHU_URL",
    "PATHS",
    "SECRETS",
    "SERVER",
    "SLACK_PATH",
    "SLACK_URL",
    "WEBHOOK_TOKEN",
    "WEBHOOK_URL",
    "WECOM_KEY",
    "WECOM_URL",
    "ChatBackend",
    "Received",
    "channel_of",
    "dingtalk_expected_sign",
    "feishu_expected_sign",
]

# Every robot answers on one loopback server for the whole session (the real paths and queries, plain
# http), so that the URLs are constants and any HTTP client reaches the fakes.
SERVER = session_server("chat")
_URLS = robot_urls(SERVER.base_url)
WECOM_URL = _URLS["wecom"]
DINGTALK_URL = _URLS["dingtalk"]
FEISHU_URL = _URLS["feishu"]
SLACK_URL = _URLS["slack"]
# http:// as every loopback URL: private relays and local receivers must work.
WEBHOOK_URL = _URLS["webhook"]
