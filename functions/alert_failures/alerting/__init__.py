"""The alert_failures concern: grouped, signed, injection-safe failure alerts, silences, digests, recoveries.

Nothing here imports the Tencent Cloud SDK or `requests` at import time: sending imports
shared.http, and only ALERT_ENRICH=1 or ALERT_RECOVERY=1 imports the SDK.

Names are imported on first use (PEP 562): the handler needs only `make_concern`, and a cold start
pays for a module only on the runs that use it (a storm's digest, recoveries, silences, enrichment).
"""

from __future__ import annotations

from .concern import alert_failures, make_concern

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from .alert import Alert, Item, build_alert, item_of
    from .config import AlertConfig, ChannelConfig, load_config
    from .delivery import Deadline, Result, Sender
    from .digest import Digest, build_digest
    from .grouping import Group, GroupKey, group_events, group_key
    from .mentions import Mentions, parse_mentions
    from .message import Message
    from .outbox import Outbox, Payload
    from .recovery import Recovery
    from .severity import Severity, severity_of
    from .silences import Silence, parse_silences

_LAZY = {
    "Alert": "alert",
    "Item": "alert",
    "build_alert": "alert",
    "item_of": "alert",
    "AlertConfig": "config",
    "ChannelConfig": "config",
    "load_config": "config",
    "Deadline": "delivery",
    "Result": "delivery",
    "Sender": "delivery",
    "Digest": "digest",
    "build_digest": "digest",
    "Group": "grouping",
    "GroupKey": "grouping",
    "group_events": "grouping",
    "group_key": "grouping",
    "Mentions": "mentions",
    "parse_mentions": "mentions",
    "Message": "message",
    "Outbox": "outbox",
    "Payload": "outbox",
    "Recovery": "recovery",
    "Severity": "severity",
    "severity_of": "severity",
    "Silence": "silences",
    "parse_silences": "silences",
}


if not TYPE_CHECKING:  # mypy sees the imports above, and an unknown name stays an error to it

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from importlib import import_module

        return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "Alert",
    "AlertConfig",
    "ChannelConfig",
    "Deadline",
    "Digest",
    "Group",
    "GroupKey",
    "Item",
    "Mentions",
    "Message",
    "Outbox",
    "Payload",
    "Recovery",
    "Result",
    "Sender",
    "Severity",
    "Silence",
    "alert_failures",
    "build_alert",
    "build_digest",
    "group_events",
    "group_key",
    "item_of",
    "load_config",
    "make_concern",
    "parse_mentions",
    "parse_silences",
    "severity_of",
]
