"""ALERT_ENRICH=1: DescribeJob / DescribeTask add the state reason, exit codes and failing instances.

The API client (shared.tcapi) is imported inside the calls, so that without this setting it is never loaded.
Any failure leaves the alert as it was: enrichment is a nice-to-have, the alert is not.
"""

from __future__ import annotations

from shared.log import JsonLogger

from .config import AlertConfig
from .delivery import MIN_SEND_S, Deadline
from .enrichment import Enrichment, FailedInstance
from .grouping import JOB, UNKNOWN, Group, GroupKey

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any

FAILED_STATES = frozenset({"FAILED", "FAILED_INTERRUPTED"})
MAX_JOBS = 10  # per invocation: each costs one to four API calls
MAX_TASKS = 3
MAX_INSTANCES = 5
DESCRIBE_TASK_LIMIT = 1000
MIN_TIME_S = 3.0  # keep enough time for the deliveries themselves
CALL_TIMEOUT_S = 2  # a Describe call answers fast or not at all
CALLS_PER_JOB = 1 + MAX_TASKS
TIME_SHARE = 0.5  # enrichment may use at most this share of the time left: the alerts come first


def _int(value: Any) -> Any:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


class _NoTimeLeft(Exception):
    """A Describe call's timeout no longer fits in the time left."""


class _Timed:
    """A Batch client that starts a call only while its whole timeout fits in the time left.

    The check per job budgets four calls, but a call may outlast its timeout (connecting and reading
    are timed apart), so each call checks again.
    """

    def __init__(self, client: Any, deadline: Deadline, timeout_s: float) -> None:
        self._client = client
        self._deadline = deadline
        self._timeout_s = timeout_s

    def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """The client's call, started only while its timeout fits."""
        from shared.cloud import set_request_timeout

        if self._deadline.remaining_s() < max(self._timeout_s, MIN_SEND_S):
            raise _NoTimeLeft(action)
        # The client is the instance's, kept across invocations: its timeout is set per call.
        set_request_timeout(self._client, self._timeout_s)
        answer: dict[str, Any] = self._client.call(action, params)
        return answer


def describe(client: Any, group: Group) -> Enrichment:
    """DescribeJob, then DescribeTask for the group's tasks (or the job's failed ones)."""
    job = client.call("DescribeJob", {"JobId": group.key.id})
    failed_tasks = tuple(
        str(t.get("TaskName"))
        for t in job.get("TaskSet") or []
        if isinstance(t, dict) and t.get("TaskName") and t.get("TaskState") in FAILED_STATES
    )
    names = list(dict.fromkeys([e.task_name for e in group.events if e.task_name] + list(failed_tasks)))
    instances: list[FailedInstance] = []
    total = 0
    for name in names[:MAX_TASKS]:
        task = client.call(
            "DescribeTask", {"JobId": group.key.id, "TaskName": name, "Limit": DESCRIBE_TASK_LIMIT}
        )
        for item in task.get("TaskInstanceSet") or []:
            if not isinstance(item, dict) or item.get("TaskInstanceState") not in FAILED_STATES:
                continue
            total += 1
            instances.append(
                FailedInstance(
                    task_name=name,
                    index=_int(item.get("TaskInstanceIndex")) or 0,
                    state=str(item.get("TaskInstanceState")),
                    exit_code=_int(item.get("ExitCode")),
                    reason=str(item.get("StateDetailedReason") or item.get("StateReason") or ""),
                    instance_id=str(item.get("ComputeNodeInstanceId") or ""),
                )
            )
    return Enrichment(
        state=str(job.get("JobState") or ""),
        state_reason=str(job.get("StateReason") or ""),
        failed_tasks=failed_tasks,
        failed_instances=tuple(instances[:MAX_INSTANCES]),
        failed_total=total,
    )


def enrich(
    groups: list[Group], config: AlertConfig, deadline: Deadline, log: JsonLogger
) -> dict[GroupKey, Enrichment]:
    """Enrichment per job group; a group whose calls fail (or that time does not allow) gets none."""
    from shared.cloud import cached_client

    out: dict[GroupKey, Enrichment] = {}
    clients: dict[str, Any] = {}
    jobs = [g for g in groups if g.key.kind == JOB and UNKNOWN not in (g.key.id, g.key.region)]
    timeout_s = int(max(1, min(config.timeout_s, CALL_TIMEOUT_S)))
    # The deliveries keep the rest: enrichment stops when its share is used, not when SCF's time is.
    stop_at = deadline.remaining_s() * (1 - TIME_SHARE)
    for group in jobs[:MAX_JOBS]:
        if (
            deadline.remaining_s() - stop_at < CALLS_PER_JOB * timeout_s
            or deadline.remaining_s() < MIN_TIME_S
        ):
            log.warning("enrichment skipped: its share of the time is used", group=str(group.key))
            break
        try:
            if group.key.region not in clients:
                clients[group.key.region] = cached_client(
                    "batch", group.key.region, endpoint=config.batch_endpoint, timeout_s=timeout_s
                )
            out[group.key] = describe(_Timed(clients[group.key.region], deadline, timeout_s), group)
        except _NoTimeLeft as exc:
            log.warning(
                "enrichment stopped: no time left for another call", group=str(group.key), call=str(exc)
            )
            break
        except Exception as exc:  # any failure: the alert goes out without enrichment
            log.warning(
                "enrichment failed; alerting without it (and without enriching the other groups)",
                group=str(group.key),
                error=type(exc).__name__,
                code=getattr(exc, "code", None),
                detail=str(exc)[:300],
            )
            # An unreachable or failing endpoint would fail again for the next group: stop here.
            break
    return out
