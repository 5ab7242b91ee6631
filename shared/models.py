"""Domain objects the handlers use: plain snake_case attributes over the cloud's field names."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from functools import cached_property, partial

from .catalogue import Category, EventName
from .record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

# The canonical text of an event, for its fingerprint: keys sorted, no spaces. Built once (json.dumps
# with these options would build an encoder per call, costing as much as the encoding).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def fingerprint(entry: Mapping[str, Any]) -> str:
    """A content hash of one event: the same event republished under another msgId matches."""
    from .digest import sha256  # only the alert path asks for fingerprints

    # surrogatepass: the envelope replaces lone surrogates, and a hash must never be what raises.
    return sha256(_CANONICAL.encode(entry).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SourceRecord(NamedTuple):
    """Where a Batch message came from: one CMQ record (or a manual invoke)."""

    msg_id: Optional[str]
    topic_name: Optional[str] = None
    subscription_name: Optional[str] = None
    publish_time: Optional[str] = None
    tags: tuple[str, ...] = ()
    request_id: Optional[str] = None
    index: int = 0  # type: ignore[assignment]  # the field shadows tuple.index, on purpose


class BatchEvent:
    """One Batch lifecycle event, parsed. Immutable; equal when every field is.

    A plain class, not a dataclass (importing dataclasses and building the class cost a cold start
    milliseconds) and not a NamedTuple (`fingerprint` is cached on the instance). The envelope fills
    one straight into its __dict__ (`blank_event`), without keyword-argument passing.
    """

    # The fields, in FIELDS order (annotations only: __init__ and blank_event store them).
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
    problems: tuple[str, ...]  # what the envelope could not use but kept going (a time out of range)

    def __init__(  # noqa: PLR0917 - one parameter per field, as the dataclass had
        self,
        name: Optional[EventName],
        name_raw: str,
        version: Optional[str],
        time: Optional[datetime],
        region: Optional[str],
        job_id: Optional[str],
        job_name: Optional[str],
        task_name: Optional[str],
        task_instance_index: Optional[int],
        env_id: Optional[str],
        env_name: Optional[str],
        node_id: Optional[str],
        instance_id: Optional[str],
        node_state: Optional[str],
        state: Optional[str],
        state_reason: Optional[str],
        exit_code: Optional[int],
        cpu: Optional[float],
        mem: Optional[float],
        resource_created_time: Optional[datetime],
        vars: Mapping[str, str],
        batch: Mapping[str, Any],
        raw: Mapping[str, Any],
        source: SourceRecord,
        position: int,
        problems: tuple[str, ...] = (),
    ) -> None:
        values = locals()
        attributes = self.__dict__
        for field_name in FIELDS:
            attributes[field_name] = values[field_name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"BatchEvent is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"BatchEvent is immutable: cannot delete {name!r}")

    def values(self) -> tuple[Any, ...]:
        """Every field's value, in FIELDS order."""
        attributes = self.__dict__
        return tuple(attributes[name] for name in FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not BatchEvent:
            return NotImplemented
        return self.values() == other.values()

    def __hash__(self) -> int:  # as a frozen dataclass's: raises when a field (a mapping) is unhashable
        return hash(self.values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(FIELDS, self.values()))
        return f"BatchEvent({shown})"

    def replace(self, **changes: Any) -> BatchEvent:
        """A copy with some fields changed (dataclasses.replace, for tests and tools)."""
        return BatchEvent(**{**dict(zip(FIELDS, self.values())), **changes})

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


FIELDS: tuple[str, ...] = (
    "name",
    "name_raw",
    "version",
    "time",
    "region",
    "job_id",
    "job_name",
    "task_name",
    "task_instance_index",
    "env_id",
    "env_name",
    "node_id",
    "instance_id",
    "node_state",
    "state",
    "state_reason",
    "exit_code",
    "cpu",
    "mem",
    "resource_created_time",
    "vars",
    "batch",
    "raw",
    "source",
    "position",
    "problems",
)


_BLANK: dict[str, Any] = {**dict.fromkeys(FIELDS), "problems": ()}
# Before 3.11 a copied dict is as small as the instance's own and half the cost to fill; from 3.11 the
# instance's own is smaller (its keys shared with the class's other instances) and as fast.
_KEY_SHARING_COPY = sys.version_info < (3, 11)


def new_source(  # noqa: PLR0917 - the fields in order, as the class's own __init__ takes them
    msg_id: Optional[str],
    topic_name: Optional[str],
    subscription_name: Optional[str],
    publish_time: Optional[str],
    tags: tuple[str, ...],
    request_id: Optional[str],
    index: int,
) -> SourceRecord:
    """`SourceRecord(...)` with every field, positional (one per trigger record)."""
    return _new_source((msg_id, topic_name, subscription_name, publish_time, tags, request_id, index))


_new_source = partial(tuple.__new__, SourceRecord)


def blank_event() -> tuple[BatchEvent, dict[str, Any]]:
    """A BatchEvent whose every field is None (problems: ()), in FIELDS order, and its attribute dict
    for the envelope to fill in place. On 3.9 and 3.10 the dict is a copy of a blank one, set as the
    instance's: half the cost of filling the instance's own dict key by key (which grows it three
    times), with the same size. Tests compare what the envelope builds with `BatchEvent(**fields)`."""
    event: BatchEvent = object.__new__(BatchEvent)
    if _KEY_SHARING_COPY:
        attributes = _BLANK.copy()
        object.__setattr__(event, "__dict__", attributes)
    else:  # 3.11+: the instance's own dict keeps the key table its class shares (280 bytes, not 832)
        attributes = event.__dict__
        attributes.update(_BLANK)
    return event, attributes


class Rejection(NamedTuple):
    """A record (or one event in it) that could not be parsed, and why."""

    msg_id: Optional[str]
    reason: str
    record_index: int
    position: Optional[int] = None


class ParsedInput(NamedTuple):
    """Everything one invocation received, parsed."""

    records: int
    events: tuple[BatchEvent, ...]
    rejections: tuple[Rejection, ...]
    sources: tuple[SourceRecord, ...] = ()

    @property
    def known_events(self) -> tuple[BatchEvent, ...]:
        """The events whose names are among the 19."""
        return tuple(e for e in self.events if e.known)

    @property
    def unknown_events(self) -> tuple[BatchEvent, ...]:
        """Events with a name outside the 19: kept for the count, ignored by every function."""
        return tuple(e for e in self.events if not e.known)
