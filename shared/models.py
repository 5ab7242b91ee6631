"""Domain objects the handlers use: plain snake_case attributes over the cloud's field names."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any, Mapping, Optional

from .catalogue import Category, EventName

# The canonical text of an event, for its fingerprint: keys sorted, no spaces. Built once (json.dumps
# with these options would build an encoder per call, costing as much as the encoding).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def fingerprint(entry: Mapping[str, Any]) -> str:
    """A content hash of one event: the same event republished under another msgId matches."""
    import hashlib  # only the alert path asks for fingerprints: a churn cold start never loads it

    # surrogatepass: the envelope replaces lone surrogates, and a hash must never be what raises.
    return hashlib.sha256(_CANONICAL.encode(entry).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class SourceRecord:
    """Where a Batch message came from: one CMQ record (or a manual invoke)."""

    msg_id: Optional[str]
    topic_name: Optional[str] = None
    subscription_name: Optional[str] = None
    publish_time: Optional[str] = None
    tags: tuple[str, ...] = ()
    request_id: Optional[str] = None
    index: int = 0


@dataclass(frozen=True)
class BatchEvent:
    """One Batch lifecycle event, parsed."""

    name: Optional[EventName]
    name_raw: str
    version: Optional[str]
    time: Optional[datetime]
    region: Optional[str]
    job_id: Optional[str]
    job_name: Optional[str]
    task_name: Optional[str]
    task_instance_index: Optional[int]
    env_id: Optional[str]
    env_name: Optional[str]
    node_id: Optional[str]
    instance_id: Optional[str]
    node_state: Optional[str]
    state: Optional[str]
    state_reason: Optional[str]
    exit_code: Optional[int]
    cpu: Optional[float]
    mem: Optional[float]
    resource_created_time: Optional[datetime]
    vars: Mapping[str, str]
    batch: Mapping[str, Any]
    raw: Mapping[str, Any]
    source: SourceRecord
    position: int
    problems: tuple[str, ...] = ()  # what the envelope could not use but kept going (a time out of range)

    @cached_property
    def fingerprint(self) -> str:
        """A content hash of the event as published (see `fingerprint`), computed on first use:
        the retry function never needs it, and it costs a third of parsing an event."""
        return fingerprint(self.raw)

    @property
    def known(self) -> bool:
        """False when the event name is not one of the 19."""
        return self.name is not None

    @property
    def category(self) -> Optional[Category]:
        """Job, task, task instance, compute env or compute node; None when unknown."""
        return self.name.category if self.name else None

    @property
    def is_failure(self) -> bool:
        """True for the 8 failure events."""
        return bool(self.name and self.name.is_failure)

    @property
    def is_interrupted(self) -> bool:
        """True when the failed resource's instances are kept (and still billing)."""
        return bool(self.name and self.name.is_interrupted)

    @property
    def delivery_key(self) -> str:
        """Identifies this delivery: msgId plus position in the message."""
        return f"{self.source.msg_id or '-'}#{self.position}"


def new_event(values: Mapping[str, Any]) -> BatchEvent:
    """A BatchEvent from a mapping holding every one of its fields, as `BatchEvent(**values)` makes it.

    The envelope builds one per event: the frozen dataclass's __init__ sets each of the 25 fields
    through object.__setattr__, which alone cost more than parsing the event's JSON. Fields are
    stored in declaration order so that instances share one key table (memory) as __init__'s do;
    a missing field is a KeyError here. Tests compare the result with `BatchEvent(**values)`.
    """
    event: BatchEvent = object.__new__(BatchEvent)
    attributes = event.__dict__
    for name in _EVENT_FIELDS:
        attributes[name] = values[name]
    return event


_EVENT_FIELDS = tuple(f.name for f in fields(BatchEvent))


def new_source(  # noqa: PLR0917 - the fields in order, as the class's own __init__ takes them
    msg_id: Optional[str],
    topic_name: Optional[str],
    subscription_name: Optional[str],
    publish_time: Optional[str],
    tags: tuple[str, ...],
    request_id: Optional[str],
    index: int,
) -> SourceRecord:
    """`SourceRecord(...)` with every field, without the frozen dataclass's per-field __setattr__
    (one per trigger record); fields stored in declaration order. Tests compare it with the class."""
    source: SourceRecord = object.__new__(SourceRecord)
    source.__dict__.update(
        msg_id=msg_id,
        topic_name=topic_name,
        subscription_name=subscription_name,
        publish_time=publish_time,
        tags=tags,
        request_id=request_id,
        index=index,
    )
    return source


@dataclass(frozen=True)
class Rejection:
    """A record (or one event in it) that could not be parsed, and why."""

    msg_id: Optional[str]
    reason: str
    record_index: int
    position: Optional[int] = None


@dataclass(frozen=True)
class ParsedInput:
    """Everything one invocation received, parsed."""

    records: int
    events: tuple[BatchEvent, ...]
    rejections: tuple[Rejection, ...]
    sources: tuple[SourceRecord, ...] = field(default=())

    @property
    def known_events(self) -> tuple[BatchEvent, ...]:
        """The events whose names are among the 19."""
        return tuple(e for e in self.events if e.known)

    @property
    def unknown_events(self) -> tuple[BatchEvent, ...]:
        """Events with a name outside the 19: kept for the count, ignored by every function."""
        return tuple(e for e in self.events if not e.known)
