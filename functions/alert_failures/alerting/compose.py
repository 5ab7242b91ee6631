"""One alert as text in a channel's markup, shrunk until it fits the channel's size limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from . import escape
from .alert import Alert, Item

T = TypeVar("T")

# Value lengths tried in turn: a long reason is clipped before an item is dropped from the message.
CLIPS = (300, 120, 40)
LINK_TEXT = "Open in the Batch console"
TITLE_CHARS = 120


@dataclass(frozen=True)
class Budget:
    """How much of the alert to show: items in full, and the longest value."""

    shown: int
    clip: int


@dataclass(frozen=True)
class Markup:
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


def counts_line(alert: Alert, markup: Markup) -> str:
    """Events per name, e.g. `TASK_INSTANCE_FAILED ×500 · JOB_FAILED ×1 (501 events)`."""
    parts = " · ".join(f"{markup.escape(name, 80)} ×{count}" for name, count in alert.counts)
    return f"{markup.bold('Events')}: {parts} ({alert.total} in all)"


def item_line(item: Item, markup: Markup, clip: int) -> str:
    """One event in full on one line."""
    parts = [markup.bold(markup.escape(item.event_name, 80)), markup.escape(item.time, 40)]
    parts += [f"{label} {markup.escape(value, clip)}" for label, value in item.details]
    return markup.bullet + " · ".join(parts)


def body_lines(alert: Alert, markup: Markup, budget: Budget, *, with_link: bool = True) -> list[str]:
    """Everything below the title: note, facts, counts, items, 'and N more', enrichment, link."""
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
    # Enrichment is short (a reason and a few instances); it shrinks only when no item fits either.
    notes = alert.notes if budget.shown else alert.notes[:1]
    lines += [markup.bullet + markup.escape(note, budget.clip) for note in notes]
    if with_link:
        lines.append(markup.link(LINK_TEXT, alert.link))
    return lines


def title_text(alert: Alert, escape_text: Callable[[object, int], str], clip: int = TITLE_CHARS) -> str:
    """`[BADGE] subject`: the badge is ours, the subject (names from the event) is escaped."""
    return f"[{alert.severity.badge}] {escape_text(alert.subject, clip)}"


def compose(alert: Alert, markup: Markup, budget: Budget) -> str:
    """Title and body as one text."""
    title = markup.bold(title_text(alert, markup.escape))
    return markup.newline.join([title, *body_lines(alert, markup, budget)])


def fit(render: Callable[[Budget], T], fits: Callable[[T], bool], max_items: int, total: int) -> T:
    """The fullest rendering that fits: clip values first, then drop items, down to none."""
    result = render(Budget(min(max_items, total), CLIPS[0]))
    if fits(result):
        return result
    for shown in range(min(max_items, total), -1, -1):
        for clip in CLIPS:
            result = render(Budget(shown, clip))
            if fits(result):
                return result
    return result
