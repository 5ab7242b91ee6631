"""Slack incoming webhook: Block Kit (a header and a mrkdwn section), answered with plain `ok`."""

from __future__ import annotations

from .. import escape
from ..compose import Budget, Markup
from ..message import Message, fit, title_text
from .base import Verdict, utf16_units
from .chat import ChatChannel

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable

if TYPE_CHECKING:
    from shared.http import HttpResponse

SECTION_CHARS = 3000
HEADER_CHARS = 150
MAX_BLOCKS = 50  # this channel sends two
# Header clips tried in turn: Slack counts UTF-16 units, so 130 emoji are 260 "characters".
HEADER_CLIPS = (HEADER_CHARS - 20, 64, 32)

MARKUP = Markup(
    escape=escape.slack,
    bold=lambda text: f"*{text}*",
    link=lambda text, url: f"<{url}|{text}>",
    warn=lambda text: f":warning: *{text}*",
    bullet="• ",
)


def _title(message: Message, escape_text: Callable[[object, int], str]) -> str:
    for clip in HEADER_CLIPS:
        title = title_text(message, escape_text, clip)
        if utf16_units(title) <= HEADER_CHARS:
            return title
    return title_text(message, escape_text, 16)


class SlackChannel(ChatChannel):
    """POST blocks plus a fallback `text`; the body `ok` means sent."""

    name = "slack"

    def mention_text(self) -> str:
        """`<!channel>` and `<@U...>` from configuration only."""
        mentions = self.config.mentions
        parts = ["<!channel>"] if mentions.everyone else []
        parts += [f"<@{user}>" for user in mentions.user_ids]
        return " ".join(parts)

    def render(self, message: Message) -> dict[str, Any]:
        """Header (150 chars) and one section (3000 chars), items dropped until it fits."""
        mentions = self.mention_text() if message.mention else ""
        # plain_text shows entities literally, so the header takes the look-alike escaping.
        header = _title(message, escape.markdown)
        fallback = _title(message, escape.slack)

        def body(budget: Budget) -> dict[str, Any]:
            text = "\n".join(message.lines(MARKUP, budget, True))
            if mentions:
                text = f"{text}\n{mentions}"
            return {
                "text": fallback,
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": header}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                ],
            }

        def fits(payload: dict[str, Any]) -> bool:
            return utf16_units(payload["blocks"][1]["text"]["text"]) <= SECTION_CHARS

        return fit(body, fits, message)

    def check_body(self, response: HttpResponse) -> Verdict:
        """Slack answers `ok`; anything else (invalid_payload, no_text, ...) is a failure."""
        text = response.text.strip()
        return Verdict(True) if text == "ok" else Verdict(False, f"slack answered {text[:200]!r}")
