"""One Tencent Cloud API call, retried with jittered backoff on transient errors within the time left."""

from __future__ import annotations

from shared.cloud import set_request_timeout

from .errors import ApiError
from .timing import Deadline

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, TypeVar

if TYPE_CHECKING:
    T = TypeVar("T")

# Worth another try: throttling, the service's own trouble, and no (or no readable) answer.
_TRANSIENT_PREFIXES = ("RequestLimitExceeded", "InternalError", "ClientNetworkError", "ServerNetworkError")
# An unreadable body (an HTML error page from a proxy, a cut answer) is reported by the name of the
# Python exception met while decoding it, as the SDK's clients do (shared.tcapi keeps that).
_MALFORMED_BODY = frozenset(
    {"JSONDecodeError", "KeyError", "TypeError", "ValueError", "AttributeError", "RecursionError"}
)
# Throttling means the call was not carried out: the only error after which a state-changing call
# (RetryJobs, TerminateJob) may be sent again. After a lost or unreadable answer it may have taken
# effect, so the next delivery's DescribeJob decides instead.
_NOT_CARRIED_OUT = ("RequestLimitExceeded",)
# Batch refuses an operation the job's current state does not allow with one of these.
_STATE_PREFIXES = ("UnsupportedOperation", "ResourceInUse", "FailedOperation")

MAX_TRIES = 8
BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0
MAX_CALL_S = 10.0  # the longest any one request may wait for its answer
MIN_CALL_S = 0.5  # below this a request is not started: it would be cut off, its effect unknown


def is_transient(code: str) -> bool:
    """True for error codes a later call may not get."""
    return code.startswith(_TRANSIENT_PREFIXES) or code in _MALFORMED_BODY


def is_state_error(code: str) -> bool:
    """True when Batch refused because of the resource's state."""
    return code.startswith(_STATE_PREFIXES)


class Caller:
    """Runs API calls: transient errors are retried with equal-jitter backoff until time runs out."""

    def __init__(self, deadline: Deadline, *, max_tries: int = MAX_TRIES) -> None:
        self.deadline = deadline
        self.max_tries = max_tries
        self.calls = 0

    def delay_s(self, attempt: int) -> float:
        """Half the exponential step fixed, half random: spreads callers and always moves the clock."""
        step = min(MAX_DELAY_S, BASE_DELAY_S * (2**attempt))
        return float(step / 2 + self.deadline.timing.random() * step / 2)

    def call(self, action: str, fn: Callable[[], T], *, mutating: bool = False, client: Any = None) -> T:
        """`fn()` or ApiError (transient=True when time or tries ran out on transient errors).

        No request starts without MIN_CALL_S left before the deadline (which keeps the margin), and
        `client`'s request timeout is cut to the time left before each one, so no answer is awaited
        past the deadline. A `mutating` call is sent again only after throttling, never after an
        answer that was lost.
        """
        attempt = 0
        while True:
            remaining = self.deadline.remaining_s()
            if remaining < MIN_CALL_S:
                # SCF would stop us mid-request: leave it to the redelivery, which sees the state.
                what = "a state change" if mutating else "another request"
                raise ApiError(action, "DeadlineExceeded", f"no time left for {what}", transient=True)
            if client is not None:
                set_request_timeout(client, min(MAX_CALL_S, remaining))
            self.calls += 1
            try:
                return fn()
            except Exception as exc:
                # The SDK's error type, imported only when a call fails: a run whose calls succeed
                # never loads the SDK (about 1 ms of a 3.9 cold start).
                from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
                    TencentCloudSDKException,
                )

                if not isinstance(exc, TencentCloudSDKException):
                    raise
                code = str(exc.get_code() or "UnknownError")
                message = str(exc.get_message() or "")[:300]
                request_id = str(exc.get_request_id() or "")
            transient = is_transient(code)
            attempt += 1
            if (
                not transient
                or (mutating and not code.startswith(_NOT_CARRIED_OUT))
                or attempt >= self.max_tries
                or not self.deadline.sleep(self.delay_s(attempt - 1))
            ):
                raise ApiError(action, code, message, transient=transient, request_id=request_id)
