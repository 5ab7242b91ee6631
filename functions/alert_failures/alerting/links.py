"""Batch console links. The console detail pages' URL shape is unconfirmed (docs/open-points.md)."""

from __future__ import annotations

from urllib.parse import quote

from .grouping import JOB, UNKNOWN, GroupKey

# Batch ids are a dozen characters; a longer one is not an id the console knows, and a link must stay
# short enough for every message (a 1 MB id would make a 3 MB link): the list page instead.
MAX_ID_CHARS = 64
MAX_REGION_CHARS = 40


def console_link(base: str, key: GroupKey) -> str:
    """The console page of the group's job or compute environment; the list page when the id is unknown."""
    # Every value from an event is percent-encoded: no quote, bracket or space can end the link early.
    region = quote(key.region[: MAX_REGION_CHARS + 1], safe="")
    query = f"region={region}" if len(region) <= MAX_REGION_CHARS else ""
    ident = quote(key.id[: MAX_ID_CHARS + 1], safe="")
    page = "job" if key.kind == JOB else "env"
    if key.id == UNKNOWN or len(ident) > MAX_ID_CHARS:
        return f"{base}/{page}?{query}" if query else f"{base}/{page}"
    name = "jobId" if key.kind == JOB else "envId"
    tail = f"&{query}" if query else ""
    return f"{base}/{page}/detail?{name}={ident}{tail}"
