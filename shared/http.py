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

import contextlib
import json
import select
import socket
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from typing import TYPE_CHECKING, Any, Mapping, Optional
from urllib.parse import urlencode, urlsplit

from .errors import BatchEventsError
from .log import redact_url

if TYPE_CHECKING:
    import ssl

Origin = tuple[str, str, int]
MAX_IDLE_PER_ORIGIN = 4
MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
MAX_BODY_BYTES = 32 * 1024 * 1024  # 16 queue messages of 1 MB, JSON-escaped, fit; a runaway body does not
USER_AGENT = "batch-events (Tencent Cloud SCF)"
_CONTROL = frozenset(chr(c) for c in range(0x21)) | {"\x7f"}  # not allowed in a request target
_NO_BODY = frozenset({204, 304})

_idle: dict[Origin, list[_Connection]] = {}
_lock = allocate_lock()
_tls: Optional[ssl.SSLContext] = None


class HttpError(BatchEventsError):
    """No HTTP answer: timeout, refused or reset connection, bad URL, an answer that is not HTTP."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


class HttpResponse:
    """An HTTP answer, reduced to what callers check."""

    __slots__ = ("headers", "status", "text")

    def __init__(self, status: int, text: str, headers: Optional[Mapping[str, str]] = None) -> None:
        self.status = status
        self.text = text
        self.headers: Mapping[str, str] = headers if headers is not None else {}

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status!r}, text={self.text[:80]!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HttpResponse):
            return NotImplemented
        return (self.status, self.text, dict(self.headers)) == (other.status, other.text, dict(other.headers))

    __hash__ = None  # type: ignore[assignment]  # mutable mapping inside, like the dataclass it was

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


def tls_context() -> ssl.SSLContext:
    """Verifying TLS: certifi's CA bundle when it is importable (it ships beside the SDK), else the
    system's store (SCF's runtime images carry one). Imported only when an https URL is used."""
    global _tls  # one context per instance: loading the CA bundle costs milliseconds
    if _tls is None:
        import ssl

        try:
            import certifi

            cafile: Optional[str] = certifi.where()
        except ImportError:
            cafile = None
        _tls = ssl.create_default_context(cafile=cafile)
    return _tls


class _Connection:
    """One TCP (or TLS) connection and a buffered reader over it."""

    __slots__ = ("reader", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        for part in (self.reader, self.sock):
            with contextlib.suppress(OSError):
                part.close()

    def closed_by_peer(self) -> bool:
        """True when a kept connection has something to read before we asked anything: the server
        closed it (or wrote garbage) while it was idle. Checked before reuse, as urllib3 does."""
        if self.sock.fileno() < 0:
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def line(self) -> bytes:
        data = self.reader.readline(MAX_LINE + 1)
        if len(data) > MAX_LINE:
            raise _Malformed("header line too long")
        return data

    def exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) < size:
            raise _Malformed("the answer ended early")
        return data


def _connect(origin: Origin, timeout: float) -> _Connection:
    scheme, host, port = origin
    # A str host makes getaddrinfo encode it with the idna codec, importing encodings.idna (and
    # stringprep, unicodedata) on every cold start; an ASCII name or address is the same as bytes.
    name = host.encode("ascii") if host.isascii() else host.encode("idna")
    sock = socket.create_connection((name, port), timeout=timeout)  # type: ignore[arg-type]
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one small request: no Nagle wait
        if scheme == "https":
            sock = tls_context().wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    return _Connection(sock)


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


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    if not shown.isascii():
        shown = shown.encode("idna").decode("ascii")
    default = 443 if scheme == "https" else 80
    return shown if port == default else f"{shown}:{port}"


def _header_block(lines: Mapping[str, str]) -> bytes:
    out = []
    for name, value in lines.items():
        text = f"{name}{value}"
        if "\r" in text or "\n" in text or "\x00" in text or ":" in name or not name.strip():
            raise ValueError(f"bad header {name!r}")
        out.append(f"{name}: {value}\r\n")
    return "".join(out).encode("latin-1")  # as http.client: a value outside latin-1 is an error


def _read_headers(connection: _Connection) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = connection.line()
        if raw in (b"\r\n", b"\n"):
            return headers
        if not raw:
            raise _Malformed("the answer ended inside its headers")
        text = raw.decode("latin-1").rstrip("\r\n")
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise _Malformed("a header line without a name")
        headers[name] = value.strip()
    raise _Malformed(f"more than {MAX_HEADERS} headers")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


def _read_chunked(connection: _Connection) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = connection.line().split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Malformed("a bad chunk size") from None
        if size < 0:
            raise _Malformed("a bad chunk size")
        if size == 0:
            break
        total += size
        if total > MAX_BODY_BYTES:
            raise _Malformed(f"an answer over {MAX_BODY_BYTES} bytes")
        parts.append(connection.exactly(size))
        if connection.line() not in (b"\r\n", b"\n"):
            raise _Malformed("a chunk not ended by CRLF")
    for _ in range(MAX_HEADERS + 1):  # trailers, if any, then the blank line
        if connection.line() in (b"\r\n", b"\n", b""):
            return b"".join(parts)
    raise _Malformed("too many trailers")


def _read_answer(connection: _Connection) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, body, and whether the connection must be closed after it."""
    while True:
        status_line = connection.line()
        if not status_line:
            raise _Closed()
        version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
        code_text = rest.split(" ", 1)[0]
        if not version.startswith("HTTP/1.") or not (code_text.isdigit() and len(code_text) == 3):
            raise _Malformed("not an HTTP/1.x status line")
        status = int(code_text)
        headers = _read_headers(connection)
        if 100 <= status < 200:
            continue  # 100 Continue and other interim answers: the real one follows
        break
    connection_header = _header(headers, "connection").lower()
    close = "close" in connection_header or (version == "HTTP/1.0" and "keep-alive" not in connection_header)
    if status in _NO_BODY:
        return status, headers, b"", close
    if "chunked" in _header(headers, "transfer-encoding").lower():
        return status, headers, _read_chunked(connection), close
    length_text = _header(headers, "content-length")
    if length_text:
        if not length_text.isdigit():
            raise _Malformed("a bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise _Malformed(f"an answer over {MAX_BODY_BYTES} bytes")
        return status, headers, connection.exactly(length), close
    body = connection.reader.read(MAX_BODY_BYTES + 1)  # framed by the connection's end
    if len(body) > MAX_BODY_BYTES:
        raise _Malformed(f"an answer over {MAX_BODY_BYTES} bytes")
    return status, headers, body, True


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

    `params` are added to the URL's query, each encoded once (as requests does). The timeout holds
    for connecting and for each read, as requests' does.
    """
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
    if any(c in _CONTROL for c in target):
        raise HttpError(f"control characters or spaces in the URL: POST {shown}")
    sent_headers = {"User-Agent": USER_AGENT, "Connection": "keep-alive", **dict(headers or {})}
    if json_body is not None:
        try:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
            raise HttpError(f"body cannot be sent ({type(exc).__name__}): POST {shown}") from None
        sent_headers.setdefault("Content-Type", "application/json; charset=utf-8")
    payload = body or b""
    lowered = {name.lower() for name in sent_headers}
    if "content-length" not in lowered:
        sent_headers["Content-Length"] = str(len(payload))
    try:
        head = f"POST {target} HTTP/1.1\r\nHost: {_host_header(parts.hostname, port, parts.scheme)}\r\n"
        request = head.encode("ascii") + _header_block(sent_headers) + b"\r\n" + payload
    except (ValueError, UnicodeError) as exc:
        raise HttpError(f"the request cannot be written ({type(exc).__name__}): POST {shown}") from None
    origin: Origin = (parts.scheme, parts.hostname, port)
    timeout = max(0.1, timeout_s)
    while True:
        connection = _take(origin)
        reused = connection is not None
        sent = False
        try:
            if connection is None:
                connection = _connect(origin, timeout)
            else:
                connection.sock.settimeout(timeout)
            connection.sock.sendall(request)  # headers and body in one write: no delayed-ACK stall
            sent = True
            status, answer_headers, data, close = _read_answer(connection)
        except socket.timeout:
            if connection is not None:
                connection.close()
            raise HttpError(f"timeout after {timeout_s:.1f}s: POST {shown}", timeout=True) from None
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
            raise HttpError(f"{type(exc).__name__}: POST {shown}") from None
        if close:
            connection.close()
        else:
            _keep(origin, connection)
        return HttpResponse(status, data.decode("utf-8", "replace"), answer_headers)
