"""Churn arithmetic over node_event records, per environment.

The function and the operators' report share it: the function feeds it the records of one
invocation, the report the records of a whole CLS export, so both compute figures the same way.
Records are read defensively (an export may hold hand-edited or truncated lines).
"""

from __future__ import annotations

import math
from collections import Counter

from shared.record import Record

from .records import CHURN_SUMMARY

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Iterable, Mapping, Optional

CREATED = "COMPUTE_NODE_CREATED"
CREATION_FAILED = "COMPUTE_NODE_CREATION_FAILED"
ABNORMAL = "COMPUTE_NODE_ABNORMAL"
DELETING = "COMPUTE_NODE_DELETING"
NODE_PREFIX = "COMPUTE_NODE_"


def text(value: Any) -> Optional[str]:
    """A non-empty string field, else None."""
    if isinstance(value, str):
        return value.strip() or None
    return None


def number(value: Any) -> Optional[float]:
    """A finite number field (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def rate(part: int, whole: int) -> Optional[float]:
    """part / whole rounded to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def spread(values: Iterable[float]) -> dict[str, Any]:
    """min / median / max of the known values, and how many there were (nulls when none)."""
    known = sorted(values)
    if not known:
        return {"min": None, "median": None, "max": None, "known": 0}
    return {
        "min": _tidy(known[0]),
        "median": _tidy(median(known)),
        "max": _tidy(known[-1]),
        "known": len(known),
    }


def median(known: list[float]) -> float:
    """The median of sorted values, as statistics.median computes it (importing statistics, with
    fractions and decimal, was a tenth of log_node_churn's cold start)."""
    middle = len(known) // 2
    return known[middle] if len(known) % 2 else (known[middle - 1] + known[middle]) / 2


def _tidy(value: float) -> float:
    return int(value) if float(value).is_integer() else round(value, 3)


class EnvChurn(Record):
    """What one environment's node events add up to."""

    __slots__ = (  # noqa: RUF023 - declaration order, which repr follows
        "env_id",
        "env_name",
        "region",
        "counts",
        "nodes",
        "abnormal",
        "attempted",
        "failed",
        "ages",
        "lifetimes",
    )

    def __init__(  # noqa: PLR0917 - one parameter per field, positional as before
        self,
        env_id: Optional[str],
        env_name: Optional[str] = None,
        region: Optional[str] = None,
        counts: Optional[Counter[str]] = None,
        nodes: Optional[set[str]] = None,
        abnormal: Optional[set[str]] = None,
        attempted: Optional[set[str]] = None,
        failed: Optional[set[str]] = None,
        ages: Optional[list[float]] = None,
        lifetimes: Optional[list[float]] = None,
    ) -> None:
        self.env_id = env_id
        self.env_name = env_name
        self.region = region
        # None: a new empty counter, set or list for this environment (what `default_factory` gave).
        self.counts: Counter[str] = Counter() if counts is None else counts
        self.nodes: set[str] = set() if nodes is None else nodes
        self.abnormal: set[str] = set() if abnormal is None else abnormal
        self.attempted: set[str] = set() if attempted is None else attempted
        self.failed: set[str] = set() if failed is None else failed
        self.ages: list[float] = [] if ages is None else ages
        self.lifetimes: list[float] = [] if lifetimes is None else lifetimes

    def add(self, record: Mapping[str, Any], event: str, node: str) -> None:
        """Count one node_event record of this environment, its node key given. Its `env_name`,
        `region` and `node_age_s` are as node_event_record writes them (Churn.add makes an
        exported record's so)."""
        self.counts[event] += 1
        # The latest non-empty name and region win (an environment can be renamed).
        self.env_name = record["env_name"] or self.env_name
        self.region = record["region"] or self.region
        if not event.startswith(NODE_PREFIX):
            return
        self.nodes.add(node)
        if event == ABNORMAL:
            self.abnormal.add(node)
        if event in (CREATED, CREATION_FAILED):
            self.attempted.add(node)
        if event == CREATION_FAILED:
            self.failed.add(node)
        age = record["node_age_s"]
        if age is not None:
            # A negative age is clock skew (see records.node_age_s): it counts as zero here.
            age = float(age)
            if age < 0:
                age = 0.0
            self.ages.append(age)
            if event == DELETING:
                self.lifetimes.append(age)

    def figures(self) -> dict[str, Any]:
        """The churn_summary fields of this environment."""
        return {
            "kind": CHURN_SUMMARY,
            "env_id": self.env_id,
            "env_name": self.env_name,
            "region": self.region,
            "events": sum(self.counts.values()),
            "counts": dict(sorted(self.counts.items())),
            "nodes_seen": len(self.nodes),
            # Numerators and denominators travel with the rates so that CLS (or the report)
            # can add several invocations' lines up instead of averaging rates.
            "abnormal_nodes": len(self.abnormal),
            "abnormal_rate": rate(len(self.abnormal), len(self.nodes)),
            "creation_attempts": len(self.attempted),
            "creation_failures": len(self.failed),
            "creation_failure_rate": rate(len(self.failed), len(self.attempted)),
            "node_age_s": spread(self.ages),
            "lifetime_s": spread(self.lifetimes),
        }


def event_key(record: Mapping[str, Any]) -> str:
    """What makes one event one event, whichever delivery or invocation logged it: its name,
    environment, node and time (Batch publishes one event per node per transition). A record
    without a time falls back to its `fingerprint` (lines logged before it was dropped), then to
    its delivery (msg id and position), which still tells it from the others in its message."""
    moment = text(record.get("event_time"))
    if moment is not None:
        node = text(record.get("node_id")) or text(record.get("instance_id")) or ""
        return "|".join((text(record.get("event")) or "", text(record.get("env_id")) or "", node, moment))
    return text(record.get("fingerprint")) or f"{record.get('msg_id')}#{record.get('position')}"


class Churn(Record):
    """node_event records grouped by environment, each event counted once (by its natural key)."""

    __slots__ = ("envs", "seen", "duplicates")  # noqa: RUF023 - declaration order, which repr follows

    def __init__(
        self,
        envs: Optional[dict[Optional[str], EnvChurn]] = None,
        seen: Optional[set[str]] = None,
        duplicates: int = 0,
    ) -> None:
        # None: a new empty dict or set for this churn (what `default_factory` gave).
        self.envs: dict[Optional[str], EnvChurn] = {} if envs is None else envs
        self.seen: set[str] = set() if seen is None else seen
        self.duplicates = duplicates

    def add(self, record: Mapping[str, Any]) -> bool:
        """Count a record; False (and nothing counted) when it repeats one already counted. Read
        defensively: an exported line may hold anything (a fingerprint, unstripped or odd values)."""
        event = text(record.get("event"))
        if event is None:
            raise ValueError("node_event record has no event name")
        fields = {
            "env_name": text(record.get("env_name")),
            "region": text(record.get("region")),
            "node_age_s": number(record.get("node_age_s")),
        }
        key = event_key(record)
        # A node event that names no node still is one node (typically a creation failure).
        node = text(record.get("node_id")) or text(record.get("instance_id")) or f"?{key}"
        return self._count(key, text(record.get("env_id")), event, fields, node)

    def add_own(self, record: Mapping[str, Any]) -> bool:
        """`add` for a record that node_event_record built in this run: its texts are stripped
        strings or None (the envelope made them so), its age a finite number or None, and it has
        no fingerprint, so no field is checked again (about 0.6-0.9 us of an event's 20-30). The
        counting is `add`'s, which a test holds equal; records read back from an export, which
        may hold anything, go through `add`."""
        event = record["event"]
        env_id = record["env_id"]
        node = record["node_id"] or record["instance_id"]
        moment = record["event_time"]
        if moment is not None:
            key = f"{event}|{env_id or ''}|{node or ''}|{moment}"
        else:
            key = f"{record['msg_id']}#{record['position']}"
        return self._count(key, env_id, event, record, node or f"?{key}")  # no node: see add

    def _count(
        self, key: str, env_id: Optional[str], event: str, fields: Mapping[str, Any], node: str
    ) -> bool:
        if key in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(key)
        env = self.envs.get(env_id)
        if env is None:
            env = self.envs[env_id] = EnvChurn(env_id)
        env.add(fields, event, node)
        return True

    def summaries(self) -> list[dict[str, Any]]:
        """One churn_summary per environment, by env id (records without one last)."""
        ordered = sorted(self.envs.values(), key=lambda e: (e.env_id is None, e.env_id or ""))
        return [env.figures() for env in ordered]
