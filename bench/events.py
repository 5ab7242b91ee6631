"""The events the bench feeds the functions. Standard library and the repository only (no test fakes),
Python 3.9 syntax: bench/throughput.py imports it under SCF's runtimes too."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.catalogue import EventName
from tools.generate_event import batch_event, trigger_event

FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
# What each handler is measured on: the events its concern acts on.
WORKLOAD = {
    "alert_failures": EventName.TASK_INSTANCE_FAILED,
    "retry_interrupted": EventName.TASK_INSTANCE_FAILED_INTERRUPTED,
    "log_node_churn": EventName.COMPUTE_NODE_RUNNING,
}
JOBS = 10  # events spread over this many jobs and environments, so that grouping has real work
SAMPLE_JOB = "job-5ik2gmv8"
SAMPLE_ENV = "env-ptoxdb1t"
PUSH_TOKEN = "bench-push-token"  # noqa: S105 - the fake push subscription's


def message_body(function: str, n: int) -> str:
    """The n-th Batch message of the function's workload, one event each, over JOBS jobs / envs."""
    fields: dict[str, Any] = {"job_id": f"job-{n % JOBS:08d}", "env_id": f"env-{n % JOBS:08d}", "index": n}
    if function == "log_node_churn":
        fields["node_id"] = f"node-{n:08d}"
    return json.dumps({"Events": [batch_event(WORKLOAD[function], **fields)]}, ensure_ascii=False)


def spread_event(name: EventName, records: int, encode_base64: bool = False) -> dict[str, Any]:
    """A trigger event of `records` records (one event each) spread over JOBS jobs and environments."""
    event = trigger_event(name, records=records)
    for i, record in enumerate(event["Records"]):
        body = record["CMQ"]["msgBody"]
        body = body.replace(SAMPLE_JOB, f"job-{i % JOBS:08d}").replace(SAMPLE_ENV, f"env-{i % JOBS:08d}")
        if encode_base64:
            body = base64.b64encode(body.encode("utf-8")).decode("ascii")
        record["CMQ"]["msgBody"] = body
    return event


def json_size(value: Any) -> int:
    """Bytes of `value` as compact UTF-8 JSON."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def records_within(name: EventName, limit_bytes: int) -> int:
    """The most records of `name` a trigger event holds within `limit_bytes` of compact JSON."""
    low, high = 1, 2
    while json_size(spread_event(name, high)) <= limit_bytes:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if json_size(spread_event(name, middle)) <= limit_bytes else (low, middle)
    return low


def push_event(body: str, msg_id: str = "bench-push-1") -> dict[str, Any]:
    """A function-URL request carrying one pushed message (SIMPLIFIED format)."""
    return {
        "httpMethod": "POST",
        "path": "/",
        "headers": {"content-type": "text/plain", "x-cmq-message-id": msg_id},
        "queryString": {"token": PUSH_TOKEN},
        "body": body,
        "isBase64Encoded": False,
    }
