"""The alert_failures concern: grouped, signed, injection-safe failure alerts, silences, digests, recoveries.

Nothing here imports the Tencent Cloud SDK or `requests` at import time: sending imports
shared.http, and only ALERT_ENRICH=1 or ALERT_RECOVERY=1 imports the SDK.
"""

from .alert import Alert, Item, build_alert, item_of
from .concern import alert_failures, make_concern
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
