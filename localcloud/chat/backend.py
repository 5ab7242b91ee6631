"""The chat robots' state: what each received, and scripted answers a test switches on.

Each robot checks a request the way the real one is documented to: the key or token in the URL, the
signature (recomputed here from the secret, independently of the code under test), the size limit.
The robots answer at their real paths and queries, over plain http, under any base URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import urlparse

WECOM_KEY = "wecom-key-0f1e2d3c4b5a"
DINGTALK_TOKEN = "dingtalk-token-9a8b7c6d5e4f"  # noqa: S105
DINGTALK_SECRET = "SECdingtalk-secret-1234567890"  # noqa: S105 - the fake robot's own secret
FEISHU_TOKEN = "feishu-token-aaaabbbbccccdddd"  # noqa: S105
FEISHU_SECRET = "feishu-secret-0987654321"  # noqa: S105
SLACK_PATH = "T0000SLACK/B0000SLACK/slacksecretXXXXXXXXXXXX"
WEBHOOK_TOKEN = "relay-token-55555"  # noqa: S105

PATHS = {
    "webhook": "/batch",
    "wecom": "/cgi-bin/webhook/send",
    "dingtalk": "/robot/send",
    "feishu": f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}",
    "slack": f"/services/{SLACK_PATH}",
}
CHANNELS = ("webhook", "wecom", "dingtalk", "feishu", "slack")
SECRETS = (
    WECOM_KEY,
    DINGTALK_TOKEN,
    DINGTALK_SECRET,
    FEISHU_TOKEN,
    FEISHU_SECRET,
    SLACK_PATH,
    WEBHOOK_TOKEN,
)
# The setting each channel's URL goes in, and its signing secret's, when it has one.
URL_SETTINGS = {
    "webhook": "ALERT_WEBHOOK_URL",
    "wecom": "WECOM_WEBHOOK_URL",
    "dingtalk": "DINGTALK_WEBHOOK_URL",
    "feishu": "FEISHU_WEBHOOK_URL",
    "slack": "SLACK_WEBHOOK_URL",
}
SECRET_SETTINGS = {
    "dingtalk": ("DINGTALK_SECRET", DINGTALK_SECRET),
    "feishu": ("FEISHU_SECRET", FEISHU_SECRET),
}


def robot_urls(base_url: str) -> dict[str, str]:
    """Each channel's webhook URL under `base_url` (http://127.0.0.1:PORT)."""
    base = base_url.rstrip("/")
    return {
        "webhook": f"{base}{PATHS['webhook']}?token={WEBHOOK_TOKEN}",
        "wecom": f"{base}{PATHS['wecom']}?key={WECOM_KEY}",
        "dingtalk": f"{base}{PATHS['dingtalk']}?access_token={DINGTALK_TOKEN}",
        "feishu": f"{base}{PATHS['feishu']}",
        "slack": f"{base}{PATHS['slack']}",
    }


def robot_env(base_url: str, *channels: str) -> dict[str, str]:
    """The settings that point the named channels (default: all five) at the robots, with secrets."""
    urls = robot_urls(base_url)
    env: dict[str, str] = {}
    for name in channels or CHANNELS:
        env[URL_SETTINGS[name]] = urls[name]
        if name in SECRET_SETTINGS:
            setting, secret = SECRET_SETTINGS[name]
            env[setting] = secret
    return env


def channel_of(url: str) -> str:
    """The channel whose fake a URL points at (by its path), or "" for none."""
    path = urlparse(url).path
    return next((name for name, known in PATHS.items() if known == path), "")


def dingtalk_expected_sign(secret: str, timestamp_ms: str) -> str:
    """DingTalk's documented signature: base64(HMAC-SHA256(secret, f"{ts}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_expected_sign(secret: str, timestamp_s: str) -> str:
    """Feishu's documented signature: base64(HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Received:
    """One request a robot received, and how it answered."""

    channel: str
    url: str
    query: dict[str, str]
    body: Any
    raw: bytes
    headers: dict[str, str]
    accepted: bool = False
    status: int = 0
    answer: str = ""
    at: float = field(default_factory=time.time)


@dataclass
class ChatBackend:
    """Every robot's inbox and script."""

    dingtalk_secret: Optional[str] = DINGTALK_SECRET
    feishu_secret: Optional[str] = FEISHU_SECRET
    dingtalk_keyword: str = ""
    clock: Callable[[], float] = time.time
    received: list[Received] = field(default_factory=list)
    _script: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    retry_after: str = "2"
    # A scripted timeout holds the answer this long at most: longer than any client waits (5 s by
    # default), and the hold ends as soon as the client gives up and closes the connection.
    hang_s: float = 10.0

    def script(self, channel: str, *answers: str) -> None:
        """Answer `channel`'s next requests with: rate_limited, refused, server_error, timeout (no answer
        until the client gives up) or reset (the connection reset, no answer)."""
        self._script[channel].extend(answers)

    def next_fault(self, channel: str) -> Optional[str]:
        """The next scripted answer, if any."""
        queue = self._script[channel]
        return queue.popleft() if queue else None

    def requests(self, channel: str) -> list[Received]:
        """Every request `channel` received, accepted or not."""
        return [r for r in self.received if r.channel == channel]

    def accepted(self, channel: str) -> list[Received]:
        """The messages `channel` accepted (what its group would see)."""
        return [r for r in self.received if r.channel == channel and r.accepted]

    def parse_body(self, raw: bytes) -> Any:
        """The JSON body, or None."""
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
