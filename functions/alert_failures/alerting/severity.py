"""How bad a group is, and the words a message starts with."""

from __future__ import annotations

from enum import IntEnum

from shared.catalogue import EventName
from shared.models import BatchEvent


class Severity(IntEnum):
    """How bad a group is; the strongest event of the group decides. RECOVERED is good news."""

    RECOVERED = -1
    NOTICE = 0
    FAILED = 1
    ABNORMAL = 2
    INTERRUPTED = 3

    @property
    def badge(self) -> str:
        """The word a message starts with."""
        return self.name

    @property
    def note(self) -> str:
        """What the reader must know beyond 'failed' ('' when nothing)."""
        return _NOTES.get(self, "")


_NOTES = {
    Severity.ABNORMAL: "A compute node is abnormal: it may still be billing. Check it or terminate it.",
    Severity.INTERRUPTED: (
        "Interrupted: the failed instances are KEPT and still billing until the job is retried or terminated."
    ),
}


def severity_of(event: BatchEvent) -> Severity:
    """Interrupted and abnormal-node events are called out; other failures are failures."""
    if event.is_interrupted:
        return Severity.INTERRUPTED
    if event.name is EventName.COMPUTE_NODE_ABNORMAL:
        return Severity.ABNORMAL
    return Severity.FAILED if event.is_failure else Severity.NOTICE
