"""Queues with visibility timeouts, receive counts, dead-letter queues and scripted faults."""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Optional


class FakeClock:
    """A clock the test moves: the fake API and the handler's Invocation share it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class WallClock(FakeClock):
    """Real time, plus the long polls the fake answered at once (for a server that runs for a while)."""

    def __init__(self) -> None:
        super().__init__(time.monotonic())
        self._offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds


@dataclass
class Message:
    """One message in a queue, with its visibility and receive count."""

    msg_id: str
    body: str
    visible_at: float = 0.0
    dequeue_count: int = 0
    handle: Optional[str] = None


@dataclass
class Queue:
    """One queue, its visibility timeout, dead-letter policy and messages."""

    name: str
    visibility_timeout: int = 30
    max_receive_count: int = 0  # 0: no dead-letter policy
    dead_letter: Optional[str] = None
    messages: list[Message] = field(default_factory=list)


class CmqBackend:
    """The state the fake API answers from."""

    def __init__(self, clock: Optional[FakeClock] = None, receive_cost_s: float = 0.05) -> None:
        self.clock = clock or FakeClock()
        self.queues: dict[str, Queue] = {}
        self.receive_cost_s = receive_cost_s
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.fail_delete_ids: set[str] = set()
        self.fail_all_deletes = False
        self.receive_error_code: Optional[int] = None
        # A scripted timeout holds the answer this long at most (the hold ends when the client leaves).
        self.hang_s = 10.0
        self.delivered = 0  # messages handed out by receives (a redelivery counts again)
        self.deleted: list[Message] = []
        self._faults: deque[str] = deque()
        self._ids = itertools.count(1)

    def script(self, *faults: str) -> None:
        """Leave the next requests (any action) unanswered: timeout (held) or reset (connection reset)."""
        self._faults.extend(faults)

    def next_fault(self) -> Optional[str]:
        """The next scripted fault, if any."""
        return self._faults.popleft() if self._faults else None

    def create_queue(
        self,
        name: str,
        visibility_timeout: int = 30,
        max_receive_count: int = 0,
        dead_letter: Optional[str] = None,
    ) -> Queue:
        """A queue (replacing one of that name)."""
        self.queues[name] = Queue(name, visibility_timeout, max_receive_count, dead_letter)
        return self.queues[name]

    def send(self, queue: str, body: str) -> str:
        """Enqueue a message; its msgId."""
        msg_id = f"msg-{next(self._ids):06d}"
        self.queues[queue].messages.append(Message(msg_id, body))
        return msg_id

    def receive(self, queue: str, count: int, wait_s: int) -> list[Message]:
        """BatchReceiveMessage: up to `count` visible messages, each with a new receipt handle."""
        q = self.queues[queue]
        now = self.clock()
        got: list[Message] = []
        for message in list(q.messages):
            if len(got) >= count:
                break
            if message.visible_at > now:
                continue
            if q.max_receive_count and message.dequeue_count >= q.max_receive_count and q.dead_letter:
                q.messages.remove(message)
                message.handle = None
                self.queues[q.dead_letter].messages.append(message)
                continue
            message.dequeue_count += 1
            message.visible_at = now + q.visibility_timeout
            message.handle = f"h-{message.msg_id}-{message.dequeue_count}"
            got.append(message)
        self.delivered += len(got)
        # A long poll on an empty queue waits the whole time; answers with messages come at once.
        self.clock.advance(self.receive_cost_s if got else max(wait_s, self.receive_cost_s))
        return got

    def delete(self, queue: str, handles: list[str]) -> list[tuple[str, str]]:
        """BatchDeleteMessage: the (handle, reason) pairs that could not be deleted."""
        q = self.queues[queue]
        failed: list[tuple[str, str]] = []
        for handle in handles:
            message = next((m for m in q.messages if m.handle == handle), None)
            if self.fail_all_deletes or message is None or message.msg_id in self.fail_delete_ids:
                failed.append((handle, "invalid receiptHandle"))
                continue
            q.messages.remove(message)
            self.deleted.append(message)
        return failed

    def visible_count(self, queue: str) -> int:
        """Messages left in the queue (visible or not)."""
        return len(self.queues[queue].messages)
