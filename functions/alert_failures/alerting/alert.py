"""The channel-neutral alert of one group: raw texts, escaped only when a channel renders them."""

from __future__ import annotations

from shared.models import BatchEvent
from shared.record import NamedTuple

from .clip import clip_chars
from .grouping import JOB, Group, GroupKey
from .inhibition import Fold
from .links import console_link
from .severity import Severity, severity_of

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Optional

if TYPE_CHECKING:  # an annotation: enrichment is imported by the runs that enrich
    from .enrichment import Enrichment

# Every text an event brings is cut to this many characters when the alert is built: no channel shows
# more (the longest clip is 300), and escaping and measuring 1 MB per rendering would cost seconds.
TEXT_CHARS = 1000

__all__ = ["TEXT_CHARS", "Alert", "Item", "Severity", "build_alert", "item_of", "severity_of"]


class Item(NamedTuple):
    """One event in full: its name, time and (label, raw value) details."""

    event_name: str
    time: str
    details: tuple[tuple[str, str], ...]
    severity: Severity


class Alert(NamedTuple):
    """One group's message, before any channel's markup."""

    key: GroupKey
    severity: Severity
    subject: str
    facts: tuple[tuple[str, str], ...]
    counts: tuple[tuple[str, int], ...]
    items: tuple[Item, ...]
    link: str
    notes: tuple[str, ...]
    events: tuple[BatchEvent, ...]
    folds: tuple[Fold, ...] = ()
    records: frozenset[int] = frozenset()  # the source records of the group (duplicates, folds included)

    @property
    def total(self) -> int:
        """Distinct events in the group."""
        return len(self.items)

    @property
    def title(self) -> str:
        """The one-line headline (raw text)."""
        return f"[{self.severity.badge}] {self.subject}"

    @property
    def reason(self) -> str:
        """The first reason an event of the group gives ('' when none does)."""
        return next((value for item in self.items for label, value in item.details if label == "reason"), "")


def event_time(event: BatchEvent) -> str:
    """The event's time as messages show it."""
    return event.time.strftime("%Y-%m-%d %H:%M:%S UTC") if event.time else "time unknown"


def _text(value: object) -> str:
    return clip_chars(str(value), TEXT_CHARS)


def item_of(event: BatchEvent) -> Item:
    """The details worth reading for one event, in reading order."""
    details: list[tuple[str, str]] = []
    if event.task_name:
        index = f" #{event.task_instance_index}" if event.task_instance_index is not None else ""
        details.append(("task", f"{_text(event.task_name)}{index}"))
    elif event.task_instance_index is not None:
        details.append(("instance index", str(event.task_instance_index)))
    if event.node_id:
        details.append(("node", _text(event.node_id)))
    if event.instance_id:
        details.append(("instance", _text(event.instance_id)))
    if event.exit_code is not None:
        details.append(("exit code", _text(event.exit_code)))
    if event.state_reason:
        details.append(("reason", _text(event.state_reason)))
    if event.vars:
        pairs = []
        size = 0
        for key, value in event.vars.items():  # a million vars must not build a million-item text
            pairs.append(f"{_text(key)}={_text(value)}")
            size += len(pairs[-1]) + 2
            if size > TEXT_CHARS:
                break
        details.append(("vars", _text(", ".join(pairs))))
    return Item(_text(event.name_raw), event_time(event), tuple(details), severity_of(event))


def subject_of(group: Group) -> str:
    """`Batch job <name> (<id>)` or `Batch compute environment <name> (<id>)`, clipped."""
    ident = _text(group.key.id)
    if group.key.kind == JOB:
        name = group.first("job_name")
        return f"Batch job {_text(name)} ({ident})" if name else f"Batch job {ident}"
    name = group.first("env_name")
    return f"Batch compute environment {_text(name)} ({ident})" if name else f"Batch environment {ident}"


def _enrichment_notes(info: Enrichment) -> tuple[str, ...]:
    notes = []
    if info.state or info.state_reason:
        notes.append(f"Batch says: job {info.state or '?'}; {info.state_reason or 'no reason given'}")
    for failed in info.failed_instances:
        code = "?" if failed.exit_code is None else str(failed.exit_code)
        where = f" on {failed.instance_id}" if failed.instance_id else ""
        notes.append(
            f"{failed.task_name} #{failed.index} {failed.state} exit {code}{where}: {failed.reason or '-'}"
        )
    hidden = info.failed_total - len(info.failed_instances)
    if hidden > 0:
        notes.append(f"and {hidden} more failed instances")
    return tuple(_text(note) for note in notes)


def build_alert(
    group: Group,
    console_base: str,
    enrichment: Optional[Enrichment] = None,
    folds: tuple[Fold, ...] = (),
) -> Alert:
    """The alert of one group (and of the failures folded into it)."""
    items = tuple(item_of(e) for e in group.events)
    severity = max((i.severity for i in items), default=Severity.NOTICE)
    facts: list[tuple[str, str]] = [("Region", _text(group.key.region))]
    if group.key.kind == JOB:
        facts.append(("Job", _text(group.key.id)))
    else:
        facts.append(("Environment", _text(group.key.id)))
    if items:
        first, last = items[0].time, items[-1].time
        facts.append(("When", first if first == last else f"{first} to {last}"))
    notes = tuple(fold.text for fold in folds)
    return Alert(
        key=group.key,
        severity=severity,
        subject=subject_of(group),
        facts=tuple(facts),
        counts=tuple(group.counts()),
        items=items,
        link=console_link(console_base, group.key),
        notes=notes + (_enrichment_notes(enrichment) if enrichment else ()),
        events=tuple(group.events),
        folds=folds,
        records=frozenset(group.records),
    )
