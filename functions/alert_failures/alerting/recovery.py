"""A recovery notice: a job that failed, was retried automatically by retry_interrupted, and succeeded."""

from __future__ import annotations

from datetime import datetime, timezone

from shared.record import NamedTuple

from .alert import TEXT_CHARS, event_time
from .clip import clip_chars
from .compose import LINK_TEXT, Budget, Markup
from .grouping import Group, GroupKey
from .links import console_link
from .message import Message
from .severity import Severity

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Optional


class Recovery(NamedTuple):
    """One job's recovery: how many automatic retries it took and when it succeeded."""

    key: GroupKey
    job_name: str
    retries: int
    time: str
    ended: Optional[datetime]  # the JOB_SUCCEED event's time
    failed: Optional[datetime]  # the retried failure's end time (the ledger's marker), when readable
    link: str
    records: frozenset[int]

    @property
    def subject(self) -> str:
        """`Batch job <name> (<id>) recovered`."""
        ident = clip_chars(self.key.id, TEXT_CHARS)
        name = f"{clip_chars(self.job_name, TEXT_CHARS)} ({ident})" if self.job_name else ident
        return f"Batch job {name} recovered"

    @property
    def summary(self) -> str:
        """`recovered after 2 automatic retries`."""
        noun = "retry" if self.retries == 1 else "retries"
        return f"recovered after {self.retries} automatic {noun}"


def marker_time(marker: str) -> Optional[datetime]:
    """The ledger's marker (the digits of the failure's EndTime, 20261120083500) as a UTC time."""
    if len(marker) != 14 or not marker.isdigit():
        return None
    try:
        return datetime.strptime(marker, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def recovery_of(group: Group, retries: int, marker: str, console_base: str) -> Recovery:
    """The recovery of a group of JOB_SUCCEED events (the first one says when)."""
    first = group.events[0]
    return Recovery(
        key=group.key,
        job_name=group.first("job_name") or "",
        retries=retries,
        time=event_time(first),
        ended=first.time,
        failed=marker_time(marker),
        link=console_link(console_base, group.key),
        records=frozenset(group.records),
    )


def recovery_message(recovery: Recovery) -> Message:
    """The short chat notice: what recovered, after how many retries, when; it mentions nobody."""

    def lines(markup: Markup, budget: Budget, with_link: bool) -> list[str]:
        out = [
            markup.bold(recovery.summary[:1].upper() + recovery.summary[1:]),
            f"{markup.bold('Region')}: {markup.escape(recovery.key.region, budget.clip)}",
            f"{markup.bold('Job')}: {markup.escape(recovery.key.id, budget.clip)}",
            f"{markup.bold('When')}: {recovery.time}",
        ]
        if with_link:
            out.append(markup.link(LINK_TEXT, recovery.link))
        return out

    return Message(Severity.RECOVERED, recovery.subject, recovery.link, lines, mention=False)
