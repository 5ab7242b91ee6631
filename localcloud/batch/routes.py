"""The HTTP layer: one callback dispatching on X-TC-Action, answering in Tencent's envelope."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..tencent import Answer, Dispatch, tencent_callback
from .backend import BatchBackend

DEFAULT_ENDPOINT = "https://batch.tencentcloudapi.com"
SERVICE = "batch"
VERSION = "2017-03-12"


def batch_dispatch(backend: BatchBackend) -> Dispatch:
    """Action name -> the backend's method, with the request's parameters."""

    def dispatch(action: str, params: dict[str, Any], region: str) -> Optional[dict[str, Any]]:
        if action == "DescribeJob":
            return backend.describe_job(params.get("JobId"), region)
        if action == "DescribeTask":
            offset, limit = int(params.get("Offset") or 0), int(params.get("Limit") or 100)
            return backend.describe_task(params.get("JobId"), params.get("TaskName"), offset, limit, region)
        if action == "RetryJobs":
            backend.retry_jobs(params.get("JobIds"), region)
            return {}
        if action == "TerminateJob":
            backend.terminate_job(params.get("JobId"), region)
            return {}
        return None

    return dispatch


def batch_callback(backend: BatchBackend) -> Callable[[Any], Answer]:
    """The fake Batch API as one callback (for a loopback server or `responses`)."""
    return tencent_callback(backend, VERSION, batch_dispatch(backend))
