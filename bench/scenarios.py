"""The settings and fakes each function is benchmarked with: no network, the same work every repeat."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

import responses

from shared.catalogue import EventName
from tools.generate_event import trigger_event

ROLE = {
    "TENCENTCLOUD_SECRETID": "AKIDbenchmark0000000001",
    "TENCENTCLOUD_SECRETKEY": "benchmarkSecretKey000001",
    "RETRY_LEDGER": "memory",
    "RETRY_DRY_RUN": "1",
}
WEBHOOK = "http://127.0.0.1:9/alertmanager"
SLACK = "http://127.0.0.1:9/services/T000/B000/benchmark"


def memory_env(function: str) -> dict[str, str]:
    """Environment of the memory probe (a separate process: dry runs that need no fake)."""
    return {}


@contextlib.contextmanager
def _patched_env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def environment(function: str) -> Iterator[None]:
    """alert_failures: dry run; log_node_churn: as deployed; retry_interrupted: dry run, fake Batch API."""
    if function != "retry_interrupted":
        yield
        return
    import retrying

    from tests.fakes.batch import BatchBackend, fake_batch_api

    backend = BatchBackend()
    for job_id in [f"job-{n:08d}" for n in range(10)] + ["job-5ik2gmv8"]:
        backend.add_job(job_id, region="ap-guangzhou")
    retrying.reset_memory_ledger()
    with _patched_env(ROLE), fake_batch_api(backend):
        yield


def alert_fanout(total: int = 1000) -> list[dict[str, Any]]:
    """Outbound requests per channel when `total` failure events spread over 1, 10 and 100 jobs."""
    from tools.invoke import load_handler

    handler = load_handler("alert_failures")
    rows = []
    for jobs in (1, 10, 100):
        event = trigger_event(EventName.TASK_INSTANCE_FAILED, records=total)
        for i, record in enumerate(event["Records"]):
            record["CMQ"]["msgBody"] = record["CMQ"]["msgBody"].replace("job-5ik2gmv8", f"job-{i % jobs:08d}")
        urls = {"ALERT_WEBHOOK_URL": WEBHOOK, "SLACK_WEBHOOK_URL": SLACK}
        with _patched_env(urls), responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.POST, WEBHOOK, body="ok")
            mock.add(responses.POST, SLACK, body="ok")
            with contextlib.redirect_stdout(io.StringIO()):
                handler.main_handler(event, {"time_limit_in_ms": 30000})
            per_url: dict[str, int] = {}
            for call in mock.calls:
                url = (call.request.url or "").split("?")[0]
                per_url[url] = per_url.get(url, 0) + 1
        rows.append({"events": total, "jobs": jobs, "requests_per_channel": sorted(set(per_url.values()))})
    return rows
