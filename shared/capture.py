"""CAPTURE_RAW_EVENTS=N: log the first N raw records an instance receives, to settle open points.

The count is per SCF instance (module state survives warm invocations, not new instances). The
logger scrubs secret setting values (push token, webhook keys) from what it writes.
"""

from __future__ import annotations

from .log import JsonLogger
from .settings import env_int

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Iterable


class _Count:
    """How many raw items this instance has logged so far."""

    value = 0


def capture_raw(kind: str, items: Iterable[Any], log: JsonLogger) -> int:
    """Log raw items while this instance's count is below CAPTURE_RAW_EVENTS; returns how many it logged."""
    limit = env_int("CAPTURE_RAW_EVENTS", 0, minimum=0)
    logged = 0
    for item in items:
        if _Count.value >= limit:
            break
        _Count.value += 1
        logged += 1
        log.info("raw record captured", kind=kind, capture_n=_Count.value, capture_limit=limit, raw=item)
    return logged


def reset() -> None:
    """Forget what was captured (tests)."""
    _Count.value = 0
