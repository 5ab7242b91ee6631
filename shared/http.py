"""Outbound HTTP for webhooks and the queue data API: a small HTTP/1.1 client on the standard library's
socket (and ssl, for https only), one place for timeouts, JSON bodies and redacted errors.

Not `requests`, and not `http.client` either: on the timer path every function polls its queue, and
importing requests (urllib3, charset_normalizer, idna) cost more than the rest of a cold start together;
http.client alone imports the `email` package and cost a 3.9 cold start about 20 ms, more than the
function's own code (docs/benchmarks.md). What is needed here is small and fixed: one POST with a body
the caller built, an answer framed by Content-Length, chunked encoding or the connection's end, and
keep-alive. Limits are those of http.client (65,536 bytes a line, 100 header lines) plus a bound on the
answer's body (MAX_BODY_BYTES), so a misbehaving server cannot fill the function's memory.

Connections are kept per origin across invocations (module state survives warm runs), so a warm run
makes no new TLS handshake; a kept connection the server closed meanwhile is retried once on a new one,
and a request that went out and got no answer is never sent again. Certificates: certifi's bundle where
the package ships it, else the system's.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import socket
import time
from _thread import allocate_lock  # threading.Lock itself, without importing threading

from .errors import BatchEventsError
from .log import redact_url
from .record import Record

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

if TYPE_CHECKING:
    import ssl

Origin = tuple[str, str, int]
MAX_IDLE_PER_ORIGIN = 4
MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
MAX_BODY_BYTES = 32 * 1024 * 1024  # 16 queue messages of 1 MB, JSON-escaped, fit; a runaway body does not
MAX_INTERIM = 10  # 1xx answers before the real one; more is a server stalling us
MAX_TIMEOUT_S = 300.0
RECV_BYTES = 65536
USER_AGENT = "batch-events (Tencent Cloud SCF)"
_CONTROL = frozenset(chr(c) for c in range(0x21)) | {"\x7f"}  # not allowed in a request target
_NO_BODY = frozenset({204, 304})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # a header name (RFC 9110 token)
_STATUS = re.compile(r"HTTP/1\.([0-9]) ([1-5][0-9][0-9])(?: |$)")
_CHUNK_SIZE = re.compile(r"[0-9A-Fa-f]{1,16}")

_idle: dict[Origin, list[_Connection]] = {}
_lock = allocate_lock()
_tls: Optional[ssl.SSLContext] = None  # what connections use: the hashed directory's when there is one
_tls_whole: Optional[ssl.SSLContext] = None  # the whole bundle's, built when needed
_tls_lock = allocate_lock()


class HttpError(BatchEventsError):
    """No HTTP answer: timeout, refused or reset connection, bad URL, an answer that is not HTTP."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class HttpResponse(Record):
    """An HTTP answer, reduced to what callers check."""

    __slots__ = ("headers", "status", "text")

    def __init__(self, status: int, text: str, headers: Optional[Mapping[str, str]] = None) -> None:
        self.status = status
        self.text = text
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status!r}, text={self.text[:80]!r})"

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None


class _Closed(Exception):
    """The server closed the connection before any byte of an answer."""


class _Malformed(Exception):
    """What came back is not an HTTP/1.x answer we can frame."""


# certifi's CA certificates, one file per certificate named by its OpenSSL subject hash (`make
# package` writes it beside cacert.pem): OpenSSL then reads only the certificates a handshake needs,
# where loading the whole bundle costs a 3.9 cold start about 20 ms (docs/benchmarks.md).
HASHED_CA_DIR = "hashed"


def _ca_bundle() -> Optional[str]:
    """certifi's cacert.pem, or None without certifi (then the system's store)."""
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def tls_context() -> ssl.SSLContext:
    """Verifying TLS with certifi's CAs when it is importable (it ships in every package), else the
    system's store (SCF's runtime images carry one); on the hashed CA directory when there is one.
    ssl is imported only when an https URL is used."""
    return _contexts(whole_bundle=False)[0]


def _contexts(whole_bundle: bool) -> tuple[ssl.SSLContext, bool]:
    """The context to use and whether it reads the hashed directory; one of each kind per instance
    (loading CAs costs milliseconds), built under a lock (the alert workers connect side by side)."""
    global _tls, _tls_whole
    with _tls_lock:
        if not whole_bundle and _tls is not None:
            return _tls, _tls is not _tls_whole
        import ssl

        cafile = _ca_bundle()
        hashed = os.path.join(os.path.dirname(cafile), HASHED_CA_DIR) if cafile else ""
        if not whole_bundle and hashed and _has_files(hashed):
            _tls = ssl.create_default_context(capath=hashed)
            return _tls, True
        if _tls_whole is None:
            _tls_whole = ssl.create_default_context(cafile=cafile)
        if _tls is None:
            _tls = _tls_whole
        return _tls_whole, False


def _has_files(folder: str) -> bool:
    try:
        return bool(os.listdir(folder))
    except OSError:  # missing or unreadable: the whole bundle serves
        return False


# OpenSSL's verify codes for "not among the trusted CAs" (2 and 20: issuer not found; 18 and 19: a
# self-signed certificate, alone or ending the chain, not found): what a hashed directory that looked
# names up differently from the bundle would give. Any other failure (wrong host, expired) is final.
_ISSUER_NOT_FOUND = frozenset({2, 18, 19, 20})


def _left(deadline: float) -> float:
    """Seconds until `deadline`; socket.timeout when it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise socket.timeout("deadline passed")
    return left


class _Connection:
    """One TCP (or TLS) connection, with its own read buffer: what is buffered is visible, so a
    connection holding bytes past an answer is never reused (they would be taken for the next answer),
    and every read is bounded by the request's deadline, not just by a per-read timeout."""

    __slots__ = ("buffer", "deadline", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.deadline = 0.0

    def close(self) -> None:
        try:  # noqa: SIM105 - not contextlib.suppress: contextlib is 0.4 ms of a 3.9 cold start
            self.sock.close()
        except OSError:  # already gone: nothing to release
            pass

    def closed_by_peer(self) -> bool:
        """True when a kept connection has something to read before we asked anything: the server
        closed it (or wrote garbage) while it was idle. Checked before reuse, as urllib3 does."""
        if self.sock.fileno() < 0 or self.buffer:
            return True
        try:  # poll, not select: select refuses descriptors past 1023
            poller = select.poll()
            poller.register(self.sock, select.POLLIN)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def reusable(self) -> bool:
        """Nothing left over after the answer: not in our buffer, nor decrypted inside TLS."""
        pending = getattr(self.sock, "pending", None)
        return not self.buffer and not (pending is not None and pending())

    def settimeout(self) -> None:
        """The time left before the deadline, for the next socket operation."""
        self.sock.settimeout(_left(self.deadline))

    def _fill(self) -> bool:
        """Read what the server has sent next; False at the end of the stream."""
        self.settimeout()
        data = self.sock.recv(RECV_BYTES)
        if not data:
            return False
        self.buffer += data
        return True

    def line(self) -> bytes:
        """One line with its ending (less at the end of the stream, b"" when nothing was left)."""
        start = 0
        while True:
            end = self.buffer.find(b"\n", start)
            if end >= 0:
                if end + 1 > MAX_LINE:
                    raise _Malformed("header line too long")
                data = bytes(self.buffer[: end + 1])
                del self.buffer[: end + 1]
                return data
            if len(self.buffer) > MAX_LINE:
                raise _Malformed("header line too long")
            start = len(self.buffer)
            if not self._fill():
                data = bytes(self.buffer)
                self.buffer.clear()
                return data

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise _Malformed("the answer ended early")
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def to_end(self, limit: int) -> bytes:
        """Everything up to the end of the stream (an answer framed by the connection's end)."""
        while len(self.buffer) <= limit and self._fill():
            pass
        if len(self.buffer) > limit:
            raise _Malformed(f"an answer over {limit} bytes")
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def _connect(origin: Origin, deadline: float) -> _Connection:
    scheme, host, port = origin
    # A str host makes getaddrinfo (and ssl, for the server name) encode it with the idna codec,
    # importing encodings.idna, stringprep and unicodedata on every cold start; an ASCII name or
    # address is the same as bytes.
    name = host.encode("ascii") if host.isascii() else host.encode("idna")
    if scheme != "https":
        return _open(name, port, deadline, None)
    context, hashed = _contexts(whole_bundle=False)
    try:
        return _open(name, port, deadline, context)
    except OSError as exc:
        # An issuer the hashed CA directory did not find: the whole bundle (the same CAs) decides,
        # on a new connection, and fails closed too. Nothing was sent yet.
        if not (hashed and getattr(exc, "verify_code", None) in _ISSUER_NOT_FOUND):
            raise
    return _open(name, port, deadline, _contexts(whole_bundle=True)[0])


def _open(name: bytes, port: int, deadline: float, tls: Optional[ssl.SSLContext]) -> _Connection:
    """A new connection, its TLS handshake (with `tls`) within the deadline too."""
    sock = socket.create_connection((name, port), timeout=_left(deadline))  # type: ignore[arg-type]
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small request: no Nagle wait
        if tls is not None:
            sock.settimeout(_left(deadline))
            sock = tls.wrap_socket(sock, server_hostname=name)
    except BaseException:
        sock.close()
        raise
    connection = _Connection(sock)
    connection.deadline = deadline
    return connection


def _take(origin: Origin) -> Optional[_Connection]:
    while True:
        with _lock:
            kept = _idle.get(origin)
            connection = kept.pop() if kept else None
        if connection is None or not connection.closed_by_peer():
            return connection
        connection.close()


def _keep(origin: Origin, connection: _Connection) -> None:
    with _lock:
        kept = _idle.setdefault(origin, [])
        if len(kept) < MAX_IDLE_PER_ORIGIN:
            kept.append(connection)
            return
    connection.close()


def forget_connections() -> None:
    """Close every kept connection (tests, and a process about to exit)."""
    with _lock:
        kept = [c for conns in _idle.values() for c in conns]
        _idle.clear()
    for connection in kept:
        connection.close()


def host_header(host: str, port: int, scheme: str) -> str:
    """The Host header sent to (host, port): IPv6 in brackets, IDNA-encoded, the default port left
    out. A signature over the Host header (the cloud APIs') has to cover exactly this."""
    shown = f"[{host}]" if ":" in host else host
    if not shown.isascii():
        shown = shown.encode("idna").decode("ascii")
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


_PLAIN_HOST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")


def plain_netloc(netloc: str) -> Optional[tuple[str, Optional[int]]]:
    """(host, port or None) of a `name[:port]` made of lower-case letters, digits, dots and dashes
    and a port from 1 to 65535: what urlsplit gives for it, without importing `urllib.parse` (1.5 ms
    of a 3.9 cold start). None for anything else (brackets, upper case, credentials, an odd port, a
    label the idna codec refuses), which the caller gives to urlsplit. A test holds the two equal."""
    host, colon, port = netloc.partition(":")
    if not host or not _PLAIN_HOST.issuperset(host):
        return None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not all(0 < len(label) < 64 for label in labels):
        return None
    if not colon:
        return host, None
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return None
    return host, int(port)


def split_netloc(scheme: str, netloc: str) -> tuple[str, int]:
    """(host, port) of `host[:port]` as connections are keyed here: the name in lower case, the
    scheme's port when none is given. ValueError when there is no host."""
    default = 443 if scheme == "https" else 80
    plain = plain_netloc(netloc)
    if plain is not None:
        return plain[0], plain[1] or default
    from urllib.parse import urlsplit

    parts = urlsplit(f"{scheme}://{netloc}")
    if not parts.hostname:
        raise ValueError(f"no host in {netloc!r}")
    return parts.hostname, parts.port or default


def _header_block(lines: Mapping[str, str]) -> bytes:
    out = []
    for name, value in lines.items():
        if not isinstance(name, str) or not isinstance(value, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"bad header {name!r}")
        if "\r" in value or "\n" in value or "\x00" in value:
            raise ValueError(f"bad value of header {name!r}")
        out.append(f"{name}: {value}\r\n")
    return "".join(out).encode("latin-1")  # as http.client: a value outside latin-1 is an error


def _read_headers(connection: _Connection, framing: dict[str, list[str]]) -> dict[str, str]:
    """The header lines as sent (a repeated name: the last); `framing` gets every value of the
    headers that frame the body, by lower-case name, to check they agree."""
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = connection.line()
        if raw in (b"\r\n", b"\n"):
            return headers
        if not raw:
            raise _Malformed("the answer ended inside its headers")
        text = raw.decode("latin-1").rstrip("\r\n")
        name, colon, value = text.partition(":")
        if not colon or not _TOKEN.fullmatch(name):
            raise _Malformed("a header line without a name")
        if "\r" in value or "\x00" in value:
            raise _Malformed(f"a bare CR or NUL in header {name[:40]!r}")
        headers[name] = value.strip()
        lowered = name.lower()
        if lowered in ("content-length", "transfer-encoding", "connection"):
            framing.setdefault(lowered, []).append(value.strip())
    raise _Malformed(f"more than {MAX_HEADERS} headers")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _read_chunked(connection: _Connection) -> bytes:
    body = bytearray()  # one buffer: a million one-byte chunks must not be a million objects
    while True:
        size_text = connection.line().split(b";", 1)[0].strip().decode("latin-1")
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise _Malformed("a bad chunk size")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > MAX_BODY_BYTES:
            raise _Malformed(f"an answer over {MAX_BODY_BYTES} bytes")
        body += connection.exactly(size)
        if connection.line() not in (b"\r\n", b"\n"):
            raise _Malformed("a chunk not ended by CRLF")
    for _ in range(MAX_HEADERS + 1):  # trailers, if any, then the blank line
        if connection.line() in (b"\r\n", b"\n", b""):
            return bytes(body)
    raise _Malformed("too many trailers")


def _read_answer(connection: _Connection) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, body, and whether the connection must be closed after it."""
    for _ in range(MAX_INTERIM + 1):
        status_line = connection.line()
        if not status_line:
            raise _Closed()
        found = _STATUS.match(status_line.decode("latin-1").rstrip("\r\n"))
        if found is None:
            raise _Malformed("not an HTTP/1.x status line")
        minor, status = found.group(1), int(found.group(2))
        framing: dict[str, list[str]] = {}
        headers = _read_headers(connection, framing)
        if status == 101:
            raise _Malformed("101 Switching Protocols was not asked for")
        if status >= 200:
            return _read_body(connection, status, minor, headers, framing)
        # 100 Continue and other interim answers: the real one follows
    raise _Malformed(f"more than {MAX_INTERIM} interim answers")


def _read_body(
    connection: _Connection, status: int, minor: str, headers: dict[str, str], framing: dict[str, list[str]]
) -> tuple[int, dict[str, str], bytes, bool]:
    tokens = ",".join(framing.get("connection", ())).lower()
    close = "close" in tokens or (minor == "0" and "keep-alive" not in tokens)
    if status in _NO_BODY:
        return status, headers, b"", close
    codings = [
        c.strip().lower() for c in ",".join(framing.get("transfer-encoding", ())).split(",") if c.strip()
    ]
    if codings:
        # RFC 9112 6.3: chunked last frames the body (a Content-Length beside it is ignored, and the
        # connection closed after: one of them lied); any other coding is framed by the close.
        if codings[-1] == "chunked":
            body = _read_chunked(connection)
            # HTTP/1.0 has no chunked encoding (RFC 9112 6.1): a server that sent it closes after.
            doubtful = "content-length" in framing or len(codings) > 1 or minor == "0"
            return status, headers, body, close or doubtful
        return status, headers, connection.to_end(MAX_BODY_BYTES), True
    lengths = {v.strip() for value in framing.get("content-length", ()) for v in value.split(",")}
    if lengths:
        if len(lengths) > 1:
            raise _Malformed("Content-Length headers that disagree")
        (length_text,) = lengths
        if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 12:
            raise _Malformed("a bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise _Malformed(f"an answer over {MAX_BODY_BYTES} bytes")
        return status, headers, connection.exactly(length), close
    return status, headers, connection.to_end(MAX_BODY_BYTES), True


def post(
    url: str,
    *,
    body: Optional[bytes] = None,
    json_body: Any = None,
    headers: Optional[Mapping[str, str]] = None,
    params: Optional[Mapping[str, str]] = None,
    timeout_s: float = 5.0,
) -> HttpResponse:
    """POST and return the answer; HttpError (with the URL redacted) when there is none.

    `params` are added to the URL's query, each encoded once (as requests does). The timeout bounds
    the whole request (connecting, TLS, sending, every read of the answer), so a server that trickles
    its answer a byte at a time still ends the call within `timeout_s` (requests bounds each read).
    """
    from urllib.parse import urlencode, urlsplit  # here: post_to's callers never parse a URL

    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise HttpError(f"bad URL: POST {shown}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: POST {shown}")
    query = parts.query
    if params:
        extra = urlencode(params)
        query = f"{query}&{extra}" if query else extra
    target = (parts.path or "/") + (f"?{query}" if query else "")
    return post_to(
        parts.scheme, parts.hostname, port, target, body=body, json_body=json_body, headers=headers,
        timeout_s=timeout_s, shown=shown,
    )  # fmt: skip


def post_to(
    scheme: str,
    host: str,
    port: int,
    target: str,
    *,
    body: Optional[bytes] = None,
    json_body: Any = None,
    headers: Optional[Mapping[str, str]] = None,
    timeout_s: float = 5.0,
    shown: Optional[str] = None,
) -> HttpResponse:
    """post() to an origin and request target given apart (`/` and its query), for a caller that
    built them itself (the cloud APIs): no URL is parsed, so `urllib.parse` is never imported on
    its path (1.5 ms of a 3.9 cold start). `shown` is how errors name the request (redacted)."""
    if shown is None:
        try:
            shown = redact_url(f"{scheme}://{host_header(host, port, scheme)}{target}")
        except UnicodeError:  # a host the idna codec refuses: said as it is, and refused below
            shown = f"{scheme}://{host!r}:{port}"
    if scheme not in ("http", "https") or not host:
        raise HttpError(f"not an http(s) URL: POST {shown}")
    if any(c in _CONTROL for c in host):  # getaddrinfo would stop at a NUL
        raise HttpError(f"control characters or spaces in the host: POST {shown}")
    if body is not None and not isinstance(body, (bytes, bytearray)):
        raise HttpError(f"the body is a {type(body).__name__}, not bytes: POST {shown}")
    if not target.startswith("/"):
        raise HttpError(f"the request target does not start with '/': POST {shown}")
    if any(c in _CONTROL for c in target):
        raise HttpError(f"control characters or spaces in the URL: POST {shown}")
    # The caller's headers win over these defaults, whatever their case; Host is always ours.
    given = {k: v for k, v in (headers or {}).items() if not (isinstance(k, str) and k.lower() == "host")}
    given_names = {k.lower() for k in given if isinstance(k, str)}
    defaults = {"User-Agent": USER_AGENT, "Connection": "keep-alive", "Accept-Encoding": "identity"}
    sent_headers = {k: v for k, v in defaults.items() if k.lower() not in given_names}
    sent_headers.update(given)
    if json_body is not None:
        try:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
            raise HttpError(f"body cannot be sent ({type(exc).__name__}): POST {shown}") from None
        if "content-type" not in given_names:
            sent_headers["Content-Type"] = "application/json; charset=utf-8"
    payload = bytes(body or b"")
    if "content-length" not in given_names:
        sent_headers["Content-Length"] = str(len(payload))
    try:
        head = f"POST {target} HTTP/1.1\r\nHost: {host_header(host, port, scheme)}\r\n"
        request = head.encode("ascii") + _header_block(sent_headers) + b"\r\n" + payload
    except (ValueError, UnicodeError) as exc:
        raise HttpError(f"the request cannot be written ({type(exc).__name__}): POST {shown}") from None
    origin: Origin = (scheme, host, port)
    try:
        asked = float(timeout_s)
    except (TypeError, ValueError, OverflowError):
        raise HttpError(f"a timeout of {timeout_s!r:.40} is no number of seconds: POST {shown}") from None
    timeout = min(max(0.1, asked), MAX_TIMEOUT_S) if not math.isnan(asked) else 0.1
    deadline = time.monotonic() + timeout
    while True:
        connection = _take(origin)
        reused = connection is not None
        sent = False
        try:
            if connection is None:
                connection = _connect(origin, deadline)
            else:
                connection.deadline = deadline
            connection.settimeout()
            connection.sock.sendall(request)  # headers and body in one write: no delayed-ACK stall
            sent = True
            status, answer_headers, data, close = _read_answer(connection)
        except (socket.timeout, TimeoutError):  # one class from 3.10; an OS-level ETIMEDOUT on 3.9
            if connection is not None:
                connection.close()
            raise HttpError(f"timeout after {timeout:.1f}s: POST {shown}", timeout=True) from None
        except (_Closed, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            if connection is not None:
                connection.close()
            if reused and not sent:
                continue  # the kept connection failed while sending: nothing arrived, once more anew
            # Sent and then closed without an answer: the server may have acted on it, so it is not
            # sent again here (the caller decides, knowing whether a repeat is harmless).
            raise HttpError(f"connection closed without an answer: POST {shown}") from None
        except _Malformed as exc:
            connection.close()  # type: ignore[union-attr]  # only raised once connected
            raise HttpError(f"a bad HTTP answer ({exc}): POST {shown}") from None
        except (OSError, ValueError) as exc:  # refused, unreachable, TLS failure; ValueError: bad host
            if connection is not None:
                connection.close()
            if reused and not sent and isinstance(exc, OSError):
                # A kept connection that failed while the request was being written (on 3.10+ a TLS
                # one says SSLEOFError, not a reset): the server cannot have acted on an incomplete
                # request, so once more on a new connection.
                continue
            raise HttpError(f"{type(exc).__name__}: POST {shown}") from None
        if close or not connection.reusable():
            connection.close()
        else:
            _keep(origin, connection)
        return HttpResponse(status, data.decode("utf-8", "replace"), answer_headers)
