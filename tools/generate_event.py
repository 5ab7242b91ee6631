"""Write a real-shaped Batch event in an SCF CMQ-topic trigger envelope, like `sam local generate-event`.

    python -m tools.generate_event JOB_FAILED --job-id job-1 --records 3 --base64 > my.json

Field names follow the seed for compute-node events; job and task fields are not publicly
documented (docs/open-points.md), so these samples use the names DescribeJob answers with.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Sequence

from shared.catalogue import Category, EventName, normalise_event_name

BASE_TIME = datetime(2026, 11, 20, 8, 30, 0, tzinfo=timezone.utc)
_STATE = {"RUNNING": "RUNNING", "SUCCEED": "SUCCEED", "FAILED": "FAILED"}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _state_of(name: EventName) -> str:
    if name.is_interrupted:
        return "FAILED_INTERRUPTED"
    return _STATE.get(name.value.rsplit("_", 1)[-1], "FAILED")


def batch_fields(
    name: EventName,
    *,
    job_id: str = "job-5ik2gmv8",
    job_name: str = "render-frames",
    task_name: str = "render",
    index: int = 0,
    env_id: str = "env-ptoxdb1t",
    env_name: str = "batch-env",
    node_id: str = "node-0iy7wxyo",
    instance_id: str = "ins-9rikj9kw",
    created: Optional[datetime] = None,
) -> dict[str, Any]:
    """The `Batch` object of one event of this kind."""
    category = name.category
    if category in (Category.COMPUTE_ENV, Category.COMPUTE_NODE):
        fields: dict[str, Any] = {"EnvId": env_id, "EnvName": env_name}
        if category is Category.COMPUTE_NODE:
            node_state = name.value[len("COMPUTE_NODE_") :]
            fields.update(
                ComputeNodeId=node_id,
                ComputeNodeState=node_state,
                ComputeNodeInstanceId=instance_id,
                Cpu=4,
                Mem=8,
                ResourceCreatedTime=_iso(created or BASE_TIME),
            )
            if name is EventName.COMPUTE_NODE_CREATION_FAILED:
                fields["ComputeNodeInstanceId"] = ""
                fields["StateReason"] = "ResourceInsufficient.SpecifiedInstanceType"
        return fields
    state = _state_of(name)
    fields = {"JobId": job_id, "JobName": job_name, "JobState": state}
    if category in (Category.TASK, Category.TASK_INSTANCE):
        fields.update(TaskName=task_name, TaskState=state)
    if category is Category.TASK_INSTANCE:
        fields.update(TaskInstanceIndex=index, TaskInstanceState=state, ComputeNodeInstanceId=instance_id)
        if state not in ("RUNNING", "SUCCEED"):
            fields.update(ExitCode=137, StateReason="Task instance exited with a non-zero code")
    elif state not in ("RUNNING", "SUCCEED"):
        fields["StateReason"] = f"{category.value} failed"
    return fields


def batch_event(
    name: EventName,
    *,
    region: str = "ap-guangzhou",
    when: Optional[datetime] = None,
    event_vars: Optional[dict[str, str]] = None,
    **fields: Any,
) -> dict[str, Any]:
    """One entry of a Batch message's `Events` list."""
    return {
        "EventVersion": "1.0",
        "EventTime": _iso(when or BASE_TIME + timedelta(minutes=5)),
        "Region": region,
        "Batch": batch_fields(name, **fields),
        "EventName": name.value,
        "EventVars": [{"Name": k, "Value": v} for k, v in (event_vars or {}).items()],
    }


def cmq_record(
    message: Any,
    *,
    msg_id: str,
    topic: str = "batch-events",
    encode_base64: bool = False,
    tags: Any = "",
) -> dict[str, Any]:
    """One `Records[]` entry of the SCF CMQ-topic trigger event."""
    body = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    if encode_base64:
        body = base64.b64encode(body.encode("utf-8")).decode("ascii")
    return {
        "CMQ": {
            "type": "topic",
            "topicOwner": 1250000000,
            "topicName": topic,
            "subscriptionName": "batch-events-scf",
            "publishTime": "2026-11-20T08:35:00Z",
            "msgId": msg_id,
            "requestId": f"req-{msg_id}",
            "msgBody": body,
            "msgTag": tags,
        }
    }


def trigger_event(
    name: EventName,
    *,
    records: int = 1,
    encode_base64: bool = False,
    topic: str = "batch-events",
    msg_id_prefix: str = "msg-0000",
    event_vars: Optional[dict[str, str]] = None,
    region: str = "ap-guangzhou",
    **fields: Any,
) -> dict[str, Any]:
    """A trigger event of `records` records, one event each (instance index / node id vary per record)."""
    out = []
    for n in range(records):
        per_record = dict(fields)
        if name.category is Category.TASK_INSTANCE:
            per_record.setdefault("index", 0)
            per_record["index"] = int(per_record["index"]) + n
        if name.category is Category.COMPUTE_NODE and records > 1:
            per_record["node_id"] = f"{fields.get('node_id', 'node-0iy7wxyo')}-{n}"
        event = batch_event(name, region=region, event_vars=event_vars, **per_record)
        out.append(
            cmq_record(
                {"Events": [event]}, msg_id=f"{msg_id_prefix}{n}", topic=topic, encode_base64=encode_base64
            )
        )
    return {"Records": out}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print (or write) one generated trigger event."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("event_name", help="an event name, e.g. JOB_FAILED (or the old JobFailed)")
    parser.add_argument("--records", type=int, default=1, help="number of CMQ records (default 1)")
    parser.add_argument("--base64", action="store_true", help="base64-encode each msgBody")
    parser.add_argument("--region", default="ap-guangzhou")
    parser.add_argument("--topic", default="batch-events")
    parser.add_argument("--job-id", default="job-5ik2gmv8")
    parser.add_argument("--job-name", default="render-frames")
    parser.add_argument("--task-name", default="render")
    parser.add_argument("--env-id", default="env-ptoxdb1t")
    parser.add_argument("--env-name", default="batch-env")
    parser.add_argument("--node-id", default="node-0iy7wxyo")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="an event var")
    parser.add_argument("--out", help="write to this file instead of stdout")
    args = parser.parse_args(argv)
    try:
        name = normalise_event_name(args.event_name)
    except ValueError as exc:
        parser.error(str(exc))
    if args.records < 1:
        parser.error("--records must be at least 1")
    event_vars = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--var {item!r} is not NAME=VALUE")
        event_vars[key] = value
    event = trigger_event(
        name,
        records=args.records,
        encode_base64=args.base64,
        topic=args.topic,
        region=args.region,
        event_vars=event_vars,
        job_id=args.job_id,
        job_name=args.job_name,
        task_name=args.task_name,
        env_id=args.env_id,
        env_name=args.env_name,
        node_id=args.node_id,
    )
    text = json.dumps(event, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
