"""shared/http.py reads answers itself (no http.client): every framing a server may use, and every
malformed or oversized answer as an HttpError, against raw servers on loopback."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from shared import http


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


@contextmanager
def serving(handle: Callable[[socket.socket], None], connections: int = 1) -> Iterator[int]:
    """A loopback listener whose thread hands each of the first `connections` accepted connections
    to `handle` (and closes it after); yields the port. Kept connections are forgotten after."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        for _ in range(connections):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        http.forget_connections()
        listener.close()
        thread.join(3)


@contextmanager
def raw_server(*answers: bytes, close: bool = True) -> Iterator[tuple[str, list[bytes]]]:
    """Answers each request on one connection with the next of `answers`, byte for byte."""
    seen: list[bytes] = []

    def answer_each(conn: socket.socket) -> None:
        for answer in answers:
            request = _read_request(conn)
            if not request:
                return
            seen.append(request)
            conn.sendall(answer)
        if not close:
            conn.recv(1)

    with serving(answer_each) as port:
        yield f"http://127.0.0.1:{port}/x", seen


def test_a_chunked_answer_is_joined_and_its_connection_kept():
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;ext=1\r\n{"a":\r\n3\r\n 1}\r\n0\r\nX-Trailer: t\r\n\r\n'
    )
    with raw_server(answer, answer) as (url, seen):
        first = http.post(url, body=b"{}")
        second = http.post(url, body=b"{}")
    assert first.json() == {"a": 1} and second.status == 200
    assert len(seen) == 2  # both over the one connection the server accepts


def test_an_answer_without_length_is_read_to_the_end_and_the_connection_closed():
    with raw_server(b"HTTP/1.1 200 OK\r\n\r\nall of it") as (url, _):
        assert http.post(url, body=b"").text == "all of it"
        assert not http._idle.get(("http", "127.0.0.1", int(url.split(":")[2].split("/")[0])))


def test_interim_100_continue_is_skipped_and_204_has_no_body():
    with raw_server(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") as (url, _):
        answer = http.post(url, body=b"{}")
    assert (answer.status, answer.text) == (204, "")


def test_http_1_0_closes_unless_it_says_keep_alive_and_headers_are_kept_as_sent():
    with raw_server(b"HTTP/1.0 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\nno") as (url, _):
        answer = http.post(url, body=b"{}")
    assert answer.status == 429 and answer.headers == {"Retry-After": "3", "Content-Length": "2"}
    assert not any(http._idle.values())


def test_the_request_is_one_write_with_host_length_and_the_callers_headers():
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as (url, seen):
        http.post(url + "?a=1", body="体".encode(), headers={"X-Sign": "s"}, params={"b": "c d"})
    head, _, body = seen[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /x?a=1&b=c+d HTTP/1.1"
    port = url.split(":")[2].split("/")[0]
    assert f"Host: 127.0.0.1:{port}" in lines and "Content-Length: 3" in lines and "X-Sign: s" in lines
    assert body == "体".encode()


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "ended early"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", "too long"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 101 + b"\r\n", "100 headers"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a name"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "over"),
        (b"HTTP/1.1 200 OK\r\nX-A: b\r\n", "inside its headers"),
    ],
)
def test_a_malformed_or_oversized_answer_is_an_http_error_and_the_connection_dropped(answer, why):
    with raw_server(answer) as (url, _):
        with pytest.raises(http.HttpError, match="bad HTTP answer") as caught:
            http.post(url + "?key=secret-value", body=b"{}", timeout_s=2)
        assert why in str(caught.value) and "secret-value" not in str(caught.value)
        assert not any(http._idle.values())


def test_a_body_over_the_bound_is_refused_without_reading_it_all(monkeypatch):
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1000)
    too_much = pytest.raises(http.HttpError, match="over 1000 bytes")
    with raw_server(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 5000) as (url, _), too_much:
        http.post(url, body=b"{}")
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"y" * 512 + b"\r\n"
    too_much = pytest.raises(http.HttpError, match="over 1000 bytes")
    with raw_server(chunked + b"200\r\n" + b"y" * 512 + b"\r\n0\r\n\r\n") as (url, _), too_much:
        http.post(url, body=b"{}")


def test_a_server_that_closes_before_answering_a_new_connection_is_an_error_once():
    with raw_server(b"") as (url, seen), pytest.raises(http.HttpError, match="closed without an answer"):
        http.post(url, body=b"{}", timeout_s=2)
    assert len(seen) == 1


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "v\r\nHost: evil"}, {"X\r\nB": "v"}, {"X-A": "体"}, {"": "v"}, {"X:A": "v"}],
)
def test_headers_that_would_inject_or_cannot_be_written_are_refused_before_connecting(headers):
    with pytest.raises(http.HttpError, match="cannot be written"):
        http.post("http://127.0.0.1:1/x", body=b"{}", headers=headers)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/a b", "http://127.0.0.1:1/a\x00", "http://[::1/x"])
def test_spaces_controls_and_broken_urls_are_refused(url):
    with pytest.raises(http.HttpError):
        http.post(url, body=b"{}", timeout_s=0.5)


def test_host_headers_for_ipv6_default_ports_and_names_outside_ascii():
    assert http.host_header("::1", 8080, "http") == "[::1]:8080"
    assert http.host_header("example.com", 443, "https") == "example.com"
    assert http.host_header("例子.测试", 80, "http") == "xn--fsqu00a.xn--0zwm56d"


needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs openssl for test certificates"
)


def _self_signed(folder: Path, name: str, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=IP:{ip}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(params=["127.0.0.1"])
def tls_server(tmp_path: Path, request: Any) -> Iterator[tuple[str, Path]]:
    """A TLS server on loopback answering `tls` to every request, and its (self-signed) certificate,
    made out to the address in the fixture's param."""
    cert, key = _self_signed(tmp_path, "server", request.param)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)

    def answer(raw: socket.socket) -> None:
        with server_ctx.wrap_socket(raw, server_side=True) as conn:  # a client that does not trust
            _read_request(conn)  # us fails its handshake here (an OSError, suppressed)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntls")

    with serving(answer, connections=8) as port:
        yield f"https://127.0.0.1:{port}/x", cert


@needs_openssl
def test_https_verifies_the_server_and_talks_tls(tls_server, monkeypatch):
    url, cert = tls_server
    # an untrusted certificate is refused
    monkeypatch.setattr(http, "_tls", ssl.create_default_context())
    with pytest.raises(http.HttpError, match="SSL"):
        http.post(url, body=b"{}", timeout_s=3)
    # the same server, trusted, answers over TLS
    monkeypatch.setattr(http, "_tls", ssl.create_default_context(cafile=str(cert)))
    assert http.post(url, body=b"{}", timeout_s=3).text == "tls"


def _bundle_with_hashed_dir(folder: Path, bundle: list[Path], hashed: list[Path]) -> Path:
    """A cacert.pem of `bundle`'s certificates, and beside it the hashed directory of `hashed`'s,
    written by the packaging code itself."""
    from tools.package import hash_ca_bundle

    folder.mkdir()
    cafile = folder / "cacert.pem"
    cafile.write_bytes(b"".join(p.read_bytes() for p in bundle))
    source = folder / "for-hashing.pem"
    source.write_bytes(b"".join(p.read_bytes() for p in hashed))
    assert hash_ca_bundle(source, folder / http.HASHED_CA_DIR) == len(hashed)
    return cafile


def _use_ca(monkeypatch: pytest.MonkeyPatch, cafile: Path) -> None:
    """shared.http with `cafile` as certifi's bundle (its hashed directory beside it), no context yet."""
    monkeypatch.setattr(http, "_ca_bundle", lambda: str(cafile))
    monkeypatch.setattr(http, "_tls", None)
    monkeypatch.setattr(http, "_tls_whole", None)


@needs_openssl
def test_the_hashed_ca_directory_verifies_the_server_when_it_holds_its_ca(tls_server, tmp_path, monkeypatch):
    url, cert = tls_server
    other, _ = _self_signed(tmp_path, "other")
    cafile = _bundle_with_hashed_dir(tmp_path / "certifi", [other], [other, cert])
    _use_ca(monkeypatch, cafile)
    # the bundle file lacks the server's CA: only the hashed directory can have verified it
    assert http.post(url, body=b"{}", timeout_s=3).text == "tls"
    assert http._tls is not None and http._tls_whole is None  # the bundle was never loaded


@needs_openssl
def test_a_certificate_the_hashed_directory_fails_is_judged_by_the_whole_bundle(
    tls_server, tmp_path, monkeypatch
):
    url, cert = tls_server
    other, _ = _self_signed(tmp_path, "other")
    cafile = _bundle_with_hashed_dir(tmp_path / "certifi", [other, cert], [other])
    _use_ca(monkeypatch, cafile)
    # the directory lacks the server's CA, the bundle has it: the bundle decides, on a new connection
    assert http.post(url, body=b"{}", timeout_s=3).text == "tls"
    # the hashed directory stays what other hosts' handshakes use; the bundle is kept beside it
    assert http._tls_whole is not None and http._tls is not http._tls_whole


@needs_openssl
def test_a_server_neither_trusts_is_refused(tls_server, tmp_path, monkeypatch):
    url, _ = tls_server
    other, _ = _self_signed(tmp_path, "other")
    cafile = _bundle_with_hashed_dir(tmp_path / "certifi", [other], [other])
    _use_ca(monkeypatch, cafile)
    with pytest.raises(http.HttpError, match="SSLCertVerificationError"):
        http.post(url, body=b"{}", timeout_s=3)


def test_bytes_past_an_answer_are_never_taken_for_the_next_answer():
    # GIVEN a server that sends a second, unasked-for answer right behind the first (one write)
    smuggled = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        b"HTTP/1.1 201 Smuggled\r\nContent-Length: 5\r\n\r\nfake!"
    )
    real = b"HTTP/1.1 500 Real\r\nContent-Length: 4\r\n\r\nreal"
    seen: list[bytes] = []
    answers = iter((smuggled, real))

    def answer(conn: socket.socket) -> None:
        seen.append(_read_request(conn))
        conn.sendall(next(answers))
        conn.recv(1)

    with serving(answer, connections=2) as port:
        url = f"http://127.0.0.1:{port}/x"
        first = http.post(url, body=b"{}", timeout_s=2)
        # WHEN the next request is made THEN it goes over a new connection and gets the real answer
        second = http.post(url, body=b"{}", timeout_s=2)
    assert (first.status, first.text) == (200, "ok")
    assert (second.status, second.text) == (500, "real") and len(seen) == 2


CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
BOTH = b"Content-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"


@pytest.mark.parametrize(
    ("answer", "text", "kept"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok", "ok", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes", "raw bytes", False),
        (b"HTTP/1.1 200 OK\r\n" + BOTH, "ok", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + CHUNKED, "ok", False),
    ],
)
def test_framing_headers_follow_rfc_9112_and_doubtful_ones_close_the_connection(answer, text, kept):
    # a body framed by the connection's end needs the server to close it; the others must not need it
    with raw_server(answer, close=not kept and b"gzip" in answer) as (url, _):
        assert http.post(url, body=b"{}", timeout_s=2).text == text
        assert bool(any(http._idle.values())) is kept


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nok",
        b"HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1x 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: ²²\r\n\r\nok".encode("latin-1"),
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n X-Folded: v\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_answers_outside_the_grammar_are_bad_http_answers(answer):
    with raw_server(answer) as (url, _), pytest.raises(http.HttpError, match="bad HTTP answer"):
        http.post(url, body=b"{}", timeout_s=2)


def test_the_timeout_bounds_the_whole_request_not_each_read():
    # GIVEN a server that trickles its answer a byte every 0.1 s
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        _read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100:
            if stop.wait(0.1):
                return
            conn.sendall(bytes([byte]))

    with serving(trickle) as port:
        started = time.monotonic()
        try:
            with pytest.raises(http.HttpError, match="timeout") as caught:
                http.post(f"http://127.0.0.1:{port}/x", body=b"{}", timeout_s=0.5)
        finally:
            stop.set()
    # THEN the call ends at its timeout, not after the 14 s the whole answer would take
    assert caught.value.timeout is True and time.monotonic() - started < 1.0


def test_default_headers_give_way_to_the_callers_in_any_case_and_host_is_ours():
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") as (url, seen):
        http.post(url, body=b"{}", headers={"user-agent": "mine", "Host": "evil.example", "X-A": "1"})
    lines = seen[0].split(b"\r\n\r\n")[0].decode().split("\r\n")[1:]
    names = [line.split(":")[0].lower() for line in lines]
    assert sorted(names) == sorted(set(names))  # no header twice
    assert "user-agent: mine" in lines and "Accept-Encoding: identity" in lines
    assert not any("evil" in line for line in lines)


def test_hosts_with_control_characters_and_bodies_that_are_not_bytes_are_refused():
    with pytest.raises(http.HttpError, match="in the host"):
        http.post("http://127.0.0.1\x00.evil.example:1/x", body=b"{}")
    with pytest.raises(http.HttpError, match="not bytes"):
        http.post("http://127.0.0.1:1/x", body="text")  # type: ignore[arg-type]
    with pytest.raises(http.HttpError, match="cannot be written"):
        http.post("http://127.0.0.1:1/x", body=b"{}", headers={" X-Lead": "v"})


@pytest.mark.parametrize("timeout_s", [float("inf"), 1e300, float("nan"), -1.0])
def test_any_timeout_value_is_bounded_and_never_an_overflow(timeout_s):
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") as (url, _):
        assert http.post(url, body=b"{}", timeout_s=timeout_s).text == "ok"


@needs_openssl
@pytest.mark.parametrize("tls_server", ["127.0.0.2"], indirect=True)
def test_a_certificate_for_another_host_is_refused_without_loading_the_bundle(
    tls_server, tmp_path, monkeypatch
):
    # GIVEN a server whose certificate the hashed directory trusts, made out to another address
    url, cert = tls_server
    cafile = _bundle_with_hashed_dir(tmp_path / "certifi", [cert], [cert])
    _use_ca(monkeypatch, cafile)
    # WHEN it is called THEN the host name mismatch is final: no second try on the whole bundle
    with pytest.raises(http.HttpError, match="SSLCertVerificationError"):
        http.post(url, body=b"{}", timeout_s=3)
    assert http._tls_whole is None


def test_a_timeout_that_is_no_number_is_an_http_error():
    for timeout_s in (10**400, "soon"):
        with pytest.raises(http.HttpError, match="no number of seconds"):
            http.post("http://127.0.0.1:1/x", body=b"{}", timeout_s=timeout_s)  # type: ignore[arg-type]


@needs_openssl
def test_every_certificate_of_a_bundle_is_hashed_whatever_its_line_endings(tmp_path):
    from tools.package import hash_ca_bundle

    a, _ = _self_signed(tmp_path, "a")
    b, _ = _self_signed(tmp_path, "b")
    text = a.read_bytes().replace(b"\n", b"\r\n") + b"# a comment\n" + b.read_bytes().rstrip(b"\n") + b"  "
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(text)
    assert hash_ca_bundle(bundle, tmp_path / "hashed") == 2
    assert len(list((tmp_path / "hashed").iterdir())) == 2
    # a certificate the pattern cannot read is an error, never a silently smaller directory
    bundle.write_bytes(text + b"\n-----BEGIN CERTIFICATE-----\ntruncated")
    with pytest.raises(ValueError, match="2 certificates read of 3"):
        hash_ca_bundle(bundle, tmp_path / "hashed-2")
