"""Outbound HTTP for webhooks and the queue data API: the standard library's http.client, one place for
timeouts, JSON bodies and redacted errors.

Not `requests`: on the timer path every function polls its queue, and importing requests (and
urllib3, charset_normalizer, idna) cost more than the rest of a cold start together (docs/benchmarks.md).
Connections are kept per origin across invocations (module state survives warm runs), so a warm run
makes no new TLS handshake; a kept connection the server closed meanwhile is retried once on a new one.
Certificates: certifi's bundle where the package ships it, else the system's.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlencode, urlsplit

from .errors import BatchEventsError
from .log import redact_url

Connection = Union[http.client.HTTPConnection, http.client.HTTPSConnection]
Origin = tuple[str, str, int]
MAX_IDLE_PER_ORIGIN = 4
USER_AGENT = "batch-events (Tencent Cloud SCF)"
# What a kept connection the server closed while it was idle looks like when it is used again.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ConnectionAbortedError)

_idle: dict[Origin, list[Connection]] = {}
_lock = threading.Lock()
_tls: Optional[ssl.SSLContext] = None


class HttpError(BatchEventsError):
    """No HTTP answer: timeout, refused or reset connection, bad URL."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP answer, reduced to what callers check."""

    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None


def tls_context() -> ssl.SSLContext:
    """Verifying TLS: certifi's CA bundle when it is importable (it ships beside the SDK), else the
    system's store (SCF's runtime images carry one)."""
    global _tls  # one context per instance: loading the CA bundle costs milliseconds
    if _tls is None:
        try:
            import certifi

            cafile: Optional[str] = certifi.where()
        except ImportError:
            cafile = None
        _tls = ssl.create_default_context(cafile=cafile)
    return _tls


def _closed_by_peer(connection: Connection) -> bool:
    """True when a kept connection has something to read before we asked anything: the server closed
    it (or wrote garbage) while it was idle. Checked before reuse, as urllib3 does."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _take(origin: Origin, timeout: float) -> tuple[Connection, bool]:
    with _lock:
        kept = _idle.get(origin)
        connection = kept.pop() if kept else None
    while connection is not None and _closed_by_peer(connection):
        connection.close()
        with _lock:
            kept = _idle.get(origin)
            connection = kept.pop() if kept else None
    if connection is not None:
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, True
    scheme, host, port = origin
    if scheme == "https":
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context()), False
    return http.client.HTTPConnection(host, port, timeout=timeout), False


def _keep(origin: Origin, connection: Connection) -> None:
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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: POST {redact_url(url)}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise HttpError(f"bad port: POST {redact_url(url)}") from None
    query = parts.query
    if params:
        extra = urlencode(params)
        query = f"{query}&{extra}" if query else extra
    target = (parts.path or "/") + (f"?{query}" if query else "")
    sent_headers = {"User-Agent": USER_AGENT, "Connection": "keep-alive", **dict(headers or {})}
    if json_body is not None:
        try:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
            raise HttpError(f"body cannot be sent ({type(exc).__name__}): POST {redact_url(url)}") from None
        sent_headers.setdefault("Content-Type", "application/json; charset=utf-8")
    origin: Origin = (parts.scheme, parts.hostname, port)
    timeout = max(0.1, timeout_s)
    while True:
        connection, reused = _take(origin, timeout)
        sent = False
        try:
            connection.request("POST", target, body=body, headers=sent_headers)
            sent = True
            answer = connection.getresponse()
            data = answer.read()
        except socket.timeout:
            connection.close()
            raise HttpError(f"timeout after {timeout_s:.1f}s: POST {redact_url(url)}", timeout=True) from None
        except _STALE:
            connection.close()
            if reused and not sent:
                continue  # the kept connection failed while sending: nothing arrived, once more anew
            # Sent and then closed without an answer: the server may have acted on it, so it is not
            # sent again here (the caller decides, knowing whether a repeat is harmless).
            raise HttpError(f"connection closed without an answer: POST {redact_url(url)}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a bad URL or header
            connection.close()
            raise HttpError(f"{type(exc).__name__}: POST {redact_url(url)}") from None
        if answer.will_close:
            connection.close()
        else:
            _keep(origin, connection)
        text = data.decode("utf-8", "replace")
        return HttpResponse(answer.status, text, {k: v for k, v in answer.getheaders()})
