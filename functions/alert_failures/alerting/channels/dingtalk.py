"""DingTalk (钉钉) custom robot: a markdown message, signed when DINGTALK_SECRET is set."""

from __future__ import annotations

from .. import escape
from ..compose import Budget, Markup
from ..mentions import Mentions
from ..message import Message, compose, fit, title_text
from ..signing import dingtalk_sign
from .base import Request, Verdict, body_bytes, robot_verdict
from .chat import ChatChannel

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping

if TYPE_CHECKING:
    from shared.http import HttpResponse

BODY_BYTES = 20000
TITLE_CHARS = 64
RATE_LIMITED = frozenset({130101})

# DingTalk's markdown starts a new line only at a blank line, so lines are separated by one.
MARKUP = Markup(
    escape=escape.markdown,
    bold=lambda text: f"**{text}**",
    link=lambda text, url: f"[{text}]({url})",
    warn=lambda text: f"**{text}**",
    newline="\n\n",
)


class DingTalkChannel(ChatChannel):
    """POST {"msgtype": "markdown", "at": ...}; errcode 0 means sent."""

    name = "dingtalk"

    def _at(self, mention: bool) -> tuple[dict[str, Any], str]:
        mentions = self.config.mentions if mention else Mentions()
        at = {
            "atMobiles": list(mentions.mobiles),
            "atUserIds": list(mentions.user_ids),
            "isAtAll": mentions.everyone,
        }
        # A mobile or user id is pinged only when the text also names it after an @.
        named = [f"@{who}" for who in (*mentions.mobiles, *mentions.user_ids)]
        return at, " ".join(named)

    def render(self, message: Message) -> dict[str, Any]:
        """Markdown text plus the `at` block built from configuration alone."""
        at, named = self._at(message.mention)

        def body(budget: Budget) -> dict[str, Any]:
            text = compose(message, MARKUP, budget)
            return {
                "msgtype": "markdown",
                "markdown": {
                    "title": title_text(message, escape.markdown, TITLE_CHARS),
                    "text": f"{text}\n\n{named}" if named else text,
                },
                "at": at,
            }

        return fit(body, lambda b: body_bytes(b) <= BODY_BYTES, message)

    def request(self, body: Mapping[str, Any], now_s: float) -> Request:
        """`timestamp` and `sign` as query parameters (encoded once, by the HTTP client)."""
        if not self.config.secret:
            return Request(self.url, body)
        timestamp_ms = int(now_s * 1000)
        sign = dingtalk_sign(self.config.secret, timestamp_ms)
        return Request(self.url, body, {"timestamp": str(timestamp_ms), "sign": sign})

    def check_body(self, response: HttpResponse) -> Verdict:
        """errcode 0 is success; 130101 is 'sending too fast'."""
        return robot_verdict(response.json(), ("errcode",), ("errmsg",), RATE_LIMITED)
