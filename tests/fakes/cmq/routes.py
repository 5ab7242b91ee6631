"""The HTTP layer: one callback for POST /v2/index.php, checking the legacy signature, on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable
from urllib.parse import parse_qsl, urlparse

from tests.fakes.loopback import Hang, Mount, Reset, session_server

from .backend import CmqBackend

PATH = "/v2/index.php"
# The queue API answers on one loopback server for the whole session: CMQ_ENDPOINT=ENDPOINT reaches it,
# and the client signs HOST (127.0.0.1:PORT), which the callback checks.
SERVER = session_server("cmq")
ENDPOINT = SERVER.base_url
HOST = SERVER.netloc


def _expected_signature(host: str, params: dict[str, str], secret_key: str) -> str:
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    pairs = "&".join(f"{k.replace('_', '.')}={unsigned[k]}" for k in sorted(unsigned))
    text = f"POST{host}{PATH}?{pairs}"
    digest = hmac.new(secret_key.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def cmq_callback(
    backend: CmqBackend, host: str, secret_key: str = "cmq-secret-key"
) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    """The queue API for requests to `host` signed with `secret_key` (for `serve` or a mount)."""

    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        params = dict(parse_qsl(body or "", keep_blank_values=True))
        backend.calls.append((params.get("Action", ""), params))
        fault = backend.next_fault()
        if fault == "timeout":
            raise Hang(backend.hang_s)
        if fault == "reset":
            raise Reset()
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
    backend: CmqBackend, endpoint: str = ENDPOINT, secret_key: str = "cmq-secret-key"
) -> Iterator[Mount]:
    """Serve the queue API at ENDPOINT for the block; requests must be signed with `secret_key`.

    Yields the mount: `.calls[n].request` is each request as it arrived (`headers`, `body` bytes).
    """
    parsed = urlparse(endpoint)
    if (parsed.scheme, parsed.netloc) != ("http", HOST):
        raise ValueError(f"the fake queue API answers only at tests.fakes.cmq.ENDPOINT, not {endpoint}")
    with SERVER.mount({PATH: cmq_callback(backend, HOST, secret_key)}) as mount:
        yield mount


def _answer(payload: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "application/json"}, json.dumps(payload)
