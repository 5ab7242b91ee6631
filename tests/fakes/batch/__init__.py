"""A stateful fake of the Tencent Cloud Batch API (backend = state, routes = the HTTP layer)."""

from .backend import BatchBackend, BatchError, FakeJob
from .routes import (
    DEFAULT_ENDPOINT,
    FakeBatchApi,
    batch_callback,
    fake_batch_api,
    register_batch,
    tencent_callback,
)

__all__ = [
    "DEFAULT_ENDPOINT",
    "BatchBackend",
    "BatchError",
    "FakeBatchApi",
    "FakeJob",
    "batch_callback",
    "fake_batch_api",
    "register_batch",
    "tencent_callback",
]
