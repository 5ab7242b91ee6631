"""What DescribeJob / DescribeTask add to a job's alert (ALERT_ENRICH=1): values only, no SDK here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class FailedInstance:
    """One failed task instance as DescribeTask reports it."""

    task_name: str
    index: int
    state: str
    exit_code: Optional[int]
    reason: str
    instance_id: str


@dataclass(frozen=True)
class Enrichment:
    """The job's state and reason, and its failing instances (the first few)."""

    state: str = ""
    state_reason: str = ""
    failed_tasks: tuple[str, ...] = ()
    failed_instances: tuple[FailedInstance, ...] = ()
    failed_total: int = 0
