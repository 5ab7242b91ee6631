"""The decision for one job, from what DescribeJob says and what the ledger recorded (no I/O here)."""

from __future__ import annotations

from enum import Enum

from shared.record import NamedTuple

from .batch_api import FAILED_INTERRUPTED, JobView
from .ledger import DONE, PENDING, TERMINATING, Entry

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Optional


class Action(str, Enum):
    """What happens to a job."""

    SKIP = "skip"  # not failed: already retried, recovered or still running
    DUPLICATE = "duplicate"  # this very failure was already retried
    RETRY = "retry"
    EXHAUSTED = "exhausted"  # the budget is spent
    DECLINED = "declined"  # RETRY_RULES say the failure is not worth a retry


class Decision(NamedTuple):
    """One job's decision: the action, attempt n of m, and why."""

    action: Action
    attempt: int
    max_attempts: int
    reason: str
    resume: bool = False  # finishing an attempt a previous invocation began (no new budget spent)


def decide(job: JobView, entry: Optional[Entry], max_attempts: int) -> Decision:
    """Skip unless failed; finish a pending attempt; never retry one failure twice; keep to the budget."""
    used = entry.attempt if entry else 0
    if not job.failed:
        return Decision(Action.SKIP, used, max_attempts, f"job is {job.state or 'in no state'}, not failed")
    if entry and entry.status in (PENDING, TERMINATING) and _same_failure_or_ours(job, entry):
        return Decision(
            Action.RETRY,
            entry.attempt,
            max_attempts,
            f"attempt {entry.attempt} was begun by an earlier invocation and is finished now",
            resume=True,
        )
    if entry and entry.status == DONE and job.marker and entry.marker == job.marker:
        return Decision(
            Action.DUPLICATE,
            used,
            max_attempts,
            f"this failure (end time {job.end_time}) was already retried",
        )
    if entry and entry.status == DONE and not job.marker:
        # Without an end time this failure cannot be told from the one already retried: a duplicate
        # delivery must never retry twice, so it is skipped (a person decides from the log line).
        return Decision(
            Action.DUPLICATE,
            used,
            max_attempts,
            "Batch gave no end time, so this failure cannot be told from the one already retried; skipped",
        )
    if used >= max_attempts:
        return Decision(
            Action.EXHAUSTED, used, max_attempts, f"retry budget exhausted ({used} of {max_attempts} used)"
        )
    return Decision(Action.RETRY, used + 1, max_attempts, f"job is {job.state}")


def _same_failure_or_ours(job: JobView, entry: Entry) -> bool:
    """Whether an unfinished attempt is still this job's current one.

    Our own TerminateJob ends in FAILED (whose end time may differ), never in FAILED_INTERRUPTED, so a
    FAILED_INTERRUPTED job with another end time than the entry's is a new interruption: the attempt
    the entry began took effect (its answer was lost, or the job was run again meanwhile) and counts
    as used. Resuming it would be a retry past the budget, and skip the TerminateJob it needs.
    """
    if job.state != FAILED_INTERRUPTED or not job.marker or not entry.marker:
        return True
    return job.marker == entry.marker


def declined(decision: Decision, reason: str) -> Decision:
    """The same decision turned into a refusal by RETRY_RULES."""
    return decision._replace(action=Action.DECLINED, attempt=decision.attempt - 1, reason=reason)
