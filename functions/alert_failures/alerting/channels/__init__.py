"""The channels: one module each, all built from AlertConfig."""

from __future__ import annotations

from .base import Channel, Request, Verdict

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from ..config import AlertConfig
    from .dingtalk import DingTalkChannel
    from .feishu import FeishuChannel
    from .slack import SlackChannel
    from .webhook import WebhookChannel
    from .wecom import WeComChannel

# Each channel's module and class, imported when a run has that channel switched on: a cold start
# with one robot configured loads one channel module, not five.
CHANNELS: dict[str, tuple[str, str]] = {
    "webhook": ("webhook", "WebhookChannel"),
    "wecom": ("wecom", "WeComChannel"),
    "dingtalk": ("dingtalk", "DingTalkChannel"),
    "feishu": ("feishu", "FeishuChannel"),
    "slack": ("slack", "SlackChannel"),
}
_CLASSES = {cls: module for module, cls in CHANNELS.values()}


def channel_class(name: str) -> type[Channel]:
    """The Channel class of a channel name (KeyError for an unknown one)."""
    from importlib import import_module

    module, cls = CHANNELS[name]
    found: type[Channel] = getattr(import_module(f".{module}", __name__), cls)
    return found


def build_channels(config: AlertConfig) -> list[Channel]:
    """The switched-on channels, in a fixed order."""
    return [channel_class(c.name)(c, config) for c in config.channels]


if not TYPE_CHECKING:  # mypy sees the imports above, and an unknown name stays an error to it

    def __getattr__(name: str) -> Any:
        if name not in _CLASSES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        return getattr(import_module(f".{_CLASSES[name]}", __name__), name)


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
    "channel_class",
]
