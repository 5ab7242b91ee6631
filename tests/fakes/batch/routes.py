"""The HTTP layer: one `responses` callback dispatching on X-TC-Action, answering in Tencent's envelope."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional

import requests
import responses

from .backend import BatchBackend, BatchError

DEFAULT_ENDPOINT = "https://batch.tencentcloudapi.com"
VERSION = "2017-03-12"


def _answer(payload: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    payload.setdefault("RequestId", str(uuid.uuid4()))
    # Exactly application/json: the SDK reads an error body only with that Content-Type.
    return 200, {"Content-Type": "application/json"}, json.dumps({"Response": payload})


def _error(code: str, message: str) -> tuple[int, dict[str, str], str]:
    return _answer({"Error": {"Code": code, "Message": message}})


def tencent_callback(
    backend: Any, version: str, dispatch: Callable[[str, dict[str, Any], str], Optional[dict[str, Any]]]
) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """A callback that checks the TC3 request, applies scripted faults, then calls `dispatch`."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        headers = {k: v for k, v in request.headers.items()}
        action = headers.get("X-TC-Action", "")
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = json.loads(body or "{}")
        backend.calls.append((action, params, headers))
        if not headers.get("Authorization", "").startswith("TC3-HMAC-SHA256 Credential="):
            return _error("AuthFailure.SignatureFailure", "the request is not signed with TC3-HMAC-SHA256")
        if headers.get("X-TC-Version") != version:
            return _error("InvalidParameter", f"version {headers.get('X-TC-Version')!r} is not {version}")
        fault = backend.take_fault(action)
        if fault is not None:
            if fault.kind == "network":
                raise requests.ConnectionError("scripted: connection reset by peer")
            if fault.kind == "html":
                return 502, {"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>"
            return _error(fault.code, fault.message)
        try:
            result = dispatch(action, params, headers.get("X-TC-Region", ""))
        except BatchError as exc:
            return _error(exc.code, exc.message)
        if result is None:
            return _error("InvalidAction", f"the fake does not know {action!r}")
        return _answer(result)

    return callback


def _dispatch(backend: BatchBackend) -> Callable[[str, dict[str, Any], str], Optional[dict[str, Any]]]:
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


def batch_callback(backend: BatchBackend) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """The fake Batch API as one callback (for `responses` or a loopback server)."""
    return tencent_callback(backend, VERSION, _dispatch(backend))


def register_batch(
    mock: responses.RequestsMock, backend: BatchBackend, endpoint: str = DEFAULT_ENDPOINT
) -> None:
    """Route POST <endpoint>/ to the fake Batch API."""
    mock.add_callback(
        responses.POST,
        f"{endpoint.rstrip('/')}/",
        callback=batch_callback(backend),
    )


@contextmanager
def fake_batch_api(
    backend: BatchBackend, *, endpoint: str = DEFAULT_ENDPOINT, tag: Any = None
) -> Iterator[responses.RequestsMock]:
    """Intercept the Batch API (and the Tag API, given a TagBackend) for the duration of the block."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_batch(mock, backend, endpoint)
        if tag is not None:
            from tests.fakes.tag import register_tag

            register_tag(mock, tag)
        yield mock
