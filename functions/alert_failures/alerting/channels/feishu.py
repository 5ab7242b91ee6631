"""Feishu / Lark custom bot: an interactive card (default) or a rich-text post; signed with FEISHU_SECRET."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .. import escape
from ..alert import Alert, Severity
from ..compose import LINK_TEXT, Budget, Markup, body_lines, fit, title_text
from ..signing import feishu_sign
from .base import Channel, Request, Verdict, body_bytes, robot_verdict

if TYPE_CHECKING:
    from shared.http import HttpResponse

BODY_BYTES = 20000
RATE_LIMITED = frozenset({11232, 9499})
_TEMPLATES = {
    Severity.INTERRUPTED: "red",
    Severity.ABNORMAL: "orange",
    Severity.FAILED: "red",
    Severity.NOTICE: "blue",
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


class FeishuChannel(Channel):
    """POST a card or a post; code 0 means sent."""

    name = "feishu"

    def _card(self, alert: Alert, budget: Budget) -> dict[str, Any]:
        mentions = self.config.mentions
        tags = ["<at id=all></at>"] if mentions.everyone else []
        tags += [f"<at id={user}></at>" for user in mentions.user_ids]
        text = "\n".join(body_lines(alert, CARD_MARKUP, budget))
        if tags:
            text = f"{text}\n{' '.join(tags)}"
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": title_text(alert, escape.markdown)},
                    "template": _TEMPLATES[alert.severity],
                },
                "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
            },
        }

    def _post(self, alert: Alert, budget: Budget) -> dict[str, Any]:
        mentions = self.config.mentions
        rows: list[list[dict[str, Any]]] = [
            [{"tag": "text", "text": line}]
            for line in body_lines(alert, POST_MARKUP, budget, with_link=False)
        ]
        rows.append([{"tag": "a", "text": LINK_TEXT, "href": alert.link}])
        ats = [{"tag": "at", "user_id": "all"}] if mentions.everyone else []
        ats += [{"tag": "at", "user_id": user} for user in mentions.user_ids]
        if ats:
            rows.append(ats)
        title = title_text(alert, escape.markdown)
        return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": rows}}}}

    def render(self, alert: Alert) -> dict[str, Any]:
        """A card (FEISHU_MSG_TYPE=card) or a post, within 20 KB."""

        def body(budget: Budget) -> dict[str, Any]:
            if self.settings.feishu_format == "post":
                return self._post(alert, budget)
            return self._card(alert, budget)

        return fit(body, lambda b: body_bytes(b) <= BODY_BYTES, self.settings.max_items, alert.total)

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
