"""What one run has to say: the alerts, the recovery notices and, in a storm, the digest of them all.

Each alert and each recovery is a unit, numbered alerts first; a payload names the units it carries,
so that a payload a channel missed brings back exactly those units' records.
"""

from __future__ import annotations

from shared.record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

if TYPE_CHECKING:  # annotations only: a run without a storm or recoveries never imports those modules
    from .alert import Alert
    from .digest import Digest
    from .recovery import Recovery


class Payload(NamedTuple):
    """One request body for one channel, and the units it carries."""

    units: tuple[int, ...]
    label: str  # the group, or the digest, as logs name it
    events: int
    body: dict[str, Any]


class Outbox(NamedTuple):
    """The run's alerts and recoveries; `digest` is set when the chat channels get one message."""

    alerts: tuple[Alert, ...]
    recoveries: tuple[Recovery, ...] = ()
    digest: Optional[Digest] = None

    def recovery_unit(self, index: int) -> int:
        """The unit number of the index-th recovery."""
        return len(self.alerts) + index

    @property
    def units(self) -> tuple[int, ...]:
        """Every unit."""
        return tuple(range(len(self.alerts) + len(self.recoveries)))

    def records(self, units: set[int]) -> frozenset[int]:
        """The source records of these units."""
        out: set[int] = set()
        for unit in units:
            if unit < len(self.alerts):
                out |= self.alerts[unit].records
            else:
                out |= self.recoveries[unit - len(self.alerts)].records
        return frozenset(out)
