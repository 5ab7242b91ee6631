"""Write a real-shaped Batch event in an SCF CMQ-topic trigger envelope, like `sam local generate-event`.

    python -m tools.generate_event JOB_FAILED --job-id job-1 --records 3 --base64 > my.json
    python -m tools.generate_event TASK_INSTANCE_FAILED --records 5 --seed 7 --exit-code 1 --reason OOM
    python -m tools.generate_event COMPUTE_NODE_ABNORMAL --env-id env-1 --time 2026-11-20T09:00:00+08:00
    python -m tools.generate_event --list

Each record holds one event about another resource of the event's kind: JOB_* another job,
TASK_* another task of the job, TASK_INSTANCE_* the next instance index (--index, then +1 per
record), COMPUTE_NODE_* another node and CVM of the environment, COMPUTE_ENV_* another
environment. The first record uses the ids given (the sample's when none is given and --seed is
0); later records' ids and every msgId are derived from --seed, the record number and the given
id, so the same arguments give the same file and no two records are duplicates. The same --seed
and --records give CREATED and DELETING events about the same nodes.

The event time is --time (ISO 8601; an offset is converted to UTC), --now, or a fixed sample
time; node creation times are 5 minutes before it. Writes only to stdout or to --out.

Field names follow the seed for compute-node events; job and task fields are not publicly
documented (docs/open-points.md), so these samples use the names DescribeJob answers with.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import string
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Sequence

from shared.catalogue import EVENT_GROUPS, Category, EventName, normalise_event_name
from shared.envelope import parse_time

BASE_TIME = datetime(2026, 11, 20, 8, 30, 0, tzinfo=timezone.utc)
SAMPLE_TIME = BASE_TIME + timedelta(minutes=5)  # the default event time
NODE_AGE = timedelta(minutes=5)  # a sample node was created this long before its event
_STATE = {"RUNNING": "RUNNING", "SUCCEED": "SUCCEED", "FAILED": "FAILED"}
_ID_CHARS = string.digits + string.ascii_lowercase  # Tencent ids: a prefix and 8 of these

# The sample's ids: what the first record holds with --seed 0 and no id given.
SAMPLE_IDS = {
    "job_id": "job-5ik2gmv8",
    "job_name": "render-frames",
    "task_name": "render",
    "env_id": "env-ptoxdb1t",
    "env_name": "batch-env",
    "node_id": "node-0iy7wxyo",
    "instance_id": "ins-9rikj9kw",
}

MEANINGS: dict[EventName, str] = {
    EventName.JOB_RUNNING: "the job is running",
    EventName.JOB_SUCCEED: "the job succeeded",
    EventName.JOB_FAILED: "the job failed",
    EventName.JOB_FAILED_INTERRUPTED: "the job failed, its CVMs are kept (FailedAction INTERRUPT) and bill",
    EventName.TASK_RUNNING: "a task of the job is running",
    EventName.TASK_SUCCEED: "a task succeeded",
    EventName.TASK_FAILED: "a task failed",
    EventName.TASK_FAILED_INTERRUPTED: "a task failed, its CVMs are kept and bill",
    EventName.TASK_INSTANCE_RUNNING: "a task instance is running",
    EventName.TASK_INSTANCE_SUCCEED: "a task instance succeeded",
    EventName.TASK_INSTANCE_FAILED: "a task instance failed (exit code, reason)",
    EventName.TASK_INSTANCE_FAILED_INTERRUPTED: "a task instance failed, its CVM is kept and bills",
    EventName.COMPUTE_ENV_CREATED: "a compute environment was created",
    EventName.COMPUTE_ENV_DELETED: "a compute environment was deleted",
    EventName.COMPUTE_NODE_CREATED: "a compute node (CVM) was created",
    EventName.COMPUTE_NODE_CREATION_FAILED: "a compute node could not be created (reason)",
    EventName.COMPUTE_NODE_RUNNING: "a compute node is running",
    EventName.COMPUTE_NODE_ABNORMAL: "a compute node is abnormal",
    EventName.COMPUTE_NODE_DELETING: "a compute node is being deleted",
}

# Which of the generator's fields each kind of event carries (the others are ignored, with a warning).
FIELDS_OF: dict[Category, frozenset[str]] = {
    Category.JOB: frozenset({"job_id", "job_name"}),
    Category.TASK: frozenset({"job_id", "job_name", "task_name"}),
    Category.TASK_INSTANCE: frozenset({"job_id", "job_name", "task_name", "index", "exit_code"}),
    Category.COMPUTE_ENV: frozenset({"env_id", "env_name"}),
    Category.COMPUTE_NODE: frozenset({"env_id", "env_name", "node_id"}),
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state_of(name: EventName) -> str:
    if name.is_interrupted:
        return "FAILED_INTERRUPTED"
    return _STATE.get(name.value.rsplit("_", 1)[-1], "FAILED")


def derived_id(prefix: str, *parts: object) -> str:
    """A Tencent-shaped id (`prefix-` and 8 characters of [0-9a-z]) that only `parts` decide."""
    digest = int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(8):
        digest, rest = divmod(digest, len(_ID_CHARS))
        chars.append(_ID_CHARS[rest])
    return f"{prefix}-{''.join(chars)}"


def derived_msg_id(*parts: object) -> str:
    """A CMQ-shaped msgId (11 digits) that only `parts` decide."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode("utf-8")).digest()
    return str(10**10 + int.from_bytes(digest[:8], "big") % (9 * 10**10))


def batch_fields(
    name: EventName,
    *,
    job_id: str = SAMPLE_IDS["job_id"],
    job_name: str = SAMPLE_IDS["job_name"],
    task_name: str = SAMPLE_IDS["task_name"],
    index: int = 0,
    env_id: str = SAMPLE_IDS["env_id"],
    env_name: str = SAMPLE_IDS["env_name"],
    node_id: str = SAMPLE_IDS["node_id"],
    instance_id: str = SAMPLE_IDS["instance_id"],
    created: Optional[datetime] = None,
    exit_code: Optional[int] = None,
    reason: Optional[str] = None,
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
        if reason is not None:
            fields["StateReason"] = reason
        return fields
    state = _state_of(name)
    fields = {"JobId": job_id, "JobName": job_name, "JobState": state}
    if category in (Category.TASK, Category.TASK_INSTANCE):
        fields.update(TaskName=task_name, TaskState=state)
    if category is Category.TASK_INSTANCE:
        fields.update(TaskInstanceIndex=index, TaskInstanceState=state, ComputeNodeInstanceId=instance_id)
        if state not in ("RUNNING", "SUCCEED"):
            fields.update(ExitCode=137, StateReason="Task instance exited with a non-zero code")
        if exit_code is not None:
            fields["ExitCode"] = exit_code
    elif state not in ("RUNNING", "SUCCEED"):
        fields["StateReason"] = f"{category.value} failed"
    if reason is not None:
        fields["StateReason"] = reason
    return fields


def batch_event(
    name: EventName,
    *,
    region: str = "ap-guangzhou",
    when: Optional[datetime] = None,
    event_vars: Optional[dict[str, str]] = None,
    **fields: Any,
) -> dict[str, Any]:
    """One entry of a Batch message's `Events` list (a node's creation time defaults to 5 min before)."""
    moment = when or SAMPLE_TIME
    if fields.get("created") is None:
        fields["created"] = moment - NODE_AGE
    return {
        "EventVersion": "1.0",
        "EventTime": _iso(moment),
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
    publish_time: Optional[datetime] = None,
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
            "publishTime": _iso(publish_time or SAMPLE_TIME),
            "msgId": msg_id,
            "requestId": f"req-{msg_id}",
            "msgBody": body,
            "msgTag": tags,
        }
    }


@dataclass
class _Ids:
    """Per-record ids: the first record's as given, later ones derived (and never repeated)."""

    seed: int
    seen: set[str]

    def base(self, key: str, given: Optional[str]) -> str:
        """The first record's value: as given, else the sample's (seed 0) or a seeded one."""
        if given is not None:
            return given
        sample = SAMPLE_IDS[key]
        if self.seed == 0 or key in ("job_name", "task_name", "env_name"):
            return sample
        return derived_id(sample.split("-", 1)[0], self.seed, key, 0)

    def nth(self, key: str, base: str, n: int) -> str:
        """Record n's id of this kind: `base` for the first, then derived from the seed, base and n."""
        if n == 0:
            value = base
        elif key in ("task_name", "env_name"):
            value = f"{base}-{n}"  # names, not ids: readable suffixes
        else:
            value = derived_id(base.split("-", 1)[0], self.seed, key, base, n)
            salt = 0
            while f"{key}:{value}" in self.seen:  # 8 characters of 36: a collision is rare, never kept
                salt += 1
                value = derived_id(base.split("-", 1)[0], self.seed, key, base, n, salt)
        self.seen.add(f"{key}:{value}")
        return value


# What makes each record another resource: the fields that vary per record, by category.
_VARYING: dict[Category, tuple[str, ...]] = {
    Category.JOB: ("job_id",),
    Category.TASK: ("task_name",),
    Category.TASK_INSTANCE: ("instance_id",),  # and the index, +1 per record
    Category.COMPUTE_ENV: ("env_id", "env_name"),
    Category.COMPUTE_NODE: ("node_id", "instance_id"),
}


def trigger_event(
    name: EventName,
    *,
    records: int = 1,
    seed: int = 0,
    encode_base64: bool = False,
    topic: str = "batch-events",
    msg_id_prefix: Optional[str] = None,
    event_vars: Optional[dict[str, str]] = None,
    region: str = "ap-guangzhou",
    when: Optional[datetime] = None,
    job_id: Optional[str] = None,
    job_name: Optional[str] = None,
    task_name: Optional[str] = None,
    index: Optional[int] = None,
    env_id: Optional[str] = None,
    env_name: Optional[str] = None,
    node_id: Optional[str] = None,
    instance_id: Optional[str] = None,
    created: Optional[datetime] = None,
    exit_code: Optional[int] = None,
    reason: Optional[str] = None,
) -> dict[str, Any]:
    """A trigger event of `records` records, one distinct event each (see the module's docstring).

    msgIds are `msg_id_prefix` + the record number when a prefix is given, else derived from the
    seed, the event name and the record number.
    """
    ids = _Ids(seed, set())
    given = {
        "job_id": job_id,
        "job_name": job_name,
        "task_name": task_name,
        "env_id": env_id,
        "env_name": env_name,
        "node_id": node_id,
        "instance_id": instance_id,
    }
    bases = {key: ids.base(key, value) for key, value in given.items()}
    varying = _VARYING[name.category]
    moment = when or SAMPLE_TIME
    out = []
    for n in range(records):
        per_record: dict[str, Any] = {
            key: ids.nth(key, base, n) if key in varying else base for key, base in bases.items()
        }
        per_record.update(index=(index or 0) + n, created=created, exit_code=exit_code, reason=reason)
        event = batch_event(name, region=region, when=moment, event_vars=event_vars, **per_record)
        msg_id = f"{msg_id_prefix}{n}" if msg_id_prefix is not None else derived_msg_id(seed, name.value, n)
        out.append(
            cmq_record(
                {"Events": [event]},
                msg_id=msg_id,
                topic=topic,
                encode_base64=encode_base64,
                publish_time=moment,
            )
        )
    return {"Records": out}


def listing() -> str:
    """Every event name with its category and meaning, then the groups."""
    width = max(len(e.value) for e in EventName)
    lines = ["event names (category: meaning):"]
    lines += [f"  {e.value:<{width}}  {e.category.value}: {MEANINGS[e]}" for e in EventName]
    lines += ["", "groups (accepted wherever a list of event names is configured):"]
    for group, members in EVENT_GROUPS.items():
        members_text = ", ".join(e.value for e in EventName if e in members)
        names = "every event name" if group == "all" else members_text
        lines.append(f"  {group:<12}{names}")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.generate_event",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("event_name", nargs="?", help="an event name, e.g. JOB_FAILED (or the old JobFailed)")
    parser.add_argument("--list", action="store_true", help="list every event name and group, and exit")
    parser.add_argument("--records", type=int, default=1, help="number of CMQ records, one event each")
    parser.add_argument("--seed", type=int, default=0, help="varies the derived ids and msgIds (default 0)")
    parser.add_argument("--base64", action="store_true", help="base64-encode each msgBody")
    parser.add_argument("--region", default="ap-guangzhou")
    parser.add_argument("--topic", default="batch-events")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--time", help=f"event time, ISO 8601 (default {_iso(SAMPLE_TIME)})")
    when.add_argument("--now", action="store_true", help="event time: now")
    parser.add_argument("--job-id")
    parser.add_argument("--job-name")
    parser.add_argument("--task", "--task-name", dest="task_name", help="task name (default render)")
    parser.add_argument("--index", type=int, help="first task instance index (default 0)")
    parser.add_argument("--exit-code", type=int, help="a task instance's ExitCode (default 137 if failed)")
    parser.add_argument("--reason", help="StateReason")
    parser.add_argument("--env-id")
    parser.add_argument("--env-name")
    parser.add_argument("--node-id")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="an event var")
    parser.add_argument("--out", help="write to this file instead of stdout")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print (or write) one generated trigger event."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        sys.stdout.write(listing())
        return 0
    if not args.event_name:
        parser.error("an event name is required (--list shows them)")
    try:
        name = normalise_event_name(args.event_name)
    except ValueError as exc:
        parser.error(str(exc))
    if args.records < 1:
        parser.error("--records must be at least 1")
    if args.index is not None and args.index < 0:
        parser.error("--index must be 0 or more")
    moment: Optional[datetime] = None
    if args.now:
        moment = datetime.now(timezone.utc).replace(microsecond=0)
    elif args.time is not None:
        moment = parse_time(args.time)
        if moment is None:
            parser.error(f"--time {args.time!r} is not an ISO 8601 time (e.g. 2026-11-20T08:35:00Z)")
    event_vars = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--var {item!r} is not NAME=VALUE")
        event_vars[key] = value
    fields = {
        key: getattr(args, key)
        for key in ("job_id", "job_name", "task_name", "index", "exit_code", "env_id", "env_name", "node_id")
    }
    for key, value in fields.items():
        if value is not None and key not in FIELDS_OF[name.category]:
            option = "--task" if key == "task_name" else "--" + key.replace("_", "-")
            print(f"warning: {option} ignored: {name.value} events carry no such field", file=sys.stderr)
    event = trigger_event(
        name,
        records=args.records,
        seed=args.seed,
        encode_base64=args.base64,
        topic=args.topic,
        region=args.region,
        event_vars=event_vars,
        when=moment,
        reason=args.reason,
        **fields,
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
