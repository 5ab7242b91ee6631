"""Batch console links. The console detail pages' URL shape is unconfirmed (docs/open-points.md)."""

from __future__ import annotations

from urllib.parse import quote

from .grouping import JOB, UNKNOWN, GroupKey


def console_link(base: str, key: GroupKey) -> str:
    """The console page of the group's job or compute environment; the list page when the id is unknown."""
    # Every value from an event is percent-encoded: no quote, bracket or space can end the link early.
    region = quote(key.region, safe="")
    if key.id == UNKNOWN:
        page = "job" if key.kind == JOB else "env"
        return f"{base}/{page}?region={region}"
    if key.kind == JOB:
        return f"{base}/job/detail?jobId={quote(key.id, safe='')}&region={region}"
    return f"{base}/env/detail?envId={quote(key.id, safe='')}&region={region}"
