"""What the four chat robots share: a digest in a storm, else one message per alert and per recovery."""

from __future__ import annotations

from abc import abstractmethod

from ..message import Message, alert_message
from ..outbox import Outbox, Payload
from .base import Channel

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any


class ChatChannel(Channel):
    """A chat robot: renders Messages (alert, digest, recovery) in its own markup."""

    def payloads(self, outbox: Outbox) -> list[Payload]:
        """One digest for the whole run, or one message per alert, then one per recovery."""
        if outbox.digest is not None:
            from ..digest import digest_message  # a storm's: imported on the runs that have one

            digest = outbox.digest
            label = f"digest of {len(outbox.units)} groups"
            return [Payload(outbox.units, label, digest.events, self.render(digest_message(digest)))]
        most = self.settings.max_items
        out = [
            Payload((unit,), str(alert.key), alert.total, self.render(alert_message(alert, most)))
            for unit, alert in enumerate(outbox.alerts)
        ]
        if outbox.recoveries:
            from ..recovery import recovery_message

            out += [
                Payload((outbox.recovery_unit(index),), str(r.key), 1, self.render(recovery_message(r)))
                for index, r in enumerate(outbox.recoveries)
            ]
        return out

    @abstractmethod
    def render(self, message: Message) -> dict[str, Any]:
        """The JSON body of one message, within the channel's size limit."""
