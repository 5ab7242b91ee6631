"""The Batch calls retry_interrupted makes (shared.tcapi, the SDK's request shapes), with parsed answers."""

from __future__ import annotations

from shared.record import NamedTuple

from .calls import Caller
from .rules import FailedInstance

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional

FAILED = "FAILED"
FAILED_INTERRUPTED = "FAILED_INTERRUPTED"
FAILED_STATES = frozenset({FAILED, FAILED_INTERRUPTED})
RETRY_JOBS_LIMIT = 100  # RetryJobs takes at most 100 JobIds
DESCRIBE_TASK_LIMIT = 1000
MAX_TASK_PAGES = 10


class JobView(NamedTuple):
    """What DescribeJob says about a job, as far as retrying cares."""

    job_id: str
    state: str
    end_time: str
    state_reason: str
    failed_tasks: tuple[str, ...]
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def failed(self) -> bool:
        """True in FAILED or FAILED_INTERRUPTED."""
        return self.state in FAILED_STATES

    @property
    def marker(self) -> str:
        """Identifies this failure of the job: the digits of its end time ('' when Batch gives none)."""
        return "".join(ch for ch in self.end_time if ch.isdigit())[:32]


def _job_view(job_id: str, data: dict[str, Any]) -> JobView:
    tasks = data.get("TaskSet") or []
    failed_tasks = tuple(
        str(t.get("TaskName"))
        for t in tasks
        if isinstance(t, dict) and t.get("TaskName") and t.get("TaskState") in FAILED_STATES
    )
    tags = tuple(
        (str(t.get("Key")), str(t.get("Value") or ""))
        for t in data.get("Tags") or []
        if isinstance(t, dict) and t.get("Key")
    )
    return JobView(
        job_id=str(data.get("JobId") or job_id),
        state=str(data.get("JobState") or ""),
        end_time=str(data.get("EndTime") or ""),
        state_reason=str(data.get("StateReason") or ""),
        failed_tasks=failed_tasks,
        tags=tags,
    )


def _exit_code(value: Any) -> Optional[int]:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class BatchApi:
    """DescribeJob, DescribeTask, RetryJobs and TerminateJob for one region."""

    def __init__(self, client: Any, caller: Caller) -> None:
        self.client = client
        self.caller = caller

    def describe_job(self, job_id: str) -> JobView:
        """The job's state, end time, failed tasks and tags."""
        response = self.caller.call(
            "DescribeJob", lambda: self.client.call("DescribeJob", {"JobId": job_id}), client=self.client
        )
        return _job_view(job_id, response)

    def failed_instances(self, job_id: str, task_names: Iterable[str]) -> list[FailedInstance]:
        """Every failed instance of the given tasks, with exit code and reason (for RETRY_RULES)."""
        out: list[FailedInstance] = []
        for task_name in task_names:
            offset = 0
            for _ in range(MAX_TASK_PAGES):
                data = self._describe_task(
                    {"JobId": job_id, "TaskName": task_name, "Offset": offset, "Limit": DESCRIBE_TASK_LIMIT}
                )
                page = [i for i in data.get("TaskInstanceSet") or [] if isinstance(i, dict)]
                out += [
                    FailedInstance(
                        task_name=task_name,
                        index=int(i.get("TaskInstanceIndex") or 0),
                        exit_code=_exit_code(i.get("ExitCode")),
                        reason=str(i.get("StateReason") or ""),
                        detailed_reason=str(i.get("StateDetailedReason") or ""),
                    )
                    for i in page
                    if i.get("TaskInstanceState") in FAILED_STATES
                ]
                offset += len(page)
                if not page or offset >= int(data.get("TaskInstanceTotalCount") or 0):
                    break
        return out

    def _describe_task(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.caller.call(
            "DescribeTask", lambda: self.client.call("DescribeTask", request), client=self.client
        )

    def retry_jobs(self, job_ids: list[str]) -> None:
        """RetryJobs for at most 100 jobs (the caller batches)."""
        if not 0 < len(job_ids) <= RETRY_JOBS_LIMIT:
            raise ValueError(f"RetryJobs takes 1 to {RETRY_JOBS_LIMIT} job ids, not {len(job_ids)}")
        request = {"JobIds": list(job_ids)}
        self.caller.call(
            "RetryJobs", lambda: self.client.call("RetryJobs", request), mutating=True, client=self.client
        )

    def terminate_job(self, job_id: str) -> None:
        """TerminateJob: asynchronous; releases the instances a FAILED_INTERRUPTED job keeps."""
        request = {"JobId": job_id}
        self.caller.call(
            "TerminateJob",
            lambda: self.client.call("TerminateJob", request),
            mutating=True,
            client=self.client,
        )
