"""A stateful fake of the Tencent Cloud Batch API (backend = state, routes = the HTTP layer)."""

from .backend import FAILED_STATES, BatchBackend, BatchError, FakeInstance, FakeJob, FakeTask
from .routes import DEFAULT_ENDPOINT, SERVICE, VERSION, batch_callback, batch_dispatch

__all__ = [
    "DEFAULT_ENDPOINT",
    "FAILED_STATES",
    "SERVICE",
    "VERSION",
    "BatchBackend",
    "BatchError",
    "FakeInstance",
    "FakeJob",
    "FakeTask",
    "batch_callback",
    "batch_dispatch",
]
