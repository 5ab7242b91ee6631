"""Route shared/http.py's connections for one origin to a loopback server: what `responses` does for
requests, for our own client. The request is unchanged (its Host header, its signature); only the
socket goes to 127.0.0.1, in plain http."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from shared import http

from .loopback import LoopbackServer


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) as shared/http.py keys its connections."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme, host, parts.port or (443 if parts.scheme == "https" else 80)


@contextmanager
def intercept(url: str, server: LoopbackServer) -> Iterator[None]:
    """Connections to `url`'s origin reach `server` for the block (kept connections dropped on both
    sides of it, so none outlives the interception)."""
    wanted = origin_of(url)
    port = int(server.netloc.rsplit(":", 1)[1])
    previous = http._connect

    def connect(origin: Any, deadline: float) -> Any:
        if tuple(origin) == wanted:
            return previous(("http", "127.0.0.1", port), deadline)
        return previous(origin, deadline)

    http.forget_connections()
    http._connect = connect
    try:
        yield
    finally:
        http._connect = previous
        http.forget_connections()
