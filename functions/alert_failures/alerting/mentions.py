"""Who a message mentions: read from configuration only, checked per channel, never taken from events."""

from __future__ import annotations

import re

from shared.errors import ConfigError
from shared.record import NamedTuple

EVERYONE = "all"
# A chat user id (WeCom userid, DingTalk userId, Feishu open_id/user_id, Slack member id): no
# markup characters, so a configured value cannot inject anything either.
# Patterns as text, compiled (and cached by `re`) on the first setting that names someone: a run
# without mentions does not pay for them at cold start.
_USER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
# DingTalk tells mobiles from user ids this way: a Chinese mobile number or an international +number.
_MOBILE = r"^(?:1[0-9]{10}|\+[0-9]{6,15})$"
_SLACK_ID = r"^[UW][A-Z0-9]{2,20}$"


class Mentions(NamedTuple):
    """The people one channel's messages mention."""

    everyone: bool = False
    user_ids: tuple[str, ...] = ()
    mobiles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        # Not the tuple's truth (three fields: always true): whether anyone is mentioned.
        return self.everyone or bool(self.user_ids or self.mobiles)


# What each channel can mention in the message type this function sends.
_CAN_MENTION = {
    "wecom": ("user id",),  # markdown messages ping only <@userid>
    "dingtalk": ("all", "user id", "mobile"),
    "feishu": ("all", "user id"),
    "slack": ("all", "user id"),
}


def parse_mentions(channel: str, setting: str, items: list[str]) -> Mentions:
    """A mentions setting's entries (`all`, user ids, DingTalk mobile numbers), checked for `channel`."""
    allowed = _CAN_MENTION[channel]
    everyone = False
    users: list[str] = []
    mobiles: list[str] = []
    for item in items:
        if item.lower() in (EVERYONE, "@all", "channel", "everyone"):
            kind = "all"
        elif channel == "dingtalk" and re.match(_MOBILE, item):
            kind = "mobile"
        elif re.match(_USER_ID, item) and (channel != "slack" or re.match(_SLACK_ID, item)):
            kind = "user id"
        else:
            raise ConfigError(f"{setting}: {item!r} is not 'all', a user id or a mobile number")
        if kind not in allowed:
            raise ConfigError(
                f"{setting}: {channel} messages cannot mention {kind} {item!r} "
                f"(they can mention: {', '.join(allowed)}); set {channel.upper()}_MENTIONS for {channel}"
            )
        if kind == "all":
            everyone = True
        elif kind == "mobile":
            mobiles.append(item)
        else:
            users.append(item)
    return Mentions(everyone=everyone, user_ids=tuple(users), mobiles=tuple(mobiles))
