"""Inhibition: a task-instance failure on a node that is ABNORMAL in the same run folds into the node's alert.

Like Alertmanager's inhibit rules with `equal: [instance]`: the node's alert is the cause, the failures
on it are symptoms. An event that names no compute-node instance is never folded.
"""

from __future__ import annotations

from shared.catalogue import EventName
from shared.record import NamedTuple, Record

from .clip import clip_chars
from .grouping import ENV, Group, GroupKey

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Optional

INSTANCE_FAILURES = frozenset({EventName.TASK_INSTANCE_FAILED, EventName.TASK_INSTANCE_FAILED_INTERRUPTED})
SHOWN_JOBS = 3
JOB_CHARS = 64


class Fold(NamedTuple):
    """The task-instance failures on one abnormal node's instance, alerted with the node."""

    instance_id: str
    failures: int
    interrupted: int
    jobs: tuple[str, ...]  # every distinct job id, in order of appearance

    @property
    def text(self) -> str:
        """`12 task instances failed on this node (ins-x): 3 interrupted, jobs job-a, job-b`."""
        noun = "task instance" if self.failures == 1 else "task instances"
        parts = []
        if self.interrupted:
            parts.append(f"{self.interrupted} interrupted (kept and still billing)")
        shown = ", ".join(clip_chars(job, JOB_CHARS) for job in self.jobs[:SHOWN_JOBS])
        more = f" and {len(self.jobs) - SHOWN_JOBS} more" if len(self.jobs) > SHOWN_JOBS else ""
        parts.append(f"job{'s' if len(self.jobs) > 1 else ''} {shown}{more}")
        where = clip_chars(self.instance_id, JOB_CHARS)
        return f"{self.failures} {noun} failed on this node ({where}): {'; '.join(parts)}"


class _Folding(Record):
    __slots__ = ("failures", "interrupted", "jobs")

    def __init__(
        self, failures: int = 0, interrupted: int = 0, jobs: Optional[dict[str, None]] = None
    ) -> None:
        self.failures = failures
        self.interrupted = interrupted
        self.jobs: dict[str, None] = {} if jobs is None else jobs


def inhibit(groups: list[Group]) -> tuple[list[Group], dict[GroupKey, tuple[Fold, ...]], int]:
    """Groups left after folding, the folds per node group, and how many events were folded.

    A folded event's records join the node group's records: when the node's alert is not delivered,
    they come back too. A job group left with no event is dropped.
    """
    nodes: dict[tuple[str, str], GroupKey] = {}
    for group in groups:
        if group.key.kind != ENV:
            continue
        for event in group.events:
            if event.name is EventName.COMPUTE_NODE_ABNORMAL and event.instance_id:
                nodes.setdefault((group.key.region, event.instance_id), group.key)
    if not nodes:
        return groups, {}, 0
    by_key = {group.key: group for group in groups}
    foldings: dict[GroupKey, dict[str, _Folding]] = {}
    folded = 0
    kept: list[Group] = []
    for group in groups:
        if group.key.kind == ENV:
            kept.append(group)
            continue
        remaining = []
        targets: set[GroupKey] = set()
        for event in group.events:
            target = nodes.get((group.key.region, event.instance_id or ""))
            if target is None or event.name not in INSTANCE_FAILURES:
                remaining.append(event)
                continue
            folding = foldings.setdefault(target, {}).setdefault(event.instance_id or "", _Folding())
            folding.failures += 1
            folding.interrupted += int(event.is_interrupted)
            folding.jobs[group.key.id] = None
            by_key[target].records.add(event.source.index)
            targets.add(target)
            folded += 1
        group.events[:] = remaining
        if group.events:
            kept.append(group)
            continue
        # Every event went to a node's alert, and so do the group's records (duplicates included).
        for target in targets:
            by_key[target].records |= group.records
    folds = {
        key: tuple(Fold(iid, f.failures, f.interrupted, tuple(f.jobs)) for iid, f in per_node.items())
        for key, per_node in foldings.items()
    }
    return kept, folds, folded
