"""The HTTP layer: one callback for POST /v2/index.php, checking the legacy signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

from ..loopback import Hang, Reset
from .backend import CmqBackend

PATH = "/v2/index.php"
SECRET_ID = "AKIDlocalcloudqueue"  # noqa: S105
SECRET_KEY = "cmq-secret-key"  # noqa: S105 - the fake's own key pair
Answer = tuple[int, dict[str, str], str]


def expected_signature(host: str, params: dict[str, str], secret_key: str) -> str:
    """The legacy scheme's signature, recomputed independently of shared/cmq_data.py."""
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    pairs = "&".join(f"{k.replace('_', '.')}={unsigned[k]}" for k in sorted(unsigned))
    text = f"POST{host}{PATH}?{pairs}"
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def cmq_callback(
    backend: CmqBackend, host: Optional[str] = None, secret_key: str = SECRET_KEY
) -> Callable[[Any], Answer]:
    """The queue API for requests signed for `host` (None: the request's Host header) with `secret_key`."""

    def callback(request: Any) -> Answer:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = dict(parse_qsl(body or "", keep_blank_values=True))
        backend.calls.append((params.get("Action", ""), params))
        fault = backend.next_fault()
        if fault == "timeout":
            raise Hang(backend.hang_s)
        if fault == "reset":
            raise Reset()
        signed_for = host if host is not None else str(request.headers.get("Host", ""))
        if params.get("Signature") != expected_signature(signed_for, params, secret_key):
            return _answer({"code": 4100, "message": "authentication failed"})
        action = params.get("Action")
        queue = params.get("queueName", "")
        if queue not in backend.queues:
            return _answer({"code": 4440, "message": "queue not exist"})
        if action == "BatchReceiveMessage":
            return _receive(backend, queue, params)
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


def _receive(backend: CmqBackend, queue: str, params: dict[str, str]) -> Answer:
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


def _answer(payload: dict[str, Any]) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(payload)
