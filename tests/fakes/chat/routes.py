"""The fake robots (localcloud.chat) mounted on the session's loopback server, and their settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

from localcloud.chat import chat_routes, dingtalk, feishu, robot_env, slack, webhook, wecom
from localcloud.chat.routes import Answer

from .backend import SERVER, ChatBackend

__all__ = [
    "Answer",
    "channel_env",
    "chat_routes",
    "dingtalk",
    "fake_chat",
    "feishu",
    "slack",
    "switch_on",
    "webhook",
    "wecom",
]


@contextmanager
def fake_chat(backend: Optional[ChatBackend] = None) -> Iterator[ChatBackend]:
    """Every robot and the webhook receiver answering at their URLs on loopback, for the block."""
    state = backend or ChatBackend()
    with SERVER.mount(chat_routes(state)):
        yield state


def channel_env(*channels: str) -> dict[str, str]:
    """The settings that point the named channels (default: all five) at the fakes, with secrets."""
    return robot_env(SERVER.base_url, *channels)


def switch_on(monkeypatch: Any, *channels: str, **settings: str) -> None:
    """Point the named channels at the fakes (and set any other settings) for one test."""
    for key, value in {**channel_env(*channels), **settings}.items():
        monkeypatch.setenv(key, value)
