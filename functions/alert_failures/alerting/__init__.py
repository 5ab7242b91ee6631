"""The alert_failures concern: grouped, signed, injection-safe failure alerts.

Nothing here imports the Tencent Cloud SDK or `requests` at import time: sending imports
shared.http, and only ALERT_ENRICH=1 imports the SDK.
"""

from .alert import Alert, Item, Severity, build_alert, item_of, severity_of
from .concern import alert_failures, make_concern
from .config import AlertConfig, ChannelConfig, load_config
from .delivery import Deadline, Result, Sender
from .grouping import Group, GroupKey, group_events, group_key
from .mentions import Mentions, parse_mentions

__all__ = [
    "Alert",
    "AlertConfig",
    "ChannelConfig",
    "Deadline",
    "Group",
    "GroupKey",
    "Item",
    "Mentions",
    "Result",
    "Sender",
    "Severity",
    "alert_failures",
    "build_alert",
    "group_events",
    "group_key",
    "item_of",
    "load_config",
    "make_concern",
    "parse_mentions",
    "severity_of",
]
