"""The queue API (localcloud.cmq) on the session's loopback server, at a constant ENDPOINT."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from localcloud.cmq import PATH, SECRET_KEY, cmq_callback
from tests.fakes.loopback import Mount, session_server

from .backend import CmqBackend

__all__ = ["ENDPOINT", "HOST", "PATH", "SERVER", "cmq_callback", "fake_cmq_api"]

# The queue API answers on one loopback server for the whole session: CMQ_ENDPOINT=ENDPOINT reaches it,
# and the client signs HOST (127.0.0.1:PORT), which the callback checks.
SERVER = session_server("cmq")
ENDPOINT = SERVER.base_url
HOST = SERVER.netloc


@contextmanager
def fake_cmq_api(
    backend: CmqBackend, endpoint: str = ENDPOINT, secret_key: str = SECRET_KEY
) -> Iterator[Mount]:
    """Serve the queue API at ENDPOINT for the block; requests must be signed with `secret_key`.

    Yields the mount: `.calls[n].request` is each request as it arrived (`headers`, `body` bytes).
    """
    parsed = urlparse(endpoint)
    if (parsed.scheme, parsed.netloc) != ("http", HOST):
        raise ValueError(f"the fake queue API answers only at tests.fakes.cmq.ENDPOINT, not {endpoint}")
    with SERVER.mount({PATH: cmq_callback(backend, HOST, secret_key)}) as mount:
        yield mount
