"""log_node_churn written by hand: dict access, `print(json.dumps(...))`, nothing shared.

The yardstick of the throughput target. It does the function's observable work on a CMQ-trigger
event: the same node_event lines (same fields, same values), one line per event even when delivered
twice, a `record rejected` line for each body or entry that is no Batch event, one churn_summary line
per environment and the invocation's summary. What it leaves out is what the shared code adds for
safety: no scrubbing of secrets, no clipping of huge fields, no sanitising of lone surrogates or deep
nesting, no isolation of a record whose handling raises. Standard library only, Python 3.9 syntax.
"""

from __future__ import annotations

import base64
import binascii
import json
import statistics
import time
from datetime import datetime, timezone
from typing import Any, Optional

FUNCTION = "log_node_churn"
# The 19 event names Batch publishes; the churn events are the compute-node and compute-env ones.
CHURN_EVENTS = frozenset(
    {
        "COMPUTE_ENV_CREATED",
        "COMPUTE_ENV_DELETED",
        "COMPUTE_NODE_CREATED",
        "COMPUTE_NODE_CREATION_FAILED",
        "COMPUTE_NODE_RUNNING",
        "COMPUTE_NODE_ABNORMAL",
        "COMPUTE_NODE_DELETING",
    }
)
KNOWN_EVENTS = CHURN_EVENTS | {
    f"{kind}_{state}"
    for kind in ("JOB", "TASK", "TASK_INSTANCE")
    for state in ("RUNNING", "SUCCEED", "FAILED", "FAILED_INTERRUPTED")
}


EMPTY_SUMMARY = dict.fromkeys(
    ("records", "events", "rejected", "unknown", "bad_times", "node_events", "duplicates", "environments"), 0
)


class Rejected(Exception):
    """This body or entry is no Batch event."""


def _text(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value.strip() or None
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).strip() or None


def _number(value: Any) -> Optional[float]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> Optional[datetime]:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: Optional[datetime]) -> Optional[str]:
    """An aware UTC time as `2026-11-20T08:35:00Z` (milliseconds when it has a fraction)."""
    if moment is None:
        return None
    return moment.isoformat()[: 23 if moment.microsecond else 19] + "Z"


def _vars(value: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(value, dict):
        return {str(k): _var_text(v) for k, v in value.items()}
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict) and item.get("Name", item.get("name")) not in (None, ""):
            out[str(item.get("Name", item.get("name")))] = _var_text(item.get("Value", item.get("value")))
    return out


def _var_text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def decode(body: Any) -> list[Any]:
    """The Events list of one message body: JSON text or base64 of it."""
    if not isinstance(body, str) or not body.strip():
        raise Rejected("msgBody is empty or not text")
    text = body.strip()
    if text[0] not in "{[":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise Rejected("msgBody is neither JSON nor base64 of JSON") from None
    try:
        message = json.loads(text)
    except ValueError:
        raise Rejected("msgBody is not valid JSON") from None
    events = message.get("Events") if isinstance(message, dict) else None
    if not isinstance(events, list) or not events:
        raise Rejected("message has no Events list")
    return events


def node_event(entry: dict[str, Any], msg_id: Optional[str], position: int) -> dict[str, Any]:
    """The node_event fields of one event."""
    batch = entry.get("Batch") or {}
    when = _time(entry.get("EventTime"))
    created = _time(batch.get("ResourceCreatedTime"))
    age: Optional[float] = None
    if when is not None and created is not None:
        seconds = (when - created).total_seconds()
        age = int(seconds) if seconds.is_integer() else round(seconds, 3)
    return {
        "kind": "node_event",
        "event": entry["EventName"].strip(),
        "region": _text(entry.get("Region")),
        "env_id": _text(batch.get("EnvId")),
        "env_name": _text(batch.get("EnvName")),
        "node_id": _text(batch.get("ComputeNodeId")),
        "instance_id": _text(batch.get("ComputeNodeInstanceId")),
        "node_state": _text(batch.get("ComputeNodeState")),
        "cpu": _number(batch.get("Cpu")),
        "mem": _number(batch.get("Mem")),
        "event_time": iso(when),
        "resource_created_time": iso(created),
        "node_age_s": age,
        "state_reason": _text(batch.get("StateReason")),
        "event_vars": _vars(entry.get("EventVars")),
        "msg_id": msg_id,
        "position": position,
    }


def _spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"min": None, "median": None, "max": None, "known": 0}

    def tidy(v: float) -> float:
        return int(v) if float(v).is_integer() else round(v, 3)

    values.sort()
    return {
        "min": tidy(values[0]),
        "median": tidy(statistics.median(values)),
        "max": tidy(values[-1]),
        "known": len(values),
    }


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def summary(env_id: Optional[str], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The churn_summary fields of one environment's node_event lines."""
    counts: dict[str, int] = {}
    nodes, abnormal, attempted, failed = set(), set(), set(), set()
    ages: list[float] = []
    lifetimes: list[float] = []
    env_name = region = None
    for line in lines:
        event = line["event"]
        counts[event] = counts.get(event, 0) + 1
        env_name = line["env_name"] or env_name
        region = line["region"] or region
        if not event.startswith("COMPUTE_NODE_"):
            continue
        node = line["node_id"] or line["instance_id"] or "?" + event_key(line)
        nodes.add(node)
        if event == "COMPUTE_NODE_ABNORMAL":
            abnormal.add(node)
        if event in ("COMPUTE_NODE_CREATED", "COMPUTE_NODE_CREATION_FAILED"):
            attempted.add(node)
        if event == "COMPUTE_NODE_CREATION_FAILED":
            failed.add(node)
        if line["node_age_s"] is not None:
            ages.append(max(0.0, float(line["node_age_s"])))
            if event == "COMPUTE_NODE_DELETING":
                lifetimes.append(ages[-1])
    return {
        "kind": "churn_summary",
        "env_id": env_id,
        "env_name": env_name,
        "region": region,
        "events": len(lines),
        "counts": dict(sorted(counts.items())),
        "nodes_seen": len(nodes),
        "abnormal_nodes": len(abnormal),
        "abnormal_rate": _rate(len(abnormal), len(nodes)),
        "creation_attempts": len(attempted),
        "creation_failures": len(failed),
        "creation_failure_rate": _rate(len(failed), len(attempted)),
        "node_age_s": _spread(ages),
        "lifetime_s": _spread(lifetimes),
    }


def event_key(line: dict[str, Any]) -> str:
    """What makes one event one event: its name, environment, node and time (else its delivery)."""
    if line["event_time"] is None:
        return f"{line['msg_id']}#{line['position']}"
    node = line["node_id"] or line["instance_id"] or ""
    return "|".join((line["event"], line["env_id"] or "", node, line["event_time"]))


def main_handler(event: Any, context: Any) -> dict[str, Any]:
    """The handler: one node_event line per churn event, then the summaries."""
    request_id = context.get("request_id") if isinstance(context, dict) else None
    head = {"level": "INFO", "msg": "node event", "function": FUNCTION}
    if request_id:
        head["request_id"] = request_id

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
    # Each line is printed as its entry is read, as log_node_churn streams a trigger event.
    seen: set[str] = set()
    by_env: dict[Optional[str], list[dict[str, Any]]] = {}
    rejected = events = unknown = duplicates = 0
    for index, record in enumerate(records):
        cmq = record.get("CMQ") if isinstance(record, dict) else None
        msg_id = _text(cmq.get("msgId")) if isinstance(cmq, dict) else None
        try:
            if not isinstance(cmq, dict):
                raise Rejected("record has no CMQ object")
            entries = decode(cmq.get("msgBody"))
        except Rejected as exc:
            reject(msg_id, index, None, str(exc))
            rejected += 1
            continue
        for position, entry in enumerate(entries):
            name = entry.get("EventName") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.strip():
                reject(msg_id, index, position, f"Events[{position}] has no EventName")
                rejected += 1
                continue
            events += 1
            if name.strip() not in KNOWN_EVENTS:
                warning = {"event_name": name.strip(), "msg_id": msg_id, "position": position}
                emit("WARNING", "unknown event name ignored", warning)
                unknown += 1
                continue
            if name.strip() not in CHURN_EVENTS:
                continue
            fields = node_event(entry, msg_id, position)
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
            line = {"ts": round(time.time(), 3), **head, **fields}
            print(json.dumps(line))
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
