"""What each function is benchmarked on: its workload, its settings, and the fakes it talks to.

Every fake answers over loopback HTTP (tests/fakes/loopback.py's `serve`), so the handler's own HTTP
client does the work it does in SCF, whichever library shared/http.py uses: the TDMQ-CMQ queue API
(tests/fakes/cmq), the Batch API (tests/fakes/batch), and a chat robot and webhooks that only count
what they receive. One server per service for the whole bench; the backend behind it is swapped.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from shared.catalogue import EventName
from tests.fakes.batch import BatchBackend, batch_callback
from tests.fakes.cmq import CmqBackend, cmq_callback
from tests.fakes.loopback import serve
from tools.deploy_config import POLL_TIMEOUT_S, VISIBILITY_FACTOR
from tools.generate_event import trigger_event

from .events import (
    FUNCTIONS,
    JOBS,
    PUSH_TOKEN,
    SAMPLE_JOB,
    WORKLOAD,
    message_body,
    push_event,
    records_within,
    spread_event,
)

__all__ = [
    "FUNCTIONS",
    "SAMPLE",
    "TIMER_EVENT",
    "WORKLOAD",
    "Services",
    "alert_fanout",
    "context",
    "message_body",
    "patched_env",
    "push_event",
    "queue_name",
    "quiet",
    "records_within",
    "services",
    "spread_event",
]

ROOT = Path(__file__).resolve().parent.parent
# The CMQ-trigger sample of each function (as tests/test_package.py runs the package on).
SAMPLE = {
    "alert_failures": ROOT / "events" / "cmq_topic_job_failed.json",
    "retry_interrupted": ROOT / "events" / "cmq_topic_job_failed_interrupted.json",
    "log_node_churn": ROOT / "events" / "cmq_topic_compute_node_created.json",
}
TIMER_EVENT = ROOT / "events" / "delivery" / "timer_poll_queue.json"
CMQ_SECRET_KEY = "cmq-secret-key"  # noqa: S105 - what the fake queue API checks signatures with
CHAT_PATH = "/cgi-bin/webhook/send"  # a WeCom group robot: the chat message of the latency target
WEBHOOK_PATH = "/alertmanager"
SLACK_PATH = "/services/T000/B000/benchmark"
ROLE = {
    "TENCENTCLOUD_SECRETID": "AKIDbenchmark0000000001",
    "TENCENTCLOUD_SECRETKEY": "benchmarkSecretKey000001",
}


def queue_name(function: str) -> str:
    """The queue each function polls in the bench."""
    return "bench-" + function.replace("_", "-")


def context(function: str, memory_mb: int, timeout_s: int = POLL_TIMEOUT_S) -> dict[str, Any]:
    """A context shaped like SCF's."""
    return {
        "request_id": f"bench-{function}",
        "function_name": function,
        "time_limit_in_ms": timeout_s * 1000,
        "memory_limit_in_mb": memory_mb,
        "tencentcloud_region": "ap-guangzhou",
        "tencentcloud_uin": "100000000001",
    }


@dataclass
class Services:
    """The loopback fakes of one bench run and the backends currently behind them."""

    cmq_url: str = ""
    batch_url: str = ""
    chat_url: str = ""
    queue: CmqBackend = field(default_factory=CmqBackend)
    batch: BatchBackend = field(default_factory=BatchBackend)
    received: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_queue(self, function: str, bodies: tuple[str, ...] = (), **kwargs: Any) -> CmqBackend:
        """A fresh queue backend (with `bodies` in the function's queue) behind the queue API."""
        backend = CmqBackend(**kwargs)
        backend.create_queue(queue_name(function), visibility_timeout=VISIBILITY_FACTOR * POLL_TIMEOUT_S)
        for body in bodies:
            backend.send(queue_name(function), body)
        self.queue = backend
        return backend

    def new_batch(self) -> BatchBackend:
        """A fresh Batch API backend knowing the workload's jobs."""
        backend = BatchBackend()
        for job_id in [f"job-{n:08d}" for n in range(JOBS)] + [SAMPLE_JOB]:
            backend.add_job(job_id, region="ap-guangzhou")
        self.batch = backend
        return backend

    def env(self, function: str, path: str = "trigger") -> dict[str, str]:
        """The settings a function is deployed with on this path, pointed at the fakes."""
        env: dict[str, str] = {}
        if function == "alert_failures":
            env["WECOM_WEBHOOK_URL"] = f"{self.chat_url}{CHAT_PATH}?key=bench-robot-key"
        if function == "retry_interrupted":
            env.update(ROLE, RETRY_LEDGER="memory", BATCH_ENDPOINT=self.batch_url)
        if path == "queue":
            env.update(
                CMQ_QUEUE_NAME=queue_name(function),
                CMQ_ENDPOINT=self.cmq_url,
                CMQ_SECRET_ID="AKIDbenchqueue",  # noqa: S106 - a fake key pair
                CMQ_SECRET_KEY=CMQ_SECRET_KEY,
            )
        if path == "push":
            env["PUSH_TOKEN"] = PUSH_TOKEN
        return env

    def count(self, path: str) -> None:
        """One more request received at `path`."""
        with self._lock:
            self.received[path] += 1


def _receiver(svc: Services, path: str, answer: str) -> Callable[[Any], tuple[int, dict[str, str], str]]:
    def callback(request: Any) -> tuple[int, dict[str, str], str]:
        svc.count(path)
        return 200, {"Content-Type": "application/json"}, answer

    return callback


@contextlib.contextmanager
def services() -> Iterator[Services]:
    """Start the loopback fakes for the block."""
    svc = Services()
    svc.new_batch()
    svc.new_queue("alert_failures")
    holder: dict[str, Any] = {}

    def cmq(request: Any) -> tuple[int, Mapping[str, str], str]:
        # The fake checks the signature over the host the client signs: known once the server is up.
        if holder.get("backend") is not svc.queue:
            holder["backend"] = svc.queue
            holder["callback"] = cmq_callback(svc.queue, holder["host"], CMQ_SECRET_KEY)
        answer: tuple[int, Mapping[str, str], str] = holder["callback"](request)
        return answer

    def batch(request: Any) -> tuple[int, Mapping[str, str], str]:
        answer: tuple[int, Mapping[str, str], str] = batch_callback(svc.batch)(request)
        return answer

    chat = {
        CHAT_PATH: _receiver(svc, CHAT_PATH, '{"errcode":0,"errmsg":"ok"}'),
        WEBHOOK_PATH: _receiver(svc, WEBHOOK_PATH, "ok"),
        SLACK_PATH: _receiver(svc, SLACK_PATH, "ok"),
    }
    with serve({"/v2/index.php": cmq}) as cmq_url, serve({"/": batch}) as batch_url, serve(chat) as chat_url:
        holder["host"] = cmq_url.split("://", 1)[1]
        svc.cmq_url, svc.batch_url, svc.chat_url = cmq_url, batch_url, chat_url
        yield svc


def patched_env(values: Mapping[str, str]) -> contextlib.AbstractContextManager[None]:
    """os.environ with `values` set for the block (tools.invoke's, which the local runs use too)."""
    from tools.invoke import environment

    return environment(values)


def quiet() -> contextlib.AbstractContextManager[Any]:
    """stdout discarded (the handlers' log lines) for the block."""
    return contextlib.redirect_stdout(io.StringIO())


def alert_fanout(
    svc: Services, total: int = 1000, load: Optional[Callable[[str], Any]] = None
) -> list[dict[str, Any]]:
    """Outbound requests per channel when `total` failure events spread over 1, 10 and 100 jobs."""
    from tools.invoke import load_handler

    handler = (load or load_handler)("alert_failures")
    rows = []
    for jobs in (1, 10, 100):
        event = trigger_event(EventName.TASK_INSTANCE_FAILED, records=total)
        for i, record in enumerate(event["Records"]):
            record["CMQ"]["msgBody"] = record["CMQ"]["msgBody"].replace(SAMPLE_JOB, f"job-{i % jobs:08d}")
        urls = {
            "ALERT_WEBHOOK_URL": svc.chat_url + WEBHOOK_PATH,
            "SLACK_WEBHOOK_URL": svc.chat_url + SLACK_PATH,
        }
        svc.received.clear()
        with patched_env(urls), quiet():
            handler.main_handler(event, {"time_limit_in_ms": 30000})
        per_channel = sorted({svc.received[WEBHOOK_PATH], svc.received[SLACK_PATH]})
        rows.append({"events": total, "jobs": jobs, "requests_per_channel": per_channel})
    return rows
