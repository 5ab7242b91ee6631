"""Grouping and dedupe: one message per (region, job) or (region, compute environment) per invocation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from shared.models import BatchEvent
from shared.record import NamedTuple, Record

from .clip import clip_chars

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Iterable, Optional

JOB = "job"
ENV = "env"
UNKNOWN = "unknown"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class GroupKey(NamedTuple):
    """What a message is about: a job or a compute environment in a region."""

    region: str
    kind: str
    id: str

    def __str__(self) -> str:
        # Logs and retry reasons name the group: a 1 MB id is shown clipped there too.
        return f"{clip_chars(self.region, 64)}/{self.kind}/{clip_chars(self.id, 128)}"


class Group(Record):
    """The distinct events of one group, oldest first, and the records they came from."""

    __slots__ = ("events", "key", "records")

    def __init__(
        self, key: GroupKey, events: Optional[list[BatchEvent]] = None, records: Optional[set[int]] = None
    ) -> None:
        self.key = key
        self.events: list[BatchEvent] = [] if events is None else events
        self.records: set[int] = set() if records is None else records

    def counts(self) -> list[tuple[str, int]]:
        """Events per name, most frequent first (ties by name)."""
        counter = Counter(e.name_raw for e in self.events)
        return sorted(counter.items(), key=lambda item: (-item[1], item[0]))

    def first(self, attribute: str) -> Optional[str]:
        """The first non-empty value of a BatchEvent attribute among the events (e.g. job_name)."""
        for event in self.events:
            value = getattr(event, attribute)
            if value:
                return str(value)
        return None


def group_key(event: BatchEvent, default_region: Optional[str]) -> GroupKey:
    """(region, job id) for job, task and instance events; (region, env id) for env and node events."""
    region = event.region or default_region or UNKNOWN
    if event.name is not None and event.name.is_job_scoped:
        return GroupKey(region, JOB, event.job_id or UNKNOWN)
    return GroupKey(region, ENV, event.env_id or UNKNOWN)


def _order(event: BatchEvent) -> tuple[datetime, int, int]:
    return (event.time or _EPOCH, event.source.index, event.position)


def group_events(
    events: Iterable[BatchEvent], default_region: Optional[str] = None
) -> tuple[list[Group], list[BatchEvent]]:
    """Groups in a stable order, and the duplicates dropped (same msgId and position, or same content).

    A duplicate's record still joins its group's records: when the group's delivery fails, every
    record that carried the event must come back.
    """
    groups: dict[GroupKey, Group] = {}
    seen_keys: set[str] = set()
    seen_content: set[str] = set()
    duplicates: list[BatchEvent] = []
    for event in sorted(events, key=_order):
        key = group_key(event, default_region)
        group = groups.setdefault(key, Group(key))
        group.records.add(event.source.index)
        # Without a msgId (manual invokes, bare messages) the delivery key says nothing.
        delivery = event.delivery_key if event.source.msg_id else None
        if (delivery and delivery in seen_keys) or event.fingerprint in seen_content:
            duplicates.append(event)
            continue
        if delivery:
            seen_keys.add(delivery)
        seen_content.add(event.fingerprint)
        group.events.append(event)
    ordered = sorted(groups.values(), key=lambda g: g.key)
    return ordered, duplicates
