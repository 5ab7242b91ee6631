"""Batch jobs, their states and transitions, and scripted faults: the state the fake API answers from."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from ..tencent import BatchError, Fault, ScriptedFaults

__all__ = [
    "FAILED_STATES",
    "BatchBackend",
    "BatchError",
    "FakeInstance",
    "FakeJob",
    "FakeTask",
    "Fault",
    "ScriptedFaults",
]

FAILED_STATES = ("FAILED", "FAILED_INTERRUPTED")
_BASE = datetime(2026, 11, 20, 8, 35, 0, tzinfo=timezone.utc)


@dataclass
class FakeInstance:
    """One task instance: its index, state and, once failed, its exit code and reason."""

    index: int
    state: str
    exit_code: Optional[int] = None
    reason: str = ""


@dataclass
class FakeTask:
    """One task of a job and its instances."""

    name: str
    instances: list[FakeInstance]

    @property
    def state(self) -> str:
        states = {i.state for i in self.instances}
        for candidate in ("FAILED_INTERRUPTED", "FAILED", "RUNNING"):
            if candidate in states:
                return candidate
        return "SUCCEED"


@dataclass
class FakeJob:
    """One job: its state, end time (which marks each failure), tasks, tags and what was done to it."""

    job_id: str
    region: str
    state: str
    end_time: str
    tasks: list[FakeTask]
    name: str = "render-frames"
    tags: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    terminations: int = 0
    terminate_countdown: Optional[int] = None  # DescribeJob answers left before a termination completes

    @property
    def keeps_instances(self) -> bool:
        """True while the job's failed instances are kept (and would still bill)."""
        return self.state == "FAILED_INTERRUPTED"


class BatchBackend(ScriptedFaults):
    """Jobs per region. RetryJobs refuses FAILED_INTERRUPTED jobs by default (documented: FAILED only)."""

    def __init__(self, *, accept_interrupted_retry: bool = False, terminate_polls: int = 0) -> None:
        super().__init__()
        self.jobs: dict[str, FakeJob] = {}
        self.accept_interrupted_retry = accept_interrupted_retry
        self.terminate_polls = terminate_polls
        self._times = itertools.count(1)

    # -- arranging a scenario ------------------------------------------------------------------
    def _end_time(self) -> str:
        return (_BASE + timedelta(minutes=next(self._times))).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_job(
        self,
        job_id: str,
        state: str = "FAILED_INTERRUPTED",
        *,
        region: str = "ap-guangzhou",
        task_name: str = "render",
        instances: int = 1,
        exit_code: Optional[int] = 137,
        reason: str = "Task instance exited with a non-zero code",
        tags: Optional[dict[str, str]] = None,
    ) -> FakeJob:
        """A job with one task of `instances` instances, all in `state` (failed ones with code and reason)."""
        failed = state in FAILED_STATES
        task = FakeTask(
            task_name,
            [
                FakeInstance(n, state, exit_code if failed else None, reason if failed else "")
                for n in range(instances)
            ],
        )
        end = self._end_time() if failed or state == "SUCCEED" else ""
        job = FakeJob(job_id, region, state, end, [task], tags=dict(tags or {}))
        self.jobs[job_id] = job
        return job

    def add_task(self, job_id: str, task_name: str, instances: int = 1) -> FakeTask:
        """Another task for a job, its instances in the job's state."""
        job = self.jobs[job_id]
        failed = job.state in FAILED_STATES
        task = FakeTask(
            task_name,
            [
                FakeInstance(
                    n, job.state, 137 if failed else None, "exited with a non-zero code" if failed else ""
                )
                for n in range(instances)
            ],
        )
        job.tasks.append(task)
        return task

    def fail_again(self, job_id: str, state: str = "FAILED_INTERRUPTED") -> None:
        """The retried job fails anew: a new failure with a new end time."""
        job = self.jobs[job_id]
        job.state, job.end_time = state, self._end_time()
        for task in job.tasks:
            for instance in task.instances:
                instance.state, instance.exit_code = state, 137

    # -- the API -----------------------------------------------------------------------------
    def _job(self, job_id: Any, region: str) -> FakeJob:
        job = self.jobs.get(str(job_id))
        if job is None or job.region != region:
            raise BatchError("ResourceNotFound.Job", f"job {job_id!r} does not exist in {region}")
        return job

    def describe_job(self, job_id: Any, region: str) -> dict[str, Any]:
        job = self._job(job_id, region)
        if job.terminate_countdown is not None:
            if job.terminate_countdown <= 0:
                self._finish_termination(job)
            else:
                job.terminate_countdown -= 1
        return {
            "JobId": job.job_id,
            "JobName": job.name,
            "Zone": f"{region}-3",
            "Priority": 0,
            "JobState": job.state,
            "CreateTime": "2026-11-20T08:30:00Z",
            "EndTime": job.end_time or None,
            "TaskSet": [
                {"TaskName": t.name, "TaskState": t.state, "CreateTime": "2026-11-20T08:30:00Z"}
                for t in job.tasks
            ],
            "DependenceSet": [],
            "StateReason": "job failed" if job.state in FAILED_STATES else "",
            "Tags": [{"Key": k, "Value": v} for k, v in job.tags.items()],
        }

    def describe_task(
        self, job_id: Any, task_name: Any, offset: int, limit: int, region: str
    ) -> dict[str, Any]:
        job = self._job(job_id, region)
        task = next((t for t in job.tasks if t.name == task_name), None)
        if task is None:
            raise BatchError("ResourceNotFound.Task", f"task {task_name!r} does not exist")
        page = task.instances[offset : offset + limit]
        return {
            "JobId": job.job_id,
            "TaskName": task.name,
            "TaskState": task.state,
            "TaskInstanceTotalCount": len(task.instances),
            "TaskInstanceSet": [
                {
                    "TaskInstanceIndex": i.index,
                    "TaskInstanceState": i.state,
                    "ExitCode": i.exit_code,
                    "StateReason": i.reason,
                    "ComputeNodeInstanceId": "ins-9rikj9kw",
                }
                for i in page
            ],
        }

    def retry_jobs(self, job_ids: Any, region: str) -> None:
        if not isinstance(job_ids, list) or not 0 < len(job_ids) <= 100:
            raise BatchError("InvalidParameter", "JobIds must list 1 to 100 job ids")
        jobs = [self._job(job_id, region) for job_id in job_ids]
        allowed = ("FAILED", "FAILED_INTERRUPTED") if self.accept_interrupted_retry else ("FAILED",)
        for job in jobs:
            if job.state not in allowed:
                raise BatchError(
                    "UnsupportedOperation", f"job {job.job_id} is {job.state}: RetryJobs needs FAILED"
                )
        for job in jobs:  # the whole call is accepted or refused, never half
            job.state, job.end_time, job.retries = "RUNNING", "", job.retries + 1
            for task in job.tasks:
                for instance in task.instances:
                    if instance.state in FAILED_STATES:
                        instance.state, instance.exit_code, instance.reason = "RUNNING", None, ""

    def terminate_job(self, job_id: Any, region: str) -> None:
        job = self._job(job_id, region)
        if job.state in ("FAILED", "SUCCEED"):
            raise BatchError("UnsupportedOperation", f"job {job.job_id} is {job.state}: nothing to terminate")
        if job.terminate_countdown is not None:
            raise BatchError("UnsupportedOperation.AcceptOtherRequest", "the job is already terminating")
        job.terminations += 1
        job.terminate_countdown = self.terminate_polls
        if self.terminate_polls == 0:
            self._finish_termination(job)

    def _finish_termination(self, job: FakeJob) -> None:
        job.terminate_countdown = None
        job.state, job.end_time = "FAILED", self._end_time()
        for task in job.tasks:
            for instance in task.instances:
                if instance.state != "SUCCEED":
                    instance.state = "FAILED"
