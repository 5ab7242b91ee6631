"""The HTTP layer: one `responses` callback for POST /v2/index.php, checking the legacy signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable
from urllib.parse import parse_qsl, urlparse

import responses

from .backend import CmqBackend


def _expected_signature(host: str, params: dict[str, str], secret_key: str) -> str:
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    pairs = "&".join(f"{k.replace('_', '.')}={unsigned[k]}" for k in sorted(unsigned))
    text = f"POST{host}/v2/index.php?{pairs}"
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def cmq_callback(
    backend: CmqBackend, host: str, secret_key: str = "cmq-secret-key"
) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """The queue API for requests to `host` signed with `secret_key` (a `responses` callback)."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = dict(parse_qsl(body or "", keep_blank_values=True))
        backend.calls.append((params.get("Action", ""), params))
        if params.get("Signature") != _expected_signature(host, params, secret_key):
            return _answer({"code": 4100, "message": "authentication failed"})
        action = params.get("Action")
        queue = params.get("queueName", "")
        if queue not in backend.queues:
            return _answer({"code": 4440, "message": "queue not exist"})
        if action == "BatchReceiveMessage":
            if backend.receive_error_code is not None:
                return _answer({"code": backend.receive_error_code, "message": "scripted failure"})
            got = backend.receive(queue, int(params["numOfMsg"]), int(params.get("pollingWaitSeconds", "0")))
            if not got:
                return _answer({"code": 7000, "message": "no message"})
            items = [
                {
                    "msgBody": m.body,
                    "msgId": m.msg_id,
                    "receiptHandle": m.handle,
                    "enqueueTime": 1,
                    "firstDequeueTime": 2,
                    "nextVisibleTime": int(m.visible_at),
                    "dequeueCount": m.dequeue_count,
                }
                for m in got
            ]
            return _answer({"code": 0, "message": "", "msgInfoList": items})
        if action == "BatchDeleteMessage":
            handles = [v for k, v in sorted(params.items()) if k.startswith("receiptHandle.")]
            failed = backend.delete(queue, handles)
            if not failed:
                return _answer({"code": 0, "message": ""})
            code = 6020 if len(failed) == len(handles) else 6010
            errors = [{"code": 4430, "message": reason, "receiptHandle": h} for h, reason in failed]
            return _answer({"code": code, "message": "delete failed", "errorList": errors})
        return _answer({"code": 4000, "message": f"unknown action {action}"})

    return callback


@contextmanager
def fake_cmq_api(
    backend: CmqBackend, endpoint: str = "https://cmq-gz.fake.test", secret_key: str = "cmq-secret-key"
) -> Iterator[responses.RequestsMock]:
    """Intercept the queue API at `endpoint`; requests must be signed with `secret_key`."""
    callback = cmq_callback(backend, urlparse(endpoint).netloc, secret_key)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, f"{endpoint}/v2/index.php", callback=callback)
        yield mock


def _answer(payload: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "application/json"}, json.dumps(payload)
