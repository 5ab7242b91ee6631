"""Running alert_failures in tests: through the SCF runtime, with a sleep that only records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from shared.runtime import run


@dataclass
class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    now: float = 1000.0
    wall: float = 1_795_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        """Record the wait and move both clocks."""
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds

    def monotonic(self) -> float:
        """The monotonic clock."""
        return self.now

    def time(self) -> float:
        """The wall clock (signatures)."""
        return self.wall


def invoke(event: Any, *, fake_time: Optional[FakeTime] = None, time_limit_ms: int = 30000) -> dict[str, Any]:
    """The handler's path (parse, concern, raise on retry_records) with an injected sleep."""
    from alerting import make_concern

    sleep = fake_time.sleep if fake_time else _no_sleep
    context = {
        "request_id": "req-alert",
        "time_limit_in_ms": time_limit_ms,
        "tencentcloud_region": "ap-guangzhou",
    }
    return run(event, context, function="alert_failures", concern=make_concern(sleep=sleep))


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds}) in a test that scripts no rate limit")
