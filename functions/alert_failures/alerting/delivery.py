"""Sending one body to one channel: a timeout on every request, rate limits retried within the time left.

One Sender serves every channel's worker thread at once: the Deadline only reads a monotonic clock, and
the set of channels that are down is guarded by a lock.
"""

from __future__ import annotations

import time
from _thread import allocate_lock  # threading.Lock itself, without importing threading

from shared.invocation import Invocation
from shared.record import NamedTuple

from .channels.base import Channel, Verdict

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

BASE_DELAY_S = 1.0
MAX_DELAY_S = 16.0
MIN_SEND_S = 0.5  # below this there is no point starting a request
CHANNEL_DOWN = "channel down after a timeout earlier in this run"

if TYPE_CHECKING:
    Post = Callable[..., Any]
else:
    Post = None  # for annotations only (they are strings at run time): mypy reads the alias above


class Deadline:
    """The time the SCF invocation has left for sends and waits, less a margin; sleep is injectable."""

    def __init__(self, invocation: Invocation, margin_s: float, sleep: Callable[[float], None]) -> None:
        self.invocation = invocation
        self.margin_s = margin_s
        self._sleep = sleep

    def remaining_s(self) -> float:
        """Seconds left, never negative."""
        return self.invocation.remaining_s(self.margin_s)

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds` if a request still fits afterwards; False (without waiting) when not."""
        if seconds + MIN_SEND_S > self.remaining_s():
            return False
        self._sleep(seconds)
        return True


class Result(NamedTuple):
    """How one delivery ended."""

    ok: bool
    attempts: int
    detail: str


def backoff_s(attempt: int) -> float:
    """1, 2, 4, 8, 16, 16 ... seconds after the attempt-th rate-limited answer."""
    return float(min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1)))


class Sender:
    """Delivers bodies; the clock used for signatures and the POST function are injectable.

    A channel whose request timed out is down for the rest of the run: a robot that hangs once would
    hang again and spend the time the invocation has left on nothing.
    """

    def __init__(
        self,
        deadline: Deadline,
        *,
        timeout_s: float,
        max_attempts: int,
        wall_clock: Callable[[], float] = time.time,
        post: Optional[Post] = None,
    ) -> None:
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.wall_clock = wall_clock
        self._post = post
        self._down: set[str] = set()
        self._lock = allocate_lock()

    def down(self) -> list[str]:
        """The channels that timed out in this run, by name."""
        with self._lock:
            return sorted(self._down)

    def send(self, channel: Channel, body: dict[str, Any]) -> Result:
        """POST until delivered, refused for good, out of attempts or out of time."""
        from shared.http import HttpError
        from shared.http import post as http_post

        post = self._post or http_post
        attempt = 0
        detail = "not attempted"
        while True:
            with self._lock:
                if channel.name in self._down:
                    return Result(False, attempt, CHANNEL_DOWN)
            request = channel.request(body, self.wall_clock())
            # Read last, just before the request: the timeout is never longer than the time left.
            remaining = self.deadline.remaining_s()
            if remaining < MIN_SEND_S:
                return Result(False, attempt, f"{detail}; no time left")
            attempt += 1
            try:
                answer = post(
                    request.url,
                    json_body=request.json_body,
                    params=request.params,
                    timeout_s=min(self.timeout_s, remaining),
                )
                verdict = channel.check(answer)
            except HttpError as exc:
                if exc.timeout:
                    # It may have delivered: not repeated here (SCF's retry will); the channel is down.
                    with self._lock:
                        self._down.add(channel.name)
                    return Result(False, attempt, channel.scrub(str(exc)))
                verdict = Verdict(False, channel.scrub(str(exc)), retryable=True)
            if verdict.ok:
                return Result(True, attempt, "delivered")
            detail = verdict.detail
            if not verdict.retryable or attempt >= self.max_attempts:
                return Result(False, attempt, detail)
            wait = verdict.retry_after_s if verdict.retry_after_s is not None else backoff_s(attempt)
            if not self.deadline.sleep(wait):
                return Result(False, attempt, f"{detail}; no time left to wait {wait:.0f}s and retry")
