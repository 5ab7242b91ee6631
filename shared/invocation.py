"""The SCF context, read defensively (dict, object or None), and the time the invocation has left."""

from __future__ import annotations

import time

from .record import Record

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

DEFAULT_TIME_LIMIT_MS = 3000  # SCF's default timeout, used when the context does not say
MIN_MARGIN_S = 0.5  # logging the outcome and answering take well under this


def scaled_margin_s(time_limit_ms: int, ceiling_s: float) -> float:
    """Seconds to keep free before SCF's timeout: a tenth of the limit, within 0.5 s and `ceiling_s`,
    so that at SCF's default 3 s a function still has 2.5 s to act, and at a minute it keeps the ceiling."""
    return min(ceiling_s, max(MIN_MARGIN_S, time_limit_ms / 1000.0 * 0.1))


def _get(context: Any, key: str) -> Any:
    if context is None:
        return None
    if isinstance(context, dict):
        return context.get(key)
    return getattr(context, key, None)


def _as_int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Invocation(Record):
    """What the handler knows about its own invocation. Treated as immutable: `replace` makes a
    changed copy. Equality ignores the clock."""

    __slots__ = (
        "clock",
        "function_name",
        "memory_limit_mb",
        "region",
        "request_id",
        "started",
        "time_limit_ms",
    )

    def __init__(  # noqa: PLR0917 - the fields, as the dataclass it was took them
        self,
        request_id: Optional[str] = None,
        function_name: Optional[str] = None,
        region: Optional[str] = None,
        memory_limit_mb: Optional[int] = None,
        time_limit_ms: int = DEFAULT_TIME_LIMIT_MS,
        started: Optional[float] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_id = request_id
        self.function_name = function_name
        self.region = region
        self.memory_limit_mb = memory_limit_mb
        self.time_limit_ms = time_limit_ms
        # None means "now by `clock`": a start read from another clock than the one `elapsed_s` reads
        # would make the time left depend on how long the machine has been up.
        self.started: float = clock() if started is None else started
        self.clock = clock

    def replace(self, **changes: Any) -> Invocation:
        """A copy with some fields changed (the push path bounds the time limit)."""
        return Invocation(**{**{name: getattr(self, name) for name in self.__slots__}, **changes})

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__ if name != "clock")

    @classmethod
    def from_context(cls, context: Any, clock: Callable[[], float] = time.monotonic) -> Invocation:
        """Build from whatever SCF (or a local runner) passed as `context`."""
        limit = _as_int(_get(context, "time_limit_in_ms"))
        request_id = _get(context, "request_id")
        return cls(
            request_id=str(request_id) if request_id else None,
            function_name=_get(context, "function_name") or None,
            region=_get(context, "tencentcloud_region") or None,
            memory_limit_mb=_as_int(_get(context, "memory_limit_in_mb")),
            time_limit_ms=limit if limit and limit > 0 else DEFAULT_TIME_LIMIT_MS,
            started=clock(),
            clock=clock,
        )

    def elapsed_s(self) -> float:
        """Seconds since the handler started."""
        return self.clock() - self.started

    def remaining_s(self, margin_s: float = 0.0) -> float:
        """Seconds left before SCF's timeout, less `margin_s`; never negative."""
        return max(0.0, self.time_limit_ms / 1000.0 - self.elapsed_s() - margin_s)
