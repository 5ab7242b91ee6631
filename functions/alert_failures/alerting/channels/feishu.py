"""Feishu / Lark custom bot: an interactive card (default) or a rich-text post; signed with FEISHU_SECRET."""

from __future__ import annotations

from .. import escape
from ..compose import LINK_TEXT, Budget, Markup
from ..message import Message, fit, title_text
from ..severity import Severity
from ..signing import feishu_sign
from .base import Request, Verdict, body_bytes, robot_verdict
from .chat import ChatChannel

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping

if TYPE_CHECKING:
    from shared.http import HttpResponse

BODY_BYTES = 20 * 1024
SIGNATURE_BYTES = 128  # `timestamp` and `sign`, added to the body after rendering
RATE_LIMITED = frozenset({11232, 9499})
_TEMPLATES = {
    Severity.INTERRUPTED: "red",
    Severity.ABNORMAL: "orange",
    Severity.FAILED: "red",
    Severity.NOTICE: "blue",
    Severity.RECOVERED: "green",
}

CARD_MARKUP = Markup(
    escape=escape.markdown,
    bold=lambda text: f"**{text}**",
    link=lambda text, url: f"[{text}]({url})",
    warn=lambda text: f"<font color='red'>{text}</font>",
)
# Post `text` elements are not markdown, but `<at ...>` in them still pings: same escaping.
POST_MARKUP = Markup(
    escape=escape.markdown, bold=lambda text: text, link=lambda text, url: url, warn=lambda text: f"⚠ {text}"
)


class FeishuChannel(ChatChannel):
    """POST a card or a post; code 0 means sent."""

    name = "feishu"

    def _card(self, message: Message, budget: Budget) -> dict[str, Any]:
        mentions = self.config.mentions
        tags = ["<at id=all></at>"] if mentions.everyone else []
        tags += [f"<at id={user}></at>" for user in mentions.user_ids]
        tags = tags if message.mention else []
        text = "\n".join(message.lines(CARD_MARKUP, budget, True))
        if tags:
            text = f"{text}\n{' '.join(tags)}"
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": title_text(message, escape.markdown)},
                    "template": _TEMPLATES[message.severity],
                },
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
            },
        }

    def _post(self, message: Message, budget: Budget) -> dict[str, Any]:
        mentions = self.config.mentions
        rows: list[list[dict[str, Any]]] = [
            [{"tag": "text", "text": line}] for line in message.lines(POST_MARKUP, budget, False)
        ]
        rows.append([{"tag": "a", "text": LINK_TEXT, "href": message.link}])
        ats = [{"tag": "at", "user_id": "all"}] if mentions.everyone else []
        ats += [{"tag": "at", "user_id": user} for user in mentions.user_ids]
        if ats and message.mention:
            rows.append(ats)
        title = title_text(message, escape.markdown)
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": rows}}}}

    def render(self, message: Message) -> dict[str, Any]:
        """A card (FEISHU_MSG_TYPE=card) or a post, within 20 KB."""

        def body(budget: Budget) -> dict[str, Any]:
            if self.settings.feishu_format == "post":
                return self._post(message, budget)
            return self._card(message, budget)

        return fit(body, lambda b: body_bytes(b) + SIGNATURE_BYTES <= BODY_BYTES, message)

    def request(self, body: Mapping[str, Any], now_s: float) -> Request:
        """`timestamp` (seconds, a string) and `sign` go in the JSON body."""
        if not self.config.secret:
            return Request(self.url, body)
        timestamp_s = int(now_s)
        signed = dict(body, timestamp=str(timestamp_s), sign=feishu_sign(self.config.secret, timestamp_s))
        return Request(self.url, signed)

    def check_body(self, response: HttpResponse) -> Verdict:
        """code 0 is success (older bots answer StatusCode 0); 11232 and 9499 are rate limits."""
        return robot_verdict(response.json(), ("code", "StatusCode"), ("msg", "StatusMessage"), RATE_LIMITED)
