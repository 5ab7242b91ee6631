"""The channel-neutral alert of one group: raw texts, escaped only when a channel renders them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Optional

from shared.catalogue import EventName
from shared.models import BatchEvent

from .enrichment import Enrichment
from .grouping import JOB, Group, GroupKey
from .links import console_link


class Severity(IntEnum):
    """How bad a group is; the strongest event of the group decides."""

    NOTICE = 0
    FAILED = 1
    ABNORMAL = 2
    INTERRUPTED = 3

    @property
    def badge(self) -> str:
        """The word a message starts with."""
        return _BADGES[self]

    @property
    def note(self) -> str:
        """What the reader must know beyond 'failed' ('' when nothing)."""
        return _NOTES[self]


_BADGES = {
    Severity.NOTICE: "NOTICE",
    Severity.FAILED: "FAILED",
    Severity.ABNORMAL: "ABNORMAL",
    Severity.INTERRUPTED: "INTERRUPTED",
}
_NOTES = {
    Severity.NOTICE: "",
    Severity.FAILED: "",
    Severity.ABNORMAL: "A compute node is abnormal: it may still be billing. Check it or terminate it.",
    Severity.INTERRUPTED: (
        "Interrupted: the failed instances are KEPT and still billing until the job is retried or terminated."
    ),
}


def severity_of(event: BatchEvent) -> Severity:
    """Interrupted and abnormal-node events are called out; other failures are failures."""
    if event.is_interrupted:
        return Severity.INTERRUPTED
    if event.name is EventName.COMPUTE_NODE_ABNORMAL:
        return Severity.ABNORMAL
    return Severity.FAILED if event.is_failure else Severity.NOTICE


@dataclass(frozen=True)
class Item:
    """One event in full: its name, time and (label, raw value) details."""

    event_name: str
    time: str
    details: tuple[tuple[str, str], ...]
    severity: Severity


@dataclass(frozen=True)
class Alert:
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

    @property
    def total(self) -> int:
        """Distinct events in the group."""
        return len(self.items)

    @property
    def title(self) -> str:
        """The one-line headline (raw text)."""
        return f"[{self.severity.badge}] {self.subject}"


def _time(event: BatchEvent) -> str:
    return event.time.strftime("%Y-%m-%d %H:%M:%S UTC") if event.time else "time unknown"


def item_of(event: BatchEvent) -> Item:
    """The details worth reading for one event, in reading order."""
    details: list[tuple[str, str]] = []
    if event.task_name:
        index = f" #{event.task_instance_index}" if event.task_instance_index is not None else ""
        details.append(("task", f"{event.task_name}{index}"))
    elif event.task_instance_index is not None:
        details.append(("instance index", str(event.task_instance_index)))
    if event.node_id:
        details.append(("node", event.node_id))
    if event.instance_id:
        details.append(("instance", event.instance_id))
    if event.exit_code is not None:
        details.append(("exit code", str(event.exit_code)))
    if event.state_reason:
        details.append(("reason", event.state_reason))
    if event.vars:
        details.append(("vars", ", ".join(f"{k}={v}" for k, v in event.vars.items())))
    return Item(event.name_raw, _time(event), tuple(details), severity_of(event))


def _subject(group: Group) -> str:
    if group.key.kind == JOB:
        name = group.first("job_name")
        return f"Batch job {name} ({group.key.id})" if name else f"Batch job {group.key.id}"
    name = group.first("env_name")
    return (
        f"Batch compute environment {name} ({group.key.id})" if name else f"Batch environment {group.key.id}"
    )


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
    return tuple(notes)


def build_alert(group: Group, console_base: str, enrichment: Optional[Enrichment] = None) -> Alert:
    """The alert of one group."""
    items = tuple(item_of(e) for e in group.events)
    severity = max((i.severity for i in items), default=Severity.NOTICE)
    facts: list[tuple[str, str]] = [("Region", group.key.region)]
    if group.key.kind == JOB:
        facts.append(("Job", group.key.id))
    else:
        facts.append(("Environment", group.key.id))
    if items:
        first, last = items[0].time, items[-1].time
        facts.append(("When", first if first == last else f"{first} to {last}"))
    return Alert(
        key=group.key,
        severity=severity,
        subject=_subject(group),
        facts=tuple(facts),
        counts=tuple(group.counts()),
        items=items,
        link=console_link(console_base, group.key),
        notes=_enrichment_notes(enrichment) if enrichment else (),
        events=tuple(group.events),
    )
