"""WeCom (企业微信) group robot: a markdown message of at most 4096 bytes."""

from __future__ import annotations

from .. import escape
from ..compose import Budget, Markup
from ..message import Message, compose, fit
from .base import Verdict, robot_verdict, text_bytes
from .chat import ChatChannel

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from shared.http import HttpResponse

CONTENT_BYTES = 4096  # markdown.content; a text message would allow only 2048, so none is sent
RATE_LIMITED = frozenset({45009})

MARKUP = Markup(
    escape=escape.markdown,
    bold=lambda text: f"**{text}**",
    link=lambda text, url: f"[{text}]({url})",
    warn=lambda text: f'<font color="warning">{text}</font>',
)


class WeComChannel(ChatChannel):
    """POST {"msgtype": "markdown"} to the robot's webhook; errcode 0 means sent."""

    name = "wecom"

    def mention_text(self) -> str:
        """`<@userid>` for each configured user (markdown pings only these)."""
        return " ".join(f"<@{user}>" for user in self.config.mentions.user_ids)

    def render(self, message: Message) -> dict[str, Any]:
        """Markdown content, items dropped and values clipped until it fits 4096 bytes."""
        mentions = self.mention_text() if message.mention else ""

        def content(budget: Budget) -> str:
            text = compose(message, MARKUP, budget)
            return f"{text}\n{mentions}" if mentions else text

        text = fit(content, lambda c: text_bytes(c) <= CONTENT_BYTES, message)
        return {"msgtype": "markdown", "markdown": {"content": text}}

    def check_body(self, response: HttpResponse) -> Verdict:
        """errcode 0 is success; 45009 is the robot's rate limit."""
        return robot_verdict(response.json(), ("errcode",), ("errmsg",), RATE_LIMITED)
