"""What a run did in the local cloud, told the way it would have happened in the real one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .chat import CHANNELS, Received
from .cloud import ApiCall, LocalCloud, Mark
from .render import message_title, text_lines

# Calls that change something: listed one by one; reads are counted.
WRITES = ("RetryJobs", "TerminateJob", "ModifyResourceTags")


@dataclass(frozen=True)
class Report:
    """The API calls, queue traffic and chat messages since a mark."""

    api: tuple[ApiCall, ...]
    messages: tuple[Received, ...]
    received: int
    deleted: int
    left: dict[str, int]

    def count(self, action: str) -> int:
        """How many calls of `action` were answered without an error."""
        return sum(1 for c in self.api if c.action == action and not c.error)

    def figures(self) -> dict[str, int]:
        """The key numbers: jobs retried and terminated, tags written, messages posted and refused."""
        retried = sum(
            len(c.params.get("JobIds") or []) for c in self.api if c.action == "RetryJobs" and not c.error
        )
        return {
            "RetryJobs": retried,
            "TerminateJob": self.count("TerminateJob"),
            "tags": self.count("ModifyResourceTags"),
            "posted": sum(1 for m in self.messages if m.accepted),
            "refused": sum(1 for m in self.messages if not m.accepted),
            "deleted": self.deleted,
        }

    def lines(self) -> list[str]:
        """A short human account, one line per thing done, then each chat message as a person reads it."""
        out = [f"  {line}" for line in (*self._api_lines(), *self._queue_lines(), *self._chat_lines())]
        return (out or ["  nothing: no API call, no queue message, no chat message"]) + self._readable()

    def _readable(self) -> list[str]:
        # One channel's copy of each message (they say the same): the first channel that got any.
        for channel in CHANNELS:
            items = [m for m in self.messages if m.channel == channel and m.accepted and channel != "webhook"]
            if items:
                out = [f"--- each message as {channel} shows it, in plain text:"]
                for item in items:
                    out += ["  | " + line for line in text_lines(channel, item.body)] + ["  |"]
                return out[:-1]
        return []

    def _api_lines(self) -> list[str]:
        out = []
        for service, name in (("batch", "Batch API"), ("tag", "Tag API")):
            calls = [c for c in self.api if c.service == service]
            if not calls:
                continue
            reads = Counter(c.action for c in calls if c.action not in WRITES)
            lines = [" · ".join(f"{action} ×{n}" for action, n in reads.items())] if reads else []
            lines += [_write(c) for c in calls if c.action in WRITES]
            out += [f"{name if n == 0 else '':<10} {line}" for n, line in enumerate(lines)]
        return out

    def _queue_lines(self) -> list[str]:
        if not (self.received or self.deleted):
            return []
        left = ", ".join(f"{name}: {n} left" for name, n in self.left.items() if n)
        return [
            f"{'queue':<10} {self.received} message(s) received, {self.deleted} deleted"
            + (f"; {left}" if left else "")
        ]

    def _chat_lines(self) -> list[str]:
        out = []
        for channel in CHANNELS:
            items = [m for m in self.messages if m.channel == channel]
            for item in items:
                verdict = "posted" if item.accepted else f"REFUSED ({item.status} {item.answer[:80]})"
                out.append(f"{channel:<10} {verdict}: {message_title(item)[:100]}")
        return out


def _write(call: ApiCall) -> str:
    params: dict[str, Any] = call.params
    if call.action == "RetryJobs":
        what = ", ".join(str(j) for j in params.get("JobIds") or [])
    elif call.action == "TerminateJob":
        what = str(params.get("JobId", ""))
    else:
        job = str(params.get("Resource", "")).rsplit("/", 1)[-1]
        tags = ", ".join(f"{t.get('TagKey')}={t.get('TagValue')}" for t in params.get("ReplaceTags") or [])
        what = f"{tags} on {job}"
        return f"tag {what} [{call.region}]" + (f" (answered {call.error})" if call.error else "")
    result = f" (answered {call.error})" if call.error else ""
    return f"{call.action} {what} [{call.region}]{result}"


def report(cloud: LocalCloud, since: Mark) -> Report:
    """What the cloud received after `since`."""
    return Report(
        api=tuple(cloud.api_calls[since.api :]),
        messages=tuple(cloud.chat.received[since.chat :]),
        received=cloud.cmq.delivered - since.delivered,
        deleted=len(cloud.cmq.deleted) - since.deleted,
        left={name: len(q.messages) for name, q in cloud.cmq.queues.items()},
    )
