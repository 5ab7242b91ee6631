"""The Batch fake behind `responses` (the SDK's requests), or as localcloud's callback on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import responses

from localcloud.batch import DEFAULT_ENDPOINT, VERSION, batch_callback
from localcloud.tencent import tencent_callback

from .backend import BatchBackend

__all__ = [
    "DEFAULT_ENDPOINT",
    "VERSION",
    "batch_callback",
    "fake_batch_api",
    "register_batch",
    "tencent_callback",
]


def register_batch(
    mock: responses.RequestsMock, backend: BatchBackend, endpoint: str = DEFAULT_ENDPOINT
) -> None:
    """Route POST <endpoint>/ to the fake Batch API."""
    mock.add_callback(
        responses.POST,
        f"{endpoint.rstrip('/')}/",
        callback=batch_callback(backend),
    )


@contextmanager
def fake_batch_api(
    backend: BatchBackend, *, endpoint: str = DEFAULT_ENDPOINT, tag: Any = None
) -> Iterator[responses.RequestsMock]:
    """Intercept the Batch API (and the Tag API, given a TagBackend) for the duration of the block."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_batch(mock, backend, endpoint)
        if tag is not None:
            from tests.fakes.tag import register_tag

            register_tag(mock, tag)
        yield mock
