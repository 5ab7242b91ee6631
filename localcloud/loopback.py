"""Callbacks served by a real HTTP server on 127.0.0.1, so that any HTTP client reaches them.

Two ways to serve: `serve(routes)` starts a server for one block (the local cloud of one run, code in
another process); `LoopbackServer` is one server for a whole test session whose routes a test mounts
for a block, so that a fake's URLs are constants. A callback answers `(status, headers, text)`, or
raises `Hang` (answer later than the client waits) or `Reset` (close without answering). POSTs go to
`routes`, GETs to `pages` (the local cloud's web page); both are keyed by path.
"""

from __future__ import annotations

import re
import select
import socket
import struct
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping, Optional

Callback = Callable[[Any], tuple[int, Mapping[str, str], str]]
Lookup = Callable[[str], Optional[Callback]]
# Every loopback URL, for `responses.RequestsMock.add_passthru` in a test that also fakes the SDK.
LOOPBACK_URLS = re.compile(r"https?://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?/")
HOST = "127.0.0.1"


class Hang(Exception):
    """Raised by a callback: hold the answer until the client gives up (at most `seconds`), then close."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"hang for up to {seconds}s")
        self.seconds = seconds


class Reset(Exception):
    """Raised by a callback: reset the connection (TCP RST) without answering."""


@dataclass(frozen=True)
class LoopbackRequest:
    """What a callback reads of a request (the attributes of a `responses` request it uses)."""

    method: str
    url: str
    path_url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class LoopbackCall:
    """One request a mount served, shaped like an item of `responses.RequestsMock.calls`."""

    request: LoopbackRequest


class _Headers(dict[str, str]):
    """Header names as sent, looked up case-insensitively (as requests' CaseInsensitiveDict)."""

    def _name(self, key: str) -> str:
        return next((name for name in self if name.lower() == key.lower()), key)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(self._name(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(self._name(key))

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(self._name(key), default)


def _wait_until_client_leaves(sock: socket.socket, seconds: float) -> None:
    """Sleep up to `seconds`, returning early once the client closes its end (it timed out)."""
    deadline = time.monotonic() + max(0.0, seconds)
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return
        try:
            if not sock.recv(1, socket.MSG_PEEK):
                return
        except OSError:
            return
        time.sleep(min(left, 0.05))  # more bytes, not an EOF: keep holding without spinning


def _handler(
    lookup: Lookup, pages: Optional[Lookup] = None, *, keep_alive: bool = False
) -> type[BaseHTTPRequestHandler]:
    """A request handler answering POSTs with the callback `lookup` finds for the path (GETs: `pages`).

    With `keep_alive` it speaks HTTP/1.1 and keeps the connection for the client's next request, as
    Tencent's API endpoints do; otherwise every answer closes its connection."""

    class Handler(BaseHTTPRequestHandler):
        if keep_alive:
            protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if "chunked" not in (self.headers.get("Transfer-Encoding") or "").lower():
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))
            chunks = []
            while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers, up to the blank line
                pass
            return b"".join(chunks)

        def do_POST(self) -> None:
            self._serve("POST", lookup, self._body())

        def do_GET(self) -> None:
            self._serve("GET", pages or (lambda path: None), b"")

        def _serve(self, method: str, find: Lookup, body: bytes) -> None:
            path = self.path.split("?", 1)[0]
            callback = find(path)
            if callback is None:
                self._reply(404, {"Content-Type": "text/plain"}, f"no fake is serving {path} now")
                return
            host = f"http://{self.headers.get('Host', HOST)}"
            request = LoopbackRequest(method, host + self.path, self.path, _Headers(self.headers), body)
            self.close_connection = not keep_alive
            try:
                status, headers, text = callback(request)
            except Hang as hang:
                self.close_connection = True
                _wait_until_client_leaves(self.connection, hang.seconds)
                return
            except Reset:
                self.close_connection = True
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                return
            except Exception:
                self.close_connection = True
                return  # a broken fake: no answer (a mount also reports it when its block ends)
            self._reply(status, headers, text)

        def _reply(self, status: int, headers: Mapping[str, str], text: str) -> None:
            data = text.encode("utf-8")
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                return  # the client gave up first

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that left early is not an error of the fake


def _start(handler: type[BaseHTTPRequestHandler], name: str, port: int = 0) -> _Server:
    server = _Server((HOST, port), handler)  # port 0: the OS picks a free one
    # A short poll interval: shutdown() waits for it, and a run starts and stops its own server.
    threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True).start()
    return server


@contextmanager
def serve(
    routes: Mapping[str, Callback], *, pages: Optional[Mapping[str, Callback]] = None, port: int = 0
) -> Iterator[str]:
    """Serve `routes` (path -> callback) on 127.0.0.1; yields the base URL `http://127.0.0.1:PORT`."""
    server = _start(_handler(routes.get, pages.get if pages else None), "loopback-serve", port)
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mount:
    """Routes served for one block: the requests they got, and any exception a callback raised."""

    routes: Mapping[str, Callback]
    calls: list[LoopbackCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class LoopbackServer:
    """One server for the session (a daemon thread, a port the OS picks); tests mount routes on it.

    The innermost active mount that has a path answers it; with none, the answer is a 404.
    """

    def __init__(self, name: str, *, keep_alive: bool = False) -> None:
        self._mounts: list[Mount] = []
        self._lock = threading.Lock()
        self._server = _start(_handler(self._lookup, keep_alive=keep_alive), f"loopback-{name}")
        self.netloc = f"{HOST}:{self._server.server_address[1]}"
        self.base_url = f"http://{self.netloc}"

    def _active(self, path: str) -> Optional[Mount]:
        with self._lock:
            return next((m for m in reversed(self._mounts) if path in m.routes), None)

    def _lookup(self, path: str) -> Optional[Callback]:
        mount = self._active(path)
        if mount is None:
            return None

        def recorded(request: Any) -> tuple[int, Mapping[str, str], str]:
            mount.calls.append(LoopbackCall(request))
            try:
                return mount.routes[path](request)
            except (Hang, Reset):
                raise
            except Exception:
                mount.errors.append(traceback.format_exc())
                raise

        return recorded

    @contextmanager
    def mount(self, routes: Mapping[str, Callback]) -> Iterator[Mount]:
        """Serve `routes` (path -> callback) for the block; a callback's exception fails the block."""
        mount = Mount(dict(routes))
        with self._lock:
            self._mounts.append(mount)
        try:
            yield mount
        finally:
            with self._lock:
                self._mounts.remove(mount)
        if mount.errors:
            raise AssertionError("a fake's callback raised:\n" + mount.errors[0])


_servers: dict[str, LoopbackServer] = {}
_servers_lock = threading.Lock()


def session_server(name: str, *, keep_alive: bool = False) -> LoopbackServer:
    """The session's server called `name`, started on first use (keep_alive: see _handler)."""
    with _servers_lock:
        if name not in _servers:
            _servers[name] = LoopbackServer(name, keep_alive=keep_alive)
        return _servers[name]
