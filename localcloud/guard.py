"""While a function runs against the local cloud, no socket may leave the machine (no DNS either)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class LeftTheMachine(OSError):
    """A connection or name lookup outside loopback, refused."""


def is_loopback(host: Any) -> bool:
    """True for 127.x.x.x, ::1 and localhost."""
    return isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127."))


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse, for the block, every connection and name lookup that is not loopback (or a Unix socket);
    yields the list of what was refused."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo
    refused: list[str] = []

    def refuse(what: str) -> LeftTheMachine:
        refused.append(what)
        return LeftTheMachine(f"the local cloud lets nothing leave this machine: {what} refused")

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family == socket.AF_UNIX or is_loopback(host):
            return real_connect(self, address)
        raise refuse(f"connection to {address!r}")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or is_loopback(name):
            return real_getaddrinfo(host, *args, **kwargs)
        raise refuse(f"lookup of {name!r}")

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    try:
        yield refused
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
