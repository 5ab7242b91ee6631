"""Outbound HTTP for webhooks and data APIs: one place for timeouts, JSON bodies and redacted errors.

`requests` (a dependency of the SDK) is imported on first use, not at module import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from .errors import BatchEventsError
from .log import redact_url

_session: Any = None


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
        except ValueError:
            return None


def _get_session() -> Any:
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
    return _session


def post(
    url: str,
    *,
    body: Optional[bytes] = None,
    json_body: Any = None,
    headers: Optional[Mapping[str, str]] = None,
    params: Optional[Mapping[str, str]] = None,
    timeout_s: float = 5.0,
) -> HttpResponse:
    """POST and return the answer; HttpError (with the URL redacted) when there is none."""
    import requests

    sent_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        sent_headers.setdefault("Content-Type", "application/json; charset=utf-8")
    try:
        answer = _get_session().post(
            url, data=body, headers=sent_headers, params=params, timeout=max(0.1, timeout_s)
        )
    except requests.Timeout:
        raise HttpError(f"timeout after {timeout_s:.1f}s: POST {redact_url(url)}", timeout=True) from None
    except (requests.RequestException, OSError) as exc:
        raise HttpError(f"{type(exc).__name__}: POST {redact_url(url)}") from None
    return HttpResponse(answer.status_code, answer.text, dict(answer.headers))
