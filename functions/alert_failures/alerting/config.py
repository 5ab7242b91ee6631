"""The settings of alert_failures, read once per invocation from the environment."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from shared.catalogue import FAILURE_EVENTS, EventName
from shared.errors import ConfigError
from shared.record import NamedTuple
from shared.settings import env_bool, env_choice, env_events, env_float, env_int, env_list, env_str

from .mentions import Mentions, parse_mentions

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Mapping, Optional

if TYPE_CHECKING:
    from .silences import Silence

DEFAULT_CONSOLE_URL = "https://console.cloud.tencent.com/batch"
DEFAULT_RECEIVER = "batch-events"
DEFAULT_DIGEST_AFTER = 5
DEFAULT_TAG_KEY = "batch-events-retry"  # retry_interrupted's ledger tag (RETRY_TAG_KEY)
# Markdown links and Slack's <url|text> end at these: a configured URL must not contain them.
_URL_BREAKERS = re.compile(r"[\s<>()|\"'`\[\]]")


class ChannelConfig(NamedTuple):
    """One switched-on channel: where it posts, how it signs and whom it mentions."""

    name: str
    url: str
    secret: str = ""
    mentions: Mentions = Mentions()  # immutable: one shared empty instance is every channel's default


class AlertConfig(NamedTuple):
    """Everything the function's behaviour depends on."""

    events: frozenset[EventName] = FAILURE_EVENTS
    channels: tuple[ChannelConfig, ...] = ()
    dry_run: bool = False
    max_items: int = 5
    console_url: str = DEFAULT_CONSOLE_URL
    receiver: str = DEFAULT_RECEIVER
    feishu_format: str = "card"
    enrich: bool = False
    batch_endpoint: str = ""
    timeout_s: float = 5.0
    margin_s: float = 2.0
    max_attempts: int = 5
    digest_after: int = DEFAULT_DIGEST_AFTER
    silences: tuple[Silence, ...] = ()
    recovery: bool = False
    retry_tag_key: str = DEFAULT_TAG_KEY

    def channel(self, name: str) -> Optional[ChannelConfig]:
        """The configured channel of that name, if switched on."""
        return next((c for c in self.channels if c.name == name), None)


def check_url(setting: str, value: str, *, secret: bool) -> str:
    """An http(s) URL with a host; the error never repeats a secret URL."""
    parsed = urlparse(value)
    shown = "its value" if secret else repr(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{setting}: {shown} is not an http:// or https:// URL with a host")
    if _URL_BREAKERS.search(value):
        raise ConfigError(f"{setting}: {shown} contains spaces, quotes, brackets or < > |")
    return value


def _channels(env: Optional[Mapping[str, str]]) -> tuple[ChannelConfig, ...]:
    # Every setting is read by its literal name, so that a search (and the deploy check) finds it.
    fallback = ("ALERT_MENTIONS", env_list("ALERT_MENTIONS", env))
    own = {
        "wecom": ("WECOM_MENTIONS", env_list("WECOM_MENTIONS", env)),
        "dingtalk": ("DINGTALK_MENTIONS", env_list("DINGTALK_MENTIONS", env)),
        "feishu": ("FEISHU_MENTIONS", env_list("FEISHU_MENTIONS", env)),
        "slack": ("SLACK_MENTIONS", env_list("SLACK_MENTIONS", env)),
    }
    found = (
        ("webhook", "ALERT_WEBHOOK_URL", env_str("ALERT_WEBHOOK_URL", "", env), ""),
        ("wecom", "WECOM_WEBHOOK_URL", env_str("WECOM_WEBHOOK_URL", "", env), ""),
        (
            "dingtalk",
            "DINGTALK_WEBHOOK_URL",
            env_str("DINGTALK_WEBHOOK_URL", "", env),
            env_str("DINGTALK_SECRET", "", env),
        ),
        (
            "feishu",
            "FEISHU_WEBHOOK_URL",
            env_str("FEISHU_WEBHOOK_URL", "", env),
            env_str("FEISHU_SECRET", "", env),
        ),
        ("slack", "SLACK_WEBHOOK_URL", env_str("SLACK_WEBHOOK_URL", "", env), ""),
    )
    out = []
    for name, setting, url, secret in found:
        if not url:
            continue
        mentions = Mentions()
        if name in own:
            setting_name, items = own[name] if own[name][1] else fallback
            mentions = parse_mentions(name, setting_name, items)
        out.append(ChannelConfig(name, check_url(setting, url, secret=True), secret, mentions))
    return tuple(out)


def _silences(text: str) -> tuple[Silence, ...]:
    """ALERT_SILENCES' rules; the parser is imported only when there are some."""
    if not text.strip():
        return ()
    from .silences import parse_silences

    return parse_silences(text)


def load_config(env: Optional[Mapping[str, str]] = None) -> AlertConfig:
    """Read and check every setting; ConfigError names the bad one."""
    timeout_s = env_float("ALERT_HTTP_TIMEOUT_S", 5.0, env)
    if not 0.5 <= timeout_s <= 60:
        raise ConfigError(f"ALERT_HTTP_TIMEOUT_S={timeout_s} is outside 0.5-60")
    margin_s = env_float("ALERT_TIME_MARGIN_S", 2.0, env)
    if margin_s < 0:
        raise ConfigError(f"ALERT_TIME_MARGIN_S={margin_s} is below the minimum 0")
    console = env_str("ALERT_CONSOLE_URL", DEFAULT_CONSOLE_URL, env).rstrip("/")
    recovery = env_bool("ALERT_RECOVERY", False, env)
    events = env_events("ALERT_EVENTS", FAILURE_EVENTS, env)
    return AlertConfig(
        # A recovery notice answers a JOB_SUCCEED event: reading them is what the setting turns on.
        events=(events | {EventName.JOB_SUCCEED}) if recovery else events,
        channels=_channels(env),
        dry_run=env_bool("ALERT_DRY_RUN", False, env),
        max_items=env_int("ALERT_MAX_ITEMS", 5, env, minimum=1, maximum=50),
        console_url=check_url("ALERT_CONSOLE_URL", console, secret=False),
        receiver=env_str("ALERT_RECEIVER", DEFAULT_RECEIVER, env),
        feishu_format=env_choice("FEISHU_MSG_TYPE", ("card", "post"), "card", env),
        enrich=env_bool("ALERT_ENRICH", False, env),
        batch_endpoint=env_str("BATCH_ENDPOINT", "", env),
        timeout_s=timeout_s,
        margin_s=margin_s,
        max_attempts=env_int("ALERT_MAX_ATTEMPTS", 5, env, minimum=1, maximum=20),
        digest_after=env_int("ALERT_DIGEST_AFTER", DEFAULT_DIGEST_AFTER, env, minimum=0, maximum=1000),
        silences=_silences(env_str("ALERT_SILENCES", "", env)),
        recovery=recovery,
        retry_tag_key=env_str("RETRY_TAG_KEY", DEFAULT_TAG_KEY, env),
    )
