"""Slack incoming webhook: Block Kit (a header and a mrkdwn section), answered with plain `ok`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import escape
from ..alert import Alert
from ..compose import Budget, Markup, body_lines, fit, title_text
from .base import Channel, Verdict

if TYPE_CHECKING:
    from shared.http import HttpResponse

SECTION_CHARS = 3000
HEADER_CHARS = 150

MARKUP = Markup(
    escape=escape.slack,
    bold=lambda text: f"*{text}*",
    link=lambda text, url: f"<{url}|{text}>",
    warn=lambda text: f":warning: *{text}*",
    bullet="• ",
)


class SlackChannel(Channel):
    """POST blocks plus a fallback `text`; the body `ok` means sent."""

    name = "slack"

    def mention_text(self) -> str:
        """`<!channel>` and `<@U...>` from configuration only."""
        mentions = self.config.mentions
        parts = ["<!channel>"] if mentions.everyone else []
        parts += [f"<@{user}>" for user in mentions.user_ids]
        return " ".join(parts)

    def render(self, alert: Alert) -> dict[str, Any]:
        """Header (150 chars) and one section (3000 chars), items dropped until it fits."""
        mentions = self.mention_text()

        def body(budget: Budget) -> dict[str, Any]:
            text = "\n".join(body_lines(alert, MARKUP, budget))
            if mentions:
                text = f"{text}\n{mentions}"
            # plain_text shows entities literally, so the header takes the look-alike escaping.
            header = title_text(alert, escape.markdown, HEADER_CHARS - 20)
            return {
                "text": title_text(alert, escape.slack, HEADER_CHARS - 20),
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": header}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                ],
            }

        def fits(payload: dict[str, Any]) -> bool:
            return len(payload["blocks"][1]["text"]["text"]) <= SECTION_CHARS

        return fit(body, fits, self.settings.max_items, alert.total)

    def check_body(self, response: HttpResponse) -> Verdict:
        """Slack answers `ok`; anything else (invalid_payload, no_text, ...) is a failure."""
        text = response.text.strip()
        return Verdict(True) if text == "ok" else Verdict(False, f"slack answered {text[:200]!r}")
