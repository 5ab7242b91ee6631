"""Exceptions of the retrying package; one base class."""

from __future__ import annotations

from shared.errors import BatchEventsError


class RetryingError(BatchEventsError):
    """Base class of what the retrying package raises on purpose."""


class ApiError(RetryingError):
    """A Tencent Cloud API call failed; `transient` when a later call may succeed."""

    def __init__(
        self, action: str, code: str, message: str, *, transient: bool, request_id: str = ""
    ) -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.action = action
        self.code = code
        self.message = message
        self.transient = transient
        self.request_id = request_id
