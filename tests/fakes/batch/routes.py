"""The Batch fake: on loopback for the functions (shared.tcapi), behind `responses` for the tools (the
SDK's requests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Optional

import responses

from localcloud.batch import DEFAULT_ENDPOINT, VERSION, batch_callback
from localcloud.tencent import Answer, tencent_callback

from ..intercept import intercept
from ..loopback import session_server
from .backend import BatchBackend

__all__ = [
    "DEFAULT_ENDPOINT",
    "SERVER",
    "VERSION",
    "FakeBatchApi",
    "batch_callback",
    "fake_batch_api",
    "register_batch",
    "tencent_callback",
]

SERVER = session_server("batch", keep_alive=True)  # as the API: a warm instance reuses its connection


def register_batch(
    mock: responses.RequestsMock, backend: BatchBackend, endpoint: str = DEFAULT_ENDPOINT
) -> None:
    """Route the SDK's POST <endpoint>/ to the fake Batch API (the tools' SDK clients)."""
    mock.add_callback(
        responses.POST,
        f"{endpoint.rstrip('/')}/",
        callback=batch_callback(backend),
    )


class FakeBatchApi:
    """The fake Batch API a block talks to; `answer_with` makes it answer every call the same way."""

    def __init__(self, backend: BatchBackend) -> None:
        self.backend = backend
        self.fixed: Optional[Answer] = None
        self._callback = batch_callback(backend)

    def answer_with(self, status: int, content_type: str, body: str) -> None:
        """Answer every following call with this status and body (a proxy's page, a cut answer)."""
        self.fixed = (status, {"Content-Type": content_type}, body)

    def __call__(self, request: Any) -> Answer:
        if self.fixed is not None:
            return self.fixed
        return self._callback(request)


@contextmanager
def fake_batch_api(
    backend: BatchBackend, *, endpoint: str = DEFAULT_ENDPOINT, tag: Any = None
) -> Iterator[FakeBatchApi]:
    """The functions' Batch calls to `endpoint` (and Tag calls, given a TagBackend) answered by the
    fakes on loopback, for the block."""
    from shared import cloud

    api = FakeBatchApi(backend)
    if tag is not None:
        from tests.fakes.tag import fake_tag_api

        tags: Any = fake_tag_api(tag)
    else:
        tags = nullcontext()
    cloud.forget_clients()
    try:
        with SERVER.mount({"/": api}), intercept(endpoint, SERVER), tags:
            yield api
    finally:
        cloud.forget_clients()
