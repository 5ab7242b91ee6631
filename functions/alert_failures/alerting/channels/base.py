"""What every channel does: render an alert to a JSON body, build the (signed) request, judge the answer."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlparse

from shared.record import NamedTuple

from ..config import AlertConfig, ChannelConfig
from ..outbox import Outbox, Payload

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

if TYPE_CHECKING:  # shared.http is imported where a request is sent, not at cold start
    from shared.http import HttpResponse

_MIN_SECRET = 6


class Request(NamedTuple):
    """One HTTP POST to make."""

    url: str
    json_body: Mapping[str, Any]
    params: Optional[Mapping[str, str]] = None


class Verdict(NamedTuple):
    """What an answer means: delivered, worth another try (with the server's wait), or failed."""

    ok: bool
    detail: str = "ok"
    retryable: bool = False
    retry_after_s: Optional[float] = None


def retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """Retry-After in seconds (the HTTP-date form is ignored: backoff applies instead)."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value.strip()))
            except ValueError:
                return None
    return None


def robot_verdict(
    data: Any, code_keys: tuple[str, ...], message_keys: tuple[str, ...], rate_limited: frozenset[int]
) -> Verdict:
    """A Chinese robot's body: HTTP 200 even on failure, the code in the body says."""
    if not isinstance(data, Mapping):
        return Verdict(False, "the answer is not a JSON object")
    code = next((data[k] for k in code_keys if k in data), None)
    message = next((str(data[k]) for k in message_keys if k in data), "")
    if code == 0:
        return Verdict(True)
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    detail = f"code {code}: {message[:200]}"
    return Verdict(False, detail, retryable=number in rate_limited)


class Channel(ABC):
    """One chat robot or webhook receiver."""

    name = "channel"

    def __init__(self, channel: ChannelConfig, settings: AlertConfig) -> None:
        self.config = channel
        self.settings = settings
        self._secrets = _url_secrets(channel.url) + ([channel.secret] if channel.secret else [])

    @property
    def url(self) -> str:
        """The webhook URL (a secret: log it only through redact_url)."""
        return self.config.url

    @abstractmethod
    def payloads(self, outbox: Outbox) -> list[Payload]:
        """The bodies this channel sends for the run, in order, each within the channel's size limit."""

    def request(self, body: Mapping[str, Any], now_s: float) -> Request:
        """The request to send at wall-clock time `now_s` (signatures are made here, fresh per try)."""
        return Request(self.url, body)

    def check(self, response: HttpResponse) -> Verdict:
        """HTTP status first (429 and 5xx may pass), then the channel's body."""
        if response.status == 429:
            return Verdict(False, "HTTP 429", retryable=True, retry_after_s=retry_after(response.headers))
        if response.status >= 500:
            return Verdict(
                False, self.scrub(f"HTTP {response.status}: {response.text[:200]}"), retryable=True
            )
        if not 200 <= response.status < 300:
            return Verdict(False, self.scrub(f"HTTP {response.status}: {response.text[:200]}"))
        verdict = self.check_body(response)
        return verdict if verdict.ok else Verdict(False, self.scrub(verdict.detail), verdict.retryable)

    def check_body(self, response: HttpResponse) -> Verdict:
        """A 2xx answer's body; any 2xx is a delivery unless a channel says otherwise."""
        return Verdict(True)

    def scrub(self, text: str) -> str:
        """Text from the server, without the URL's credentials or the signing secret."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL that are credentials: query values and long path segments."""
    parsed = urlparse(url)
    values = [v for _, v in parse_qsl(parsed.query) if len(v) >= _MIN_SECRET]
    values += [seg for seg in parsed.path.split("/") if len(seg) >= 16]
    return sorted(set(values), key=len, reverse=True)


def body_bytes(body: Any) -> int:
    """The size of a JSON body exactly as shared.http sends it (UTF-8, not ASCII-escaped)."""
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))


def text_bytes(text: str) -> int:
    """A text's size in UTF-8 bytes, as WeCom counts its content (a Chinese character is 3)."""
    return len(text.encode("utf-8"))


def utf16_units(text: str) -> int:
    """A text's length as Slack counts characters (JavaScript string length: an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2
