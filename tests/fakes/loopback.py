"""The fakes' `responses` callbacks served by a real HTTP server on 127.0.0.1, for code in another process.

A test that runs a handler in a fresh interpreter (the package test, the cold-start bench) cannot use
`responses`: the same callbacks answer here instead, one per path, on a port the OS picks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

Callback = Callable[[Any], tuple[int, Mapping[str, str], str]]


@dataclass(frozen=True)
class LoopbackRequest:
    """What a `responses` callback reads of a request."""

    method: str
    url: str
    path_url: str
    headers: Mapping[str, str]
    body: bytes


class _Headers(dict[str, str]):
    """Header names as sent, looked up case-insensitively (as requests' CaseInsensitiveDict)."""

    def get(self, key: str, default: Any = None) -> Any:
        for name, value in self.items():
            if name.lower() == key.lower():
                return value
        return default


@contextmanager
def serve(routes: Mapping[str, Callback]) -> Iterator[str]:
    """Serve `routes` (path -> callback) on 127.0.0.1; yields the base URL `http://127.0.0.1:PORT`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            callback = routes.get(path)
            if callback is None:
                self._reply(404, {"Content-Type": "text/plain"}, f"no fake at {path}")
                return
            host = f"http://{self.headers.get('Host', '127.0.0.1')}"
            request = LoopbackRequest("POST", host + self.path, self.path, _Headers(self.headers), body)
            try:
                status, headers, text = callback(request)
            except Exception:
                self.close_connection = True
                return
            self._reply(status, headers, text)

        def _reply(self, status: int, headers: Mapping[str, str], text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
