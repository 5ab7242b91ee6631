"""An alert's body as lines in a channel's markup, for a budget of items and value length."""

from __future__ import annotations

from shared.record import NamedTuple

from . import escape
from .alert import Alert, Item

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Callable

# Value lengths tried in turn: a long reason is clipped before an item is dropped from the message.
CLIPS = (300, 120, 40)
LINK_TEXT = "Open in the Batch console"
NAME_CHARS = 80


class Budget(NamedTuple):
    """How much of a message to show: items in full, and the longest value."""

    shown: int
    clip: int


class Markup(NamedTuple):
    """A channel's markup; `escape` is applied to every value that did not come from this code."""

    escape: Callable[[object, int], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]
    warn: Callable[[str], str]
    newline: str = "\n"
    bullet: str = "- "


PLAIN = Markup(
    escape=escape.plain,
    bold=lambda text: text,
    link=lambda text, url: f"{text}: {url}",
    warn=lambda text: f"!! {text}",
)


def counts_text(counts: tuple[tuple[str, int], ...], markup: Markup) -> str:
    """`TASK_INSTANCE_FAILED ×500 · JOB_FAILED ×1`."""
    return " · ".join(f"{markup.escape(name, NAME_CHARS)} ×{count}" for name, count in counts)


def counts_line(alert: Alert, markup: Markup) -> str:
    """Events per name, e.g. `TASK_INSTANCE_FAILED ×500 · JOB_FAILED ×1 (501 in all)`."""
    return f"{markup.bold('Events')}: {counts_text(alert.counts, markup)} ({alert.total} in all)"


def item_line(item: Item, markup: Markup, clip: int) -> str:
    """One event in full on one line."""
    parts = [markup.bold(markup.escape(item.event_name, NAME_CHARS)), markup.escape(item.time, 40)]
    parts += [f"{label} {markup.escape(value, clip)}" for label, value in item.details]
    return markup.bullet + " · ".join(parts)


def body_lines(alert: Alert, markup: Markup, budget: Budget, *, with_link: bool = True) -> list[str]:
    """Everything below the title: note, facts, counts, items, 'and N more', notes, link."""
    lines: list[str] = []
    if alert.severity.note:
        lines.append(markup.warn(markup.escape(alert.severity.note, 0)))
    for label, value in alert.facts:
        lines.append(f"{markup.bold(label)}: {markup.escape(value, budget.clip)}")
    lines.append(counts_line(alert, markup))
    shown = alert.items[: budget.shown]
    lines += [item_line(item, markup, budget.clip) for item in shown]
    hidden = alert.total - len(shown)
    if hidden:
        lines.append(f"and {hidden} more")
    # Notes (folded failures, enrichment) are short; they shrink only when no item fits either.
    notes = alert.notes if budget.shown else alert.notes[:1]
    lines += [markup.bullet + markup.escape(note, budget.clip) for note in notes]
    if with_link:
        lines.append(markup.link(LINK_TEXT, alert.link))
    return lines
