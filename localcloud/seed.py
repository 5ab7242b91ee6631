"""What the local cloud holds before a run: the jobs a sample names, and a message in each queue.

A job a failure event names exists in the Batch fake: FAILED_INTERRUPTED when an interrupted event
names it, else FAILED, with the tasks and instances the events name. A timer sample polls the
function's queue, which holds one sample message chosen for that function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.envelope import parse_bodies, parse_trigger_event
from shared.models import BatchEvent, SourceRecord
from shared.push import read_push
from shared.runtime import is_http_event, is_timer_event

from .batch import BatchBackend

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TOPIC = "batch-events"
# The message a timer sample finds in each function's queue: one that function acts on.
QUEUE_SAMPLES = {
    "alert_failures": "cmq_topic_job_failed.json",
    "retry_interrupted": "cmq_topic_job_failed_interrupted.json",
    "log_node_churn": "cmq_topic_churn_env_lifecycle.json",
}
DEFAULT_PUSH_TOKEN = "local-test-token"  # noqa: S105 - the samples' own token


@dataclass
class SeedJob:
    """A job the events name: its region, whether it was interrupted, its tasks' instance counts."""

    region: str
    interrupted: bool = False
    tasks: dict[str, int] = field(default_factory=dict)


def queue_name(function: str) -> str:
    """The function's own queue, named as tools/deploy_config.py names it."""
    return f"{TOPIC}-{function.replace('_', '-')}"


def queue_bodies(function: str) -> list[str]:
    """The msgBody of every record of the function's queue sample."""
    event = json.loads((EVENTS / QUEUE_SAMPLES[function]).read_text(encoding="utf-8"))
    return [str(record["CMQ"]["msgBody"]) for record in event["Records"]]


def events_of(event: Any, function: str = "") -> tuple[BatchEvent, ...]:
    """The Batch events a sample carries, whichever path it arrives by (a timer: the queue's)."""
    if is_timer_event(event):
        if function not in QUEUE_SAMPLES:
            return ()
        bodies = queue_bodies(function)
        return parse_bodies([(SourceRecord(msg_id=str(n)), body) for n, body in enumerate(bodies)]).events
    if is_http_event(event):
        source, body, _ = read_push(event)
        return parse_bodies([(source, body)]).events
    return parse_trigger_event(event).events


def jobs_named(events: tuple[BatchEvent, ...]) -> dict[str, SeedJob]:
    """job id -> what the failure events say of it."""
    jobs: dict[str, SeedJob] = {}
    for event in events:
        if not (event.job_id and event.region and event.is_failure):
            continue
        job = jobs.setdefault(event.job_id, SeedJob(event.region))
        job.interrupted = job.interrupted or event.is_interrupted
        if event.task_name:
            count = (event.task_instance_index or 0) + 1
            job.tasks[event.task_name] = max(job.tasks.get(event.task_name, 1), count)
    return jobs


def seed_jobs(backend: BatchBackend, jobs: dict[str, SeedJob]) -> None:
    """Add each job to the Batch fake (a job already there is left as it is)."""
    for job_id, job in jobs.items():
        if job_id in backend.jobs:
            continue
        state = "FAILED_INTERRUPTED" if job.interrupted else "FAILED"
        tasks = list(job.tasks.items()) or [("render", 1)]
        first, instances = tasks[0]
        backend.add_job(job_id, state, region=job.region, task_name=first, instances=instances)
        for name, count in tasks[1:]:
            backend.add_task(job_id, name, count)


def push_token(event: Any) -> str:
    """The token a push sample carries (the samples' own when it carries none)."""
    query = event.get("queryString") if isinstance(event, dict) else None
    token = query.get("token") if isinstance(query, dict) else None
    return token if isinstance(token, str) and token else DEFAULT_PUSH_TOKEN


def sample_files() -> list[Path]:
    """Every sample: events/*.json, then events/delivery/*.json."""
    return sorted(EVENTS.glob("*.json")) + sorted((EVENTS / "delivery").glob("*.json"))


def seed_all_samples(backend: BatchBackend) -> None:
    """Every job any sample names (for the long-running server, which does not know what will come);
    interrupted when any sample says so."""
    events: list[BatchEvent] = []
    for path in sample_files():
        event = json.loads(path.read_text(encoding="utf-8"))
        for function in QUEUE_SAMPLES if is_timer_event(event) else ("",):
            events.extend(events_of(event, function))
    seed_jobs(backend, jobs_named(tuple(events)))
