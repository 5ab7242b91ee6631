"""WeCom (企业微信) group robot: a markdown message of at most 4096 bytes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import escape
from ..alert import Alert
from ..compose import Budget, Markup, compose, fit
from .base import Channel, Verdict, robot_verdict

if TYPE_CHECKING:
    from shared.http import HttpResponse

CONTENT_BYTES = 4096
RATE_LIMITED = frozenset({45009})

MARKUP = Markup(
    escape=escape.markdown,
    bold=lambda text: f"**{text}**",
    link=lambda text, url: f"[{text}]({url})",
    warn=lambda text: f'<font color="warning">{text}</font>',
)


class WeComChannel(Channel):
    """POST {"msgtype": "markdown"} to the robot's webhook; errcode 0 means sent."""

    name = "wecom"

    def mention_text(self) -> str:
        """`<@userid>` for each configured user (markdown pings only these)."""
        return " ".join(f"<@{user}>" for user in self.config.mentions.user_ids)

    def render(self, alert: Alert) -> dict[str, Any]:
        """Markdown content, items dropped and values clipped until it fits 4096 bytes."""
        mentions = self.mention_text()

        def content(budget: Budget) -> str:
            text = compose(alert, MARKUP, budget)
            return f"{text}\n{mentions}" if mentions else text

        text = fit(
            content, lambda c: len(c.encode("utf-8")) <= CONTENT_BYTES, self.settings.max_items, alert.total
        )
        return {"msgtype": "markdown", "markdown": {"content": text}}

    def check_body(self, response: HttpResponse) -> Verdict:
        """errcode 0 is success; 45009 is the robot's rate limit."""
        return robot_verdict(response.json(), ("errcode",), ("errmsg",), RATE_LIMITED)
