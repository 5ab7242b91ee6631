"""What a chat channel renders: a headline, body lines in the channel's markup, a link; and fitting it.

An alert, a storm digest and a recovery notice are each one Message, so every chat channel renders
all three the same way and keeps each within its size limit.
"""

from __future__ import annotations

from shared.record import NamedTuple

from .alert import Alert
from .compose import CLIPS, Budget, Markup, body_lines
from .severity import Severity

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Callable, TypeVar

if TYPE_CHECKING:
    T = TypeVar("T")
TITLE_CHARS = 120

if TYPE_CHECKING:
    Lines = Callable[[Markup, Budget, bool], list[str]]
else:
    Lines = None  # for annotations only (they are strings at run time): mypy reads the alias above


class Message(NamedTuple):
    """One chat message before any markup: `lines(markup, budget, with_link)` writes its body."""

    severity: Severity
    subject: str
    link: str
    lines: Lines
    most: int = 0  # the most items the body can show; fit() drops them from the end
    clips: tuple[int, ...] = CLIPS
    mention: bool = True  # good news pings nobody

    @property
    def title(self) -> str:
        """The one-line headline (raw text)."""
        return f"[{self.severity.badge}] {self.subject}"


def alert_message(alert: Alert, max_items: int) -> Message:
    """One group's alert as a chat message."""

    def lines(markup: Markup, budget: Budget, with_link: bool) -> list[str]:
        return body_lines(alert, markup, budget, with_link=with_link)

    return Message(alert.severity, alert.subject, alert.link, lines, min(max_items, alert.total))


def title_text(message: Message, escape_text: Callable[[object, int], str], clip: int = TITLE_CHARS) -> str:
    """`[BADGE] subject`: the badge is ours, the subject (names from the event) is escaped."""
    return f"[{message.severity.badge}] {escape_text(message.subject, clip)}"


def compose(message: Message, markup: Markup, budget: Budget) -> str:
    """Title and body as one text."""
    title = markup.bold(title_text(message, markup.escape))
    return markup.newline.join([title, *message.lines(markup, budget, True)])


def fit(render: Callable[[Budget], T], fits: Callable[[T], bool], message: Message) -> T:
    """The fullest rendering that fits: clip values first, then drop items, down to none.

    The last try (no item, the shortest clip) is small by construction: every value in it is clipped,
    the link is bounded (links.py), so it fits every channel whatever the event held.
    """
    result = render(Budget(message.most, message.clips[0]))
    if fits(result):
        return result
    for shown in range(message.most, -1, -1):
        for clip in message.clips:
            result = render(Budget(shown, clip))
            if fits(result):
                return result
    return result
