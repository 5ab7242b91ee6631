"""log_node_churn with a pydantic model of the Batch message: validation by the model, the rest (node
lines, duplicates, summaries) as the hand-written peer does it. Bench-only (requirements-bench.txt).

mypy checks this file with or without pydantic installed: the ignores below are for its absence.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import datetime, timezone
from typing import Any, Optional, Union

from pydantic import BaseModel, Field, ValidationError  # type: ignore[import-not-found, unused-ignore]

from .handwritten import CHURN_EVENTS, EMPTY_SUMMARY, FUNCTION, KNOWN_EVENTS, event_key, iso, summary


class BatchFields(BaseModel):  # type: ignore[misc, unused-ignore]
    """The `Batch` object of a compute-node or compute-env event (other fields ignored)."""

    EnvId: Optional[str] = None
    EnvName: Optional[str] = None
    ComputeNodeId: Optional[str] = None
    ComputeNodeInstanceId: Optional[str] = None
    ComputeNodeState: Optional[str] = None
    StateReason: Optional[str] = None
    Cpu: Optional[float] = None
    Mem: Optional[float] = None
    ResourceCreatedTime: Optional[datetime] = None


class EventVar(BaseModel):  # type: ignore[misc, unused-ignore]
    """One entry of EventVars."""

    Name: str
    Value: Any = None


class Event(BaseModel):  # type: ignore[misc, unused-ignore]
    """One entry of a Batch message's Events."""

    EventName: str = Field(min_length=1)
    EventTime: Optional[datetime] = None
    Region: Optional[str] = None
    Batch: BatchFields = Field(default_factory=BatchFields)
    EventVars: list[EventVar] = Field(default_factory=list)


class Message(BaseModel):  # type: ignore[misc, unused-ignore]
    """A Batch message."""

    Events: list[Event] = Field(min_length=1)


def _text(value: Optional[str]) -> Optional[str]:
    return (value.strip() or None) if value else None


def _utc(moment: Optional[datetime]) -> Optional[datetime]:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def node_event(event: Event, msg_id: Optional[str], position: int) -> dict[str, Any]:
    """The node_event fields of one validated event."""
    batch = event.Batch
    when, created = _utc(event.EventTime), _utc(batch.ResourceCreatedTime)
    age: Optional[float] = None
    if when is not None and created is not None:
        seconds = (when - created).total_seconds()
        age = int(seconds) if seconds.is_integer() else round(seconds, 3)
    return {
        "kind": "node_event",
        "event": event.EventName.strip(),
        "region": _text(event.Region),
        "env_id": _text(batch.EnvId),
        "env_name": _text(batch.EnvName),
        "node_id": _text(batch.ComputeNodeId),
        "instance_id": _text(batch.ComputeNodeInstanceId),
        "node_state": _text(batch.ComputeNodeState),
        "cpu": batch.Cpu,
        "mem": batch.Mem,
        "event_time": iso(when),
        "resource_created_time": iso(created),
        "node_age_s": age,
        "state_reason": _text(batch.StateReason),
        "event_vars": {
            v.Name: "" if v.Value is None else v.Value if isinstance(v.Value, str) else json.dumps(v.Value)
            for v in event.EventVars
            if v.Name
        },
        "msg_id": msg_id,
        "position": position,
    }


def _events(body: Any) -> list[tuple[Optional[int], Union[Event, str]]]:
    """Each entry of one body in order, as (position, its Event or the reason it is rejected); one
    (None, reason) when the body itself is no message."""
    if not isinstance(body, str) or not body.strip():
        return [(None, "msgBody is empty or not text")]
    text = body.strip()
    if text[0] not in "{[":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return [(None, "msgBody is neither JSON nor base64 of JSON")]
    try:
        return list(enumerate(Message.model_validate_json(text).Events))
    except ValidationError:
        pass
    # One bad entry must not cost the others: validate them one by one.
    try:
        message = json.loads(text)
    except ValueError:
        return [(None, "msgBody is not valid JSON")]
    entries = message.get("Events") if isinstance(message, dict) else None
    if not isinstance(entries, list) or not entries:
        return [(None, "message has no Events list")]
    read: list[tuple[Optional[int], Union[Event, str]]] = []
    for position, entry in enumerate(entries):
        try:
            read.append((position, Event.model_validate(entry)))
        except ValidationError as exc:
            read.append((position, f"Events[{position}] is invalid: {exc.error_count()} error(s)"))
    return read


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """The handler: one node_event line per churn event, then the summaries."""
    request_id = context.get("request_id") if isinstance(context, dict) else None

    def emit(level: str, msg: str, fields: dict[str, Any]) -> None:
        line = {"ts": round(time.time(), 3), "level": level, "msg": msg, "function": FUNCTION}
        if request_id:
            line["request_id"] = request_id
        line.update(fields)
        print(json.dumps(line))

    def reject(msg_id: Optional[str], index: int, position: Optional[int], reason: str) -> None:
        fields = {"msg_id": msg_id, "record_index": index, "position": position, "reason": reason}
        emit("WARNING", "record rejected", fields)

    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        reject(None, 0, None, "event is not a CMQ trigger event")
        result = dict(EMPTY_SUMMARY, records=1, rejected=1)
        emit("INFO", "summary", {"summary": result})
        return result
    # Each line is written as its entry is read, as log_node_churn streams a trigger event.
    seen: set[str] = set()
    by_env: dict[Optional[str], list[dict[str, Any]]] = {}
    rejected = events = unknown = duplicates = 0
    for index, record in enumerate(records):
        cmq = record.get("CMQ") if isinstance(record, dict) else None
        if not isinstance(cmq, dict):
            reject(None, index, None, "record has no CMQ object")
            rejected += 1
            continue
        msg_id = _text(cmq.get("msgId"))
        for position, parsed in _events(cmq.get("msgBody")):
            if isinstance(parsed, str) or position is None:
                reject(msg_id, index, position, str(parsed))
                rejected += 1
                continue
            events += 1
            name = parsed.EventName.strip()
            if name not in KNOWN_EVENTS:
                emit(
                    "WARNING",
                    "unknown event name ignored",
                    {"event_name": name, "msg_id": msg_id, "position": position},
                )
                unknown += 1
                continue
            if name not in CHURN_EVENTS:
                continue
            fields = node_event(parsed, msg_id, position)
            key = event_key(fields)
            if key in seen:
                duplicates += 1
                emit(
                    "INFO",
                    "duplicate node event skipped",
                    {"msg_id": msg_id, "position": position, "event_key": key},
                )
                continue
            seen.add(key)
            by_env.setdefault(fields["env_id"], []).append(fields)
            emit("INFO", "node event", fields)
    envs = sorted(by_env, key=lambda e: (e is None, e or ""))
    for env_id in envs:
        emit("INFO", "churn summary", summary(env_id, by_env[env_id]))
    result = {
        "records": len(records),
        "events": events,
        "rejected": rejected,
        "unknown": unknown,
        "bad_times": 0,
        "node_events": sum(len(v) for v in by_env.values()),
        "duplicates": duplicates,
        "environments": len(envs),
    }
    emit("INFO", "summary", {"summary": result})
    return result
