"""The channels: one module each, all built from AlertConfig."""

from __future__ import annotations

from ..config import AlertConfig
from .base import Channel, Request, Verdict
from .dingtalk import DingTalkChannel
from .feishu import FeishuChannel
from .slack import SlackChannel
from .webhook import WebhookChannel
from .wecom import WeComChannel

CHANNELS: dict[str, type[Channel]] = {
    "webhook": WebhookChannel,
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "feishu": FeishuChannel,
    "slack": SlackChannel,
}


def build_channels(config: AlertConfig) -> list[Channel]:
    """The switched-on channels, in a fixed order."""
    return [CHANNELS[c.name](c, config) for c in config.channels]


__all__ = [
    "CHANNELS",
    "Channel",
    "DingTalkChannel",
    "FeishuChannel",
    "Request",
    "SlackChannel",
    "Verdict",
    "WeComChannel",
    "WebhookChannel",
    "build_channels",
]
