"""The node_event line: one flat JSON object per compute-node or compute-env event."""

from __future__ import annotations

from datetime import datetime, timezone

from shared.catalogue import Category, EventName
from shared.envelope import field_number, field_text, parse_time, parse_vars
from shared.models import BatchEvent, SourceRecord

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

NODE_EVENT = "node_event"
CHURN_SUMMARY = "churn_summary"
CHURN_CATEGORIES = frozenset({Category.COMPUTE_NODE, Category.COMPUTE_ENV})
CHURN_NAMES = frozenset(name.value for name in EventName if name.category in CHURN_CATEGORIES)


def is_churn_event(event: BatchEvent) -> bool:
    """True for the COMPUTE_NODE_* and COMPUTE_ENV_* events (job and task events are not churn)."""
    return event.category in CHURN_CATEGORIES


# What `YYYY-MM-DDTHH:MM:SSZ` holds at 4, 7, 10, 13, 16 and 19 (every third character from the fifth):
# with its length, the shape of the text Batch sends, checked with one slice.
_SEPARATORS = "--T::Z"


def iso_of(moment: Optional[datetime], text: Any) -> Optional[str]:
    """`iso(moment)`, taking the text it was parsed from when that is already the same
    (`YYYY-MM-DDTHH:MM:SSZ`, what Batch sends): two isoformat calls per line saved."""
    if (
        moment is not None
        and type(text) is str
        and len(text) == 20
        and text[4::3] == _SEPARATORS
        and not moment.microsecond
    ):
        # Exactly the extended form (3.11's fromisoformat also reads basic and week dates, and a
        # padded text of the same length): only then is the text what iso(moment) would write.
        return text
    return iso(moment)


def utc_time(text: Any) -> tuple[Optional[datetime], Optional[str]]:
    """`parse_time(text)` and `iso_of` it, at once: `YYYY-MM-DDTHH:MM:SSZ` (what Batch sends) is
    read with one fromisoformat call, the very call parse_time makes for it, and is its own ISO text
    (0.6 us against 0.9 for the two functions on Python 3.9; tests/churn_paths.py holds the two equal,
    under 3.9 too). Any other text, and one of this shape fromisoformat refuses (a leading space, which
    parse_time would strip, among them), is theirs."""
    if type(text) is str and len(text) == 20 and text[4::3] == _SEPARATORS:
        try:
            moment = _FROM_ISO(text[:19] + "+00:00")
        except ValueError:
            moment = None  # not a time: parse_time's other readings are tried below
        if moment is not None and moment.tzinfo is timezone.utc:
            return moment, text
    moment = parse_time(text)
    return moment, iso_of(moment, text)


_FROM_ISO = datetime.fromisoformat


def iso(moment: Optional[datetime]) -> Optional[str]:
    """An aware datetime as ISO 8601 in UTC (`2026-11-20T08:35:00Z`); None stays None."""
    if moment is None:
        return None
    # The envelope's times are already in UTC (`...Z`): only others need converting.
    utc = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    # `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` cut to whole milliseconds: what timespec="milliseconds"
    # writes, without its cost (two per node_event line); a test holds the two equal.
    return utc.isoformat()[: 23 if utc.microsecond else 19] + "Z"


def node_age_s(event: BatchEvent) -> Optional[float]:
    """EventTime minus ResourceCreatedTime in seconds; None when either is missing or unreadable.

    Kept as Batch says it, even negative: the seed's own example has the resource created one
    second after the event, so a small negative age is clock skew, not a parsing error.
    """
    return age_between(event.time, event.resource_created_time)


def age_between(moment: Optional[datetime], created: Optional[datetime]) -> Optional[float]:
    """node_age_s from the two times: whole seconds as an int, else rounded to milliseconds."""
    if moment is None or created is None:
        return None
    seconds = (moment - created).total_seconds()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def node_event_record(event: BatchEvent) -> dict[str, Any]:
    """The fields of the node_event line, all top-level so that CLS indexes each one."""
    return {
        "kind": NODE_EVENT,
        "event": event.name_raw,
        "region": event.region,
        "env_id": event.env_id,
        "env_name": event.env_name,
        "node_id": event.node_id,
        "instance_id": event.instance_id,
        "node_state": event.node_state,
        "cpu": event.cpu,
        "mem": event.mem,
        "event_time": iso_of(event.time, event.raw.get("EventTime")),
        "resource_created_time": iso_of(event.resource_created_time, event.batch.get("ResourceCreatedTime")),
        "node_age_s": node_age_s(event),
        "state_reason": event.state_reason,
        "event_vars": dict(event.vars),
        "msg_id": event.source.msg_id,
        "position": event.position,
    }


def plain_record(entry: Any, source: SourceRecord, position: int) -> Optional[dict[str, Any]]:
    """`node_event_record(parse_batch_event(entry, source, position))`, built straight from the entry,
    for a churn event the envelope would have nothing to say about: an object whose EventName is one
    of the 7 compute-node and compute-env names, whose Batch is an object, and whose two times are
    readable or absent. None for any other entry, which the caller parses as it is (a rejection, an
    unknown or non-churn event, a time it warns about).

    The event itself (26 fields, 13 of them unused here) is not built: on Python 3.9 that and reading
    it back were a third of an event's time. The fields are read with the envelope's own converters;
    tests/test_churn_stream.py holds the two equal on hostile entries and on every sample.
    """
    if type(entry) is not dict:
        return None
    name = entry.get("EventName")
    if type(name) is not str:
        return None
    name = name.strip()
    if name not in CHURN_NAMES:
        return None
    batch = entry.get("Batch")
    if type(batch) is not dict:
        return None
    time_text = entry.get("EventTime")
    moment, moment_iso = utc_time(time_text)
    if moment is None and field_text(time_text):
        return None  # the envelope keeps the event with a warning: the caller's
    get = batch.get
    created_text = get("ResourceCreatedTime")
    created, created_iso = utc_time(created_text)
    if created is None and field_text(created_text):
        return None
    return {
        "kind": NODE_EVENT,
        "event": name,
        "region": field_text(entry.get("Region")),
        "env_id": field_text(get("EnvId")),
        "env_name": field_text(get("EnvName")),
        "node_id": field_text(get("ComputeNodeId")),
        "instance_id": field_text(get("ComputeNodeInstanceId")),
        "node_state": field_text(get("ComputeNodeState")),
        "cpu": field_number(get("Cpu")),
        "mem": field_number(get("Mem")),
        "event_time": moment_iso,
        "resource_created_time": created_iso,
        "node_age_s": age_between(moment, created),
        "state_reason": field_text(get("StateReason")),
        "event_vars": parse_vars(entry.get("EventVars")),
        "msg_id": source.msg_id,
        "position": position,
    }
