"""Every channel's payloads at once, one worker per channel, each channel's payloads in order."""

from __future__ import annotations

from typing import Callable

from .channels import Channel
from .delivery import Result, Sender
from .outbox import Outbox, Payload

MAX_WORKERS = 8  # one thread per channel; there are five kinds of channel

Report = Callable[[Payload, Channel, Result], None]


def deliver_all(outbox: Outbox, channels: list[Channel], sender: Sender, report: Report) -> None:
    """Render and send every channel's payloads; `report` hears of each result (from the workers)."""
    # Imported here, like shared.http: only a run that sends needs it.
    from concurrent.futures import ThreadPoolExecutor

    # Each request's timeout is bounded by the time left, so every worker ends before SCF's limit
    # and leaving the block (shutdown with wait=True) returns in time.
    with ThreadPoolExecutor(max_workers=min(len(channels), MAX_WORKERS)) as pool:
        futures = [pool.submit(_deliver_channel, channel, outbox, sender, report) for channel in channels]
    for future in futures:
        future.result()  # a worker's unexpected error is raised here, as it was before threads


def _deliver_channel(channel: Channel, outbox: Outbox, sender: Sender, report: Report) -> None:
    """One channel's worker: its payloads one after the other, which keeps within the robot's rate limit."""
    for payload in channel.payloads(outbox):
        try:
            result = sender.send(channel, payload.body)
        except Exception as exc:  # a bug in one send must not raise after the others sent
            # Raising here would make the runtime handle the batch again record by record, sending
            # every message that did go out a second time: this payload alone is reported undelivered.
            result = Result(False, 0, f"could not send: {type(exc).__name__}: {str(exc)[:200]}")
        report(payload, channel, result)
