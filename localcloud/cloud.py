"""The local cloud: the Batch, Tag, TDMQ-CMQ and chat fakes behind one loopback server, and its settings.

Batch and Tag share the path `/` as on the real endpoints (one host each there): a request goes to
the service its TC3 credential scope names. The web page (GET /) shows what the fakes received.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from shared.runtime import is_http_event, is_timer_event

from . import batch, tag
from .batch import BatchBackend
from .chat import ChatBackend, chat_routes, robot_env
from .cmq import PATH as CMQ_PATH
from .cmq import SECRET_ID as CMQ_SECRET_ID
from .cmq import SECRET_KEY as CMQ_SECRET_KEY
from .cmq import CmqBackend, WallClock, cmq_callback
from .loopback import Callback, Reset
from .seed import (
    QUEUE_SAMPLES,
    events_of,
    jobs_named,
    push_token,
    queue_bodies,
    queue_name,
    seed_all_samples,
    seed_jobs,
)
from .tag import TagBackend
from .tencent import Answer, error, service_of

FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
ACCOUNT_UIN = "100000000001"
# Fake credentials: the functions sign with them, and the fakes check the signatures with them.
CREDENTIALS = {
    "TENCENTCLOUD_SECRETID": "AKIDlocalcloud00000000000000000000",
    "TENCENTCLOUD_SECRETKEY": "localcloudSecretKey000000000000000",
    "TENCENTCLOUD_SESSIONTOKEN": "",
}
VISIBILITY_TIMEOUT_S = 100  # tools/deploy_config.py: twice the polling run's 50 s


@dataclass(frozen=True)
class ApiCall:
    """One Batch or Tag API request the local cloud answered."""

    service: str
    action: str
    region: str
    params: dict[str, Any]
    error: str = ""  # the error code answered, "" for success
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Mark:
    """How much each fake had received at a moment: a report covers what came after."""

    api: int = 0
    chat: int = 0
    deleted: int = 0
    delivered: int = 0


class LocalCloud:
    """The fakes' state, the routes that serve it, and the settings that point a function at it."""

    def __init__(self, *, all_samples: bool = False) -> None:
        self.all_samples = all_samples  # every job any sample names, from the start and after a reset
        self.batch = BatchBackend()
        self.tag = TagBackend()
        keys = {CREDENTIALS["TENCENTCLOUD_SECRETID"]: CREDENTIALS["TENCENTCLOUD_SECRETKEY"]}
        self.batch.secret_keys = self.tag.secret_keys = keys  # signatures checked, as the real APIs do
        self.cmq = CmqBackend(clock=WallClock())
        self.chat = ChatBackend()
        self.api_calls: list[ApiCall] = []
        self.base_url = ""
        self._lock = threading.Lock()
        for function in FUNCTIONS:
            self.cmq.create_queue(queue_name(function), visibility_timeout=VISIBILITY_TIMEOUT_S)
        if all_samples:
            seed_all_samples(self.batch)

    # -- serving ----------------------------------------------------------------------------
    def routes(self) -> dict[str, Callback]:
        """POST path -> callback: the Tencent APIs at /, the queue API, every robot."""
        return {"/": self._tencent(), CMQ_PATH: cmq_callback(self.cmq), **chat_routes(self.chat)}

    def _tencent(self) -> Callback:
        callbacks = {batch.SERVICE: batch.batch_callback(self.batch), tag.SERVICE: tag.tag_callback(self.tag)}
        by_version = {batch.VERSION: batch.SERVICE, tag.VERSION: tag.SERVICE}

        def callback(request: Any) -> Answer:
            service = service_of(request.headers) or by_version.get(request.headers.get("X-TC-Version"), "")
            target = callbacks.get(service)
            if target is None:
                return error("InvalidParameter", f"the local cloud serves batch and tag, not {service!r}")
            try:
                status, headers, text = target(request)
            except Reset:
                self._record(service, request, "ClientNetworkError (scripted)")
                raise
            self._record(service, request, _error_code(text) if status == 200 else f"HTTP {status}")
            return status, dict(headers), text

        return callback

    def _record(self, service: str, request: Any, code: str) -> None:
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            params = {}
        headers = request.headers
        call = ApiCall(
            service,
            str(headers.get("X-TC-Action", "")),
            str(headers.get("X-TC-Region", "")),
            params if isinstance(params, dict) else {},
            code,
        )
        with self._lock:
            self.api_calls.append(call)

    # -- settings and seeding -----------------------------------------------------------------
    def env(self, function: str = "") -> dict[str, str]:
        """The settings that point a function at this cloud (every channel at its robot)."""
        base = self.base_url
        env = {
            **CREDENTIALS,
            "BATCH_ENDPOINT": base,
            "RETRY_LEDGER": "tags",
            "RETRY_ACCOUNT_UIN": ACCOUNT_UIN,
            "CMQ_ENDPOINT": base,
            "CMQ_SECRET_ID": CMQ_SECRET_ID,
            "CMQ_SECRET_KEY": CMQ_SECRET_KEY,
            **robot_env(base),
        }
        if function:
            env["CMQ_QUEUE_NAME"] = queue_name(function)
        return env

    def seed(self, event: Any, function: str) -> dict[str, str]:
        """Make the sample meaningful here: its jobs exist, a timer's queue holds a message; the settings
        the sample needs beyond `env` (a push's token)."""
        if is_timer_event(event) and function in QUEUE_SAMPLES:
            for body in queue_bodies(function):
                self.cmq.send(queue_name(function), body)
        seed_jobs(self.batch, jobs_named(events_of(event, function)))
        return {"PUSH_TOKEN": push_token(event)} if is_http_event(event) else {}

    def mark(self) -> Mark:
        """What was received so far."""
        return Mark(len(self.api_calls), len(self.chat.received), len(self.cmq.deleted), self.cmq.delivered)

    def version(self) -> int:
        """Grows with every request the fakes answer (the page reloads when it changes)."""
        return len(self.api_calls) + len(self.chat.received) + len(self.cmq.calls)

    def reset(self) -> None:
        """Forget every request and all state (jobs seeded from every sample again, if they were)."""
        with self._lock:
            self.api_calls.clear()
        self.chat.received.clear()
        self.batch.calls.clear()
        self.batch.jobs.clear()
        if self.all_samples:
            seed_all_samples(self.batch)
        self.tag.calls.clear()
        self.tag.resources.clear()
        self.cmq.calls.clear()
        self.cmq.deleted.clear()
        self.cmq.delivered = 0
        for queue in self.cmq.queues.values():
            queue.messages.clear()


def _error_code(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return "unreadable answer"
    err = data.get("Response", {}).get("Error") if isinstance(data, dict) else None
    return str(err.get("Code", "error")) if isinstance(err, dict) else ""
