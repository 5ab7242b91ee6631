"""shared/http.py on the standard library: answers, params, timeouts, kept connections, errors."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared import http
from tests.helpers import modules_after


@contextmanager
def server(delay_s: float = 0.0, close_after: bool = False) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback server that records each request and the client port it came from."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive unless told otherwise

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(
                {
                    "path": self.path,
                    "body": body,
                    "port": self.client_address[1],
                    "headers": dict(self.headers),
                }
            )
            time.sleep(delay_s)
            data = json.dumps({"errcode": 0, "echo": body.decode("utf-8")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if close_after:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        http.forget_connections()
        httpd.shutdown()
        httpd.server_close()


def test_a_json_post_gets_the_answer_and_params_are_encoded_once():
    with server() as (url, seen):
        answer = http.post(
            f"{url}/robot/send?access_token=t", json_body={"text": "你好"}, params={"sign": "a+b/c="}
        )
    assert answer.status == 200 and answer.json()["echo"] == '{"text": "你好"}'
    assert seen[0]["path"] == "/robot/send?access_token=t&sign=a%2Bb%2Fc%3D"
    assert seen[0]["headers"]["Content-Type"] == "application/json; charset=utf-8"


def test_warm_posts_reuse_one_connection():
    # GIVEN a server that keeps connections open WHEN three posts are made one after the other
    with server() as (url, seen):
        for _ in range(3):
            http.post(f"{url}/x", body=b"{}")
    # THEN they came over one TCP connection (one client port): no new handshake per request
    assert len({r["port"] for r in seen}) == 1


def test_a_connection_the_server_closes_is_not_kept():
    with server(close_after=True) as (url, seen):
        for _ in range(2):
            assert http.post(f"{url}/x", body=b"{}").status == 200
    assert len({r["port"] for r in seen}) == 2


def test_a_kept_connection_closed_while_idle_is_retried_once_on_a_new_one():
    with server() as (url, seen):
        http.post(f"{url}/x", body=b"{}")
        # WHEN the kept connection dies while idle (a server's idle timeout)
        for conns in http._idle.values():
            for conn in conns:
                assert conn.sock is not None
                conn.sock.shutdown(socket.SHUT_RDWR)
        # THEN the next post still gets its answer, over a new connection
        assert http.post(f"{url}/x", body=b"{}").status == 200
    assert len(seen) == 2


def test_no_answer_within_the_timeout_is_an_http_error_that_says_timeout():
    with server(delay_s=1.0) as (url, _):
        started = time.monotonic()
        with pytest.raises(http.HttpError) as caught:
            http.post(f"{url}/x?key=secret-key-value", body=b"{}", timeout_s=0.2)
    assert caught.value.timeout is True
    assert time.monotonic() - started < 0.9
    assert "secret-key-value" not in str(caught.value)  # the URL is redacted


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "http:///nohost", "http://127.0.0.1:99999/x", "http://127.0.0.1:1/x"]
)
def test_bad_or_unreachable_urls_are_http_errors(url):
    with pytest.raises(http.HttpError):
        http.post(url, body=b"{}", timeout_s=0.5)


def test_control_characters_in_a_url_are_an_http_error_not_a_crash():
    with pytest.raises(http.HttpError):
        http.post("http://127.0.0.1:1/x\r\nHost: evil", body=b"{}", timeout_s=0.5)


def test_posting_over_http_imports_neither_requests_nor_http_client_ssl_or_the_idna_codec():
    # http.client loads the email package; a str host would make getaddrinfo load encodings.idna
    code = (
        "from shared import http\n"
        "try:\n    http.post('http://127.0.0.1:1/x', body=b'', timeout_s=0.2)\n"
        "except http.HttpError:\n    pass"
    )
    loaded = modules_after(code)
    heavy = ("requests", "urllib3", "http", "email", "ssl")
    assert not sorted(m for m in loaded if m.split(".")[0] in heavy or m == "encodings.idna")


def test_a_request_the_server_read_then_dropped_is_not_sent_again():
    # GIVEN a server that answers the first request, then reads the second and closes without a word
    seen: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def read_request(conn: socket.socket) -> bytes:
        # http.client may send the headers and the body apart: read up to the end of the body
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            body += conn.recv(65536)
        return data

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            for n in range(2):
                seen.append(read_request(conn))
                if n == 0:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        # later connections (a resend) would be counted too
        listener.settimeout(1.0)
        try:
            again, _ = listener.accept()
            seen.append(read_request(again))
            again.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
    try:
        assert http.post(url, body=b"{}", timeout_s=2).status == 200
        # WHEN the second post goes over the kept connection and the server drops it after reading
        with pytest.raises(http.HttpError, match="closed without an answer"):
            http.post(url, body=b"{}", timeout_s=2)
    finally:
        thread.join(3)
        listener.close()
        http.forget_connections()
    # THEN the server saw it once: a request it may have acted on is never repeated by the client
    assert len(seen) == 2


def test_post_to_an_origin_sends_what_post_to_its_url_sends():
    # GIVEN the same request made by URL and by origin and target
    with server() as (url, seen):
        port = int(url.rsplit(":", 1)[1])
        by_url = http.post(f"{url}/api?x=1", body=b"{}", headers={"X-A": "1"})
        by_origin = http.post_to("http", "127.0.0.1", port, "/api?x=1", body=b"{}", headers={"X-A": "1"})
    # THEN the server saw the same request twice, on the one kept connection
    assert by_url.status == by_origin.status == 200
    assert seen[0]["path"] == seen[1]["path"] == "/api?x=1"
    assert seen[0]["headers"] == seen[1]["headers"] and seen[0]["port"] == seen[1]["port"]


@pytest.mark.parametrize(
    ("scheme", "host", "target", "said"),
    [
        ("ftp", "h", "/", "not an http(s) URL"),
        ("http", "", "/", "not an http(s) URL"),
        ("http", "h\x00st", "/", "control characters"),
        ("http", "h", "api", "does not start with '/'"),
        ("http", "h", "/a b", "control characters"),
    ],
)
def test_post_to_refuses_what_post_refuses(scheme, host, target, said):
    with pytest.raises(http.HttpError, match=re.escape(said)):
        http.post_to(scheme, host, 80, target, body=b"")
