"""The Tag fake: on loopback for the functions (shared.tcapi), behind `responses` for the tools (the SDK)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import responses

from localcloud.tag import DEFAULT_ENDPOINT, VERSION, tag_callback

from ..intercept import intercept
from ..loopback import session_server
from .backend import TagBackend

__all__ = ["DEFAULT_ENDPOINT", "SERVER", "VERSION", "fake_tag_api", "register_tag"]

SERVER = session_server("tag", keep_alive=True)


def register_tag(mock: responses.RequestsMock, backend: TagBackend, endpoint: str = DEFAULT_ENDPOINT) -> None:
    """Route the SDK's POST <endpoint>/ to the fake Tag API (the tools' SDK clients)."""
    mock.add_callback(responses.POST, f"{endpoint.rstrip('/')}/", callback=tag_callback(backend))


@contextmanager
def fake_tag_api(backend: TagBackend, *, endpoint: str = DEFAULT_ENDPOINT) -> Iterator[TagBackend]:
    """The functions' Tag calls to `endpoint` answered by `backend` on loopback, for the block."""
    with SERVER.mount({"/": tag_callback(backend)}), intercept(endpoint, SERVER):
        yield backend
