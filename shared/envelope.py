"""CMQ record -> msgBody -> Batch `Events[]`: check each wrapper, then parse what is inside it.

Every record is accounted for: a record whose body cannot be read becomes exactly one
rejection; otherwise each entry of its `Events` list becomes one event or one rejection.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import datetime, timezone

from .catalogue import EventName
from .models import BatchEvent, ParsedInput, Rejection, SourceRecord, blank_event, new_source
from .text import clean_text, has_surrogate

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Mapping, Optional, Sequence


class _Reject(Exception):
    """Internal: this wrapper or event cannot be parsed, for the reason given."""


def parse_trigger_event(event: Any, topics: Iterable[str] = ()) -> ParsedInput:
    """Parse an SCF CMQ-topic trigger event, or a bare Batch message passed directly."""
    allowed = frozenset(topics)
    if isinstance(event, dict) and "Records" in event:
        records = event["Records"]
        if not isinstance(records, list):
            return _rejected_input("event.Records is not a list")
        return _parse_records(records, allowed)
    if isinstance(event, dict) and "Events" in event:
        source = SourceRecord(msg_id=None)
        events, rejections = parse_message(event, source)
        return ParsedInput(1, tuple(events), tuple(rejections), (source,))
    return _rejected_input("event is neither a CMQ trigger event (Records) nor a Batch message (Events)")


def parse_bodies(items: Sequence[tuple[SourceRecord, Any]]) -> ParsedInput:
    """Parse messages that arrive without the trigger envelope (queue messages, HTTP pushes)."""
    events: list[BatchEvent] = []
    rejections: list[Rejection] = []
    for source, body in items:
        got, bad = parse_message(body, source)
        events.extend(got)
        rejections.extend(bad)
    return ParsedInput(len(items), tuple(events), tuple(rejections), tuple(s for s, _ in items))


def _rejected_input(reason: str) -> ParsedInput:
    return ParsedInput(1, (), (Rejection(msg_id=None, reason=reason, record_index=0),))


def _parse_records(records: list[Any], allowed: frozenset[str]) -> ParsedInput:
    events: list[BatchEvent] = []
    rejections: list[Rejection] = []
    sources: list[SourceRecord] = []
    for index, record in enumerate(records):
        source, body, rejection = record_message(record, index, allowed)
        if source is not None:
            sources.append(source)
        if rejection is not None:
            rejections.append(rejection)
            continue
        assert source is not None  # noqa: S101 - record_message gives a source with every body
        got, bad = parse_message(body, source)
        events.extend(got)
        rejections.extend(bad)
    return ParsedInput(len(records), tuple(events), tuple(rejections), tuple(sources))


def record_message(
    record: Any, index: int, allowed: frozenset[str] = frozenset()
) -> tuple[Optional[SourceRecord], Any, Optional[Rejection]]:
    """One record of a CMQ-trigger event: its source, its msgBody and None; or, when the wrapper
    cannot be used, its source (None without a CMQ object), None and the rejection it is. Every
    reader of trigger records goes through it (the reference path above, log_node_churn's stream)."""
    cmq = record.get("CMQ") if isinstance(record, dict) else None
    if not isinstance(cmq, dict):
        return None, None, Rejection(None, "record has no CMQ object", index)
    source = source_from_cmq(cmq, index)
    if allowed and source.topic_name not in allowed:
        reason = f"topic {source.topic_name!r} is not in BATCH_TOPIC_NAMES"
        return source, None, Rejection(source.msg_id, reason, index)
    if "msgBody" not in cmq:
        return source, None, Rejection(source.msg_id, "record has no msgBody", index)
    return source, cmq["msgBody"], None


def source_from_cmq(cmq: Mapping[str, Any], index: int = 0) -> SourceRecord:
    """The source fields of one CMQ record (field names as the trigger sends them)."""
    get = cmq.get
    return new_source(
        _outer_str(get("msgId")),
        _outer_str(get("topicName")),
        _outer_str(get("subscriptionName")),
        _outer_str(get("publishTime")),
        parse_tags(get("msgTag")),
        _outer_str(get("requestId")),
        index,
    )


def _outer_str(value: Any) -> Optional[str]:
    """A field of the wrapper around msgBody (not sanitised with it): no lone surrogate, at most 1 KB."""
    if type(value) is str and len(value) <= 1024 and value.isascii():  # msgId, topicName: nearly always
        return value.strip() or None
    text = _opt_str(value)
    return clean_text(text[:1024]) if text else None


def parse_tags(value: Any) -> tuple[str, ...]:
    """`msgTag` as a list or a comma string (both appear in Tencent's docs)."""
    if not value:  # the usual case: Batch publishes without tags
        return ()
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return ()
    tags = (_outer_str(t) for t in items if not isinstance(t, (dict, list)))
    return tuple(t for t in tags if t)


def parse_message(body: Any, source: SourceRecord) -> tuple[list[BatchEvent], list[Rejection]]:
    """Parse one Batch message (JSON text, base64 of it, or already a dict) into events."""
    entries, rejection = message_entries(body, source)
    if rejection is not None:
        return [], [rejection]
    events: list[BatchEvent] = []
    rejections: list[Rejection] = []
    for position, entry in enumerate(entries):
        try:
            events.append(parse_batch_event(entry, source, position))
        except _Reject as exc:
            rejections.append(_entry_rejection(exc, source, position))
    return events, rejections


def message_entries(body: Any, source: SourceRecord) -> tuple[list[Any], Optional[Rejection]]:
    """The `Events` list of one Batch message and None, or an empty list and the rejection the
    message is. Each entry is then parse_batch_event's (or, for log_node_churn, its own fast path's)."""
    try:
        message = decode_body(body)
        entries = message.get("Events")
        if not isinstance(entries, list):
            raise _Reject("message has no Events list")
        if not entries:
            raise _Reject("message has an empty Events list")
    except _Reject as exc:
        return [], Rejection(source.msg_id, str(exc), source.index)
    return entries, None


def parse_entry(
    entry: Any, source: SourceRecord, position: int
) -> tuple[Optional[BatchEvent], Optional[Rejection]]:
    """One entry of `Events` as parse_message reads it: its event and None, or None and its rejection."""
    try:
        return parse_batch_event(entry, source, position), None
    except _Reject as exc:
        return None, _entry_rejection(exc, source, position)


def _entry_rejection(exc: Exception, source: SourceRecord, position: int) -> Rejection:
    return Rejection(source.msg_id, str(exc), source.index, position)


def decode_body(body: Any) -> Mapping[str, Any]:
    """msgBody as a dict: it may be JSON text, base64 of JSON text, bytes, or a dict already."""
    if isinstance(body, dict):
        return _sanitised(body, None)
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise _Reject("msgBody is not UTF-8 text") from None
    if not isinstance(body, str):
        raise _Reject(f"msgBody is a {type(body).__name__}, not text")
    text = body.strip()
    if not text:
        raise _Reject("msgBody is empty")
    if text[0] in "{[":
        parsed = _loads(text, "msgBody is not valid JSON")
    else:
        try:
            raw = base64.b64decode(text, validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            raise _Reject("msgBody is neither JSON nor base64 of JSON") from None
        parsed = _loads(decoded, "msgBody is base64 but not of JSON")
        text = decoded
    if not isinstance(parsed, dict):
        raise _Reject("msgBody JSON is not an object")
    return _sanitised(parsed, text)


# json.loads skips surrounding whitespace with two regex matches per call; str.strip is cheaper,
# then the decoder is asked directly and anything after the JSON value is refused, as json.loads does.
_DECODER = json.JSONDecoder()
_JSON_WHITESPACE = " \t\n\r"  # only these: a no-break space around base64-wrapped JSON stays an error


def _loads(text: str, reason: str) -> Any:
    text = text.strip(_JSON_WHITESPACE)
    try:
        value, end = _DECODER.raw_decode(text)
    except ValueError:
        raise _Reject(reason) from None
    except RecursionError:  # nesting at the parser's own edge (about 1,000 levels, less in a deep stack)
        raise _Reject(f"msgBody nests deeper than {MAX_DEPTH} levels") from None
    if end != len(text):
        raise _Reject(reason)
    return value


# Deeper than this inside one message is a rejection: nothing Batch sends nests beyond a few levels,
# and every later stage (fingerprint, log lines, chat bodies) re-encodes what it gets.
MAX_DEPTH = 64
# Python refuses to print an int of more than 4,300 digits (3.11+, sys.set_int_max_str_digits); 3.9 and
# 3.10 would print it slowly. A number that large is no Batch field: the message is refused.
MAX_INT_BITS = 14_000
_MAX_DIGITS = 4000  # a number this long is past MAX_INT_BITS
_LONG_NUMBER = re.compile(rf"\d{{{_MAX_DIGITS}}}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a JSON escape of U+D800-U+DFFF


def _sanitised(message: dict[str, Any], text: Optional[str]) -> dict[str, Any]:
    """The message, made safe for every later stage: lone surrogates become U+FFFD, nesting deeper than
    MAX_DEPTH and unprintable numbers are a rejection. `text` is the JSON it was parsed from (None for a
    dict handed in already): when it has no surrogate escape and too few brackets to nest that deep,
    the walk is skipped, as it is for nearly every Batch message."""
    if text is not None:
        brackets = text.count("{") + text.count("[")
        surrogates = "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
        surrogates = surrogates or has_surrogate(text)
        # Python 3.9.14+ and 3.10.7+ already refuse a number that long while parsing; older ones do not.
        long_number = len(text) > _MAX_DIGITS and _LONG_NUMBER.search(text) is not None
        if brackets <= MAX_DEPTH and not surrogates and not long_number:
            return message
    cleaned = _clean(message, 0)
    assert isinstance(cleaned, dict)  # noqa: S101 - _clean keeps a value's type
    return cleaned


def _clean(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            raise _Reject(f"msgBody nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, list):
            return [_clean(item, depth + 1) for item in value]
        return {_clean(str(k), depth + 1): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise _Reject("msgBody holds a number too large to print")
    return value


def parse_batch_event(entry: Any, source: SourceRecord, position: int) -> BatchEvent:
    """One entry of `Events` as a BatchEvent; unknown names are kept with name=None."""
    if not isinstance(entry, dict):
        raise _Reject(f"Events[{position}] is not an object")
    name_raw = entry.get("EventName")
    name_text = name_raw.strip() if isinstance(name_raw, str) else ""
    if not name_text:
        raise _Reject(f"Events[{position}] has no EventName")
    batch = entry.get("Batch")
    if batch is None:
        batch = {}
    if not isinstance(batch, dict):
        raise _Reject(f"Events[{position}].Batch is not an object")
    event, values = blank_event()
    # One pass over the fields Batch sent (about 8) rather than a lookup of each of the 14 we map.
    for key, value in batch.items():
        spec = _BATCH_FIELDS.get(key)
        if spec is not None:
            values[spec[0]] = spec[1](value)
    event_time = parse_time(entry.get("EventTime"))
    if event_time is None and _opt_str(entry.get("EventTime")):
        values["problems"] = (
            f"EventTime {_opt_str(entry.get('EventTime'))!r:.80} is not a time representable in UTC",
        )
    if values["resource_created_time"] is None and _opt_str(batch.get("ResourceCreatedTime")):
        values["problems"] += ("Batch.ResourceCreatedTime is not a time representable in UTC",)
    values["state"] = _state(batch)
    values["name"] = _NAMES.get(name_text)
    values["name_raw"] = name_text
    values["version"] = _opt_str(entry.get("EventVersion"))
    values["time"] = event_time
    values["region"] = _opt_str(entry.get("Region"))
    values["vars"] = parse_vars(entry.get("EventVars"))
    values["batch"] = batch
    values["raw"] = entry
    values["source"] = source
    values["position"] = position
    return event


def _state(batch: Mapping[str, Any]) -> Optional[str]:
    """The resource's state: the first non-empty of `_STATE_KEYS` (compute-node events have none)."""
    for key in _STATE_KEYS:
        value = batch.get(key)
        if value is not None:
            state = _opt_str(value)
            if state:
                return state
    return None


def parse_vars(value: Any) -> dict[str, str]:
    """EventVars as a dict; accepts `Name`/`Value` and `name`/`value`, skips entries without a name."""
    result: dict[str, str] = {}
    if not value:  # the usual case: no variables (any empty or false value gives none)
        return result
    if isinstance(value, dict):
        return {str(k): _var_text(v) for k, v in value.items()}
    if not isinstance(value, list):
        return result
    for item in value:
        if not isinstance(item, dict):
            continue
        key = item.get("Name", item.get("name"))
        if key is None or str(key) == "":
            continue
        result[str(key)] = _var_text(item.get("Value", item.get("value")))
    return result


def _var_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def parse_time(value: Any) -> Optional[datetime]:
    """ISO 8601 (`2018-06-15T14:43:17Z`, with an offset, or naive meaning UTC) as an aware UTC datetime.

    None when the text is no such time, or names one outside datetime's range once in UTC (year 1 at
    +01:00): every later stage can then do arithmetic and formatting in UTC without overflowing.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    if parsed.tzinfo is timezone.utc:
        return parsed
    try:
        return parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def _opt_str(value: Any) -> Optional[str]:
    if isinstance(value, str):  # nearly always: checked first
        return value.strip() or None
    if value is None or isinstance(value, (dict, list)):
        return None
    try:
        text = str(value).strip()
    except ValueError:  # an int past Python's printable digits
        return None
    return text or None


def _opt_int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _opt_float(value: Any) -> Optional[float]:
    if isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


# The converters of the Batch fields (as _BATCH_FIELDS assigns them), for a reader that maps the few
# fields it needs itself: log_node_churn's fast path.
field_text = _opt_str
field_number = _opt_float

_NAMES: dict[str, EventName] = {name.value: name for name in EventName}
# `Batch` field -> (BatchEvent attribute, converter).
_BATCH_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "JobId": ("job_id", _opt_str),
    "JobName": ("job_name", _opt_str),
    "TaskName": ("task_name", _opt_str),
    "TaskInstanceIndex": ("task_instance_index", _opt_int),
    "EnvId": ("env_id", _opt_str),
    "EnvName": ("env_name", _opt_str),
    "ComputeNodeId": ("node_id", _opt_str),
    "ComputeNodeInstanceId": ("instance_id", _opt_str),
    "ComputeNodeState": ("node_state", _opt_str),
    "StateReason": ("state_reason", _opt_str),
    "ExitCode": ("exit_code", _opt_int),
    "Cpu": ("cpu", _opt_float),
    "Mem": ("mem", _opt_float),
    "ResourceCreatedTime": ("resource_created_time", parse_time),
}
# The resource's state, most specific first: a task-instance event may also carry its task's state.
_STATE_KEYS = ("TaskInstanceState", "TaskState", "JobState", "EnvState")
