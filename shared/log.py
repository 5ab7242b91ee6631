"""One JSON object per line on stdout, so that CLS can search every field; secrets scrubbed."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time

from .text import clean_text

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import IO, Any, Iterable, Mapping, Optional, TypeVar

# Settings whose values are secrets wherever they appear (webhook URLs carry their key in the URL).
_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY$|KEY_ID$|SECRETID|WEBHOOK_URL)", re.IGNORECASE)
# Query parameters that carry credentials in the chat robots' URLs (WeCom key, DingTalk access_token, ...).
_SECRET_PARAM = re.compile(
    r"(?P<k>[?&](?:key|access_token|token|sign|secret|signature|timestamp_sign)=)[^&#\s\"']+",
    re.IGNORECASE,
)
# Path segments that are credentials: Feishu /hook/<token>, Slack /services/T../B../<secret>.
_SECRET_PATH = re.compile(
    r"(?P<k>/open-apis/bot/v2/hook/|/services/)[A-Za-z0-9_\-/]+",
)
if TYPE_CHECKING:
    T = TypeVar("T")
_MIN_SECRET_LEN = 6
REDACTED = "***"
# A text field longer than this is cut: one huge value (a 1 MB StateReason) must not make a log
# line CLS refuses or truncates somewhere unhelpful.
MAX_FIELD_CHARS = 8192
# Built once: json.dumps with non-default options builds a new encoder on every call, which
# costs as much as encoding a node_event line.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


@functools.lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    """True for a setting whose value is a secret. Cached: every invocation scans the whole
    environment (about 40 names on SCF), and the pattern search was most of a one-record invocation.
    A tag key (RETRY_TAG_KEY) names a tag, it is no key to anything: masking it would only hide a typo."""
    return _SECRET_NAME.search(name) is not None and not name.upper().endswith("_TAG_KEY")


def secret_values(env: Optional[Mapping[str, str]] = None) -> list[str]:
    """Values of settings that are secrets, longest first (so a secret inside another is still caught).

    Without `env`, the process environment's: scanned again only when it changed since the last
    scan. Each invocation makes a logger, and scanning os.environ (which decodes every name and value
    on the way) was 16 us of a one-record invocation on Python 3.9; comparing its raw table with a
    copy kept from the last scan is 0.5. Every change made through os.environ (monkeypatch's too)
    shows in that table; without one (not CPython) every call scans.
    """
    if env is not None:
        return _secret_values(env)
    table = getattr(os.environ, "_data", None)  # CPython's os._Environ: encoded names -> values
    if not isinstance(table, dict):
        return _secret_values(os.environ)
    if table != _SCANNED[0]:
        _SCANNED[:] = [dict(table), _secret_values(os.environ)]
    return list(_SCANNED[1])


def _secret_values(source: Mapping[str, str]) -> list[str]:
    values = {source[k] for k in source if is_secret_name(k)}
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LEN), key=len, reverse=True)


# The environment's table when it was last scanned, and the secret values found in it.
_SCANNED: list[Any] = [None, []]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secret values, credential query parameters and credential path segments from text."""
    for value in secrets:
        if value and value in text:
            text = text.replace(value, REDACTED)
    # Each pattern needs a literal that most log lines lack: checking for it first spares the
    # regex scan of every line (the result is the same either way).
    if "=" in text:
        text = _SECRET_PARAM.sub(lambda m: m.group("k") + REDACTED, text)
    if "/" in text and ("/services/" in text or "/hook/" in text):  # one scan for most lines
        text = _SECRET_PATH.sub(lambda m: m.group("k") + REDACTED, text)
    return text


def scrubbed(value: T, secrets: Optional[Iterable[str]] = None) -> T:
    """`value` (a summary, an HTTP answer) with secrets removed from every text in it, and no lone
    surrogate: SCF logs a function's return value as it is, outside this logger."""
    cleaned: T = _scrub(value, list(secret_values() if secrets is None else secrets))
    return cleaned


def _scrub(value: Any, known: list[str]) -> Any:
    if isinstance(value, str):
        return clean_text(redact(value, known))
    if isinstance(value, dict):
        return {_scrub(k, known): _scrub(v, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, known) for v in value]
    return value


def redact_url(url: str) -> str:
    """A URL fit for a log line: credentials in its query or path replaced."""
    return redact(url, secret_values())


def clip(value: Any, limit: int = MAX_FIELD_CHARS) -> Any:
    """The value with every string longer than `limit` cut, saying how much was cut."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}...[{len(value) - limit} more characters]"
    if isinstance(value, dict):
        return {k: clip(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clip(v, limit) for v in value]
    return value


class JsonLogger:
    """Writes structured log lines carrying the function name and the SCF request id."""

    def __init__(
        self,
        function: str,
        request_id: Optional[str] = None,
        stream: Optional[IO[str]] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._function = function
        self._request_id = request_id
        self._stream = stream
        self._secrets = secret_values(env)
        # The JSON of each (level, message)'s header after its timestamp, built on first use.
        self._heads: dict[tuple[str, str], str] = {}
        self._ts, self._ts_text = -1.0, ""  # the last line's timestamp, and its JSON start

    @property
    def function(self) -> str:
        """The function name every line carries."""
        return self._function

    @property
    def request_id(self) -> Optional[str]:
        """The SCF request id every line carries (when there is one)."""
        return self._request_id

    @property
    def secrets(self) -> list[str]:
        """The secret values this logger removes (read from the environment once, when it was made)."""
        return self._secrets

    def log(self, level: str, message: str, **fields: Any) -> None:
        """Write one line: level, message, function, request id, then the fields."""
        self.write(level, message, fields)

    def write(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        """`log` with the fields as a mapping: a line per event need not copy them into keywords.

        The line is the JSON of the header (ts, level, msg, function, request_id) updated with the
        fields. The fields are encoded alone and joined to the header's JSON, built once per level
        and message: the same text, without copying every field into a new dict and encoding the
        header again on each line (about 1 us of a node_event line's 20 on Python 3.9; a test holds
        the two equal, secrets included). Fields that are not a dict or name a header key, lines long
        enough to clip and fields that cannot be encoded take the whole-record path. (Encoded one
        level less deep, fields nested at the encoder's very recursion limit still give their line.)
        """
        now = time.time()
        # round(now, 3) is the last line's timestamp while now is within 0.4 ms of it (a float's error
        # at this magnitude is under a microsecond): most lines need no round(), a third of a us on 3.9.
        ts = self._ts if -0.0004 <= now - self._ts <= 0.0004 else round(now, 3)
        if type(fields) is dict and not (
            "ts" in fields
            or "level" in fields
            or "msg" in fields
            or "function" in fields
            or "request_id" in fields
        ):
            try:
                body = _ENCODER.encode(fields)
            except (RecursionError, ValueError, TypeError):
                body = ""  # emit writes the line that says so
            if body:
                if ts != self._ts:  # lines a millisecond apart share the text of their timestamp
                    self._ts, self._ts_text = ts, '{"ts":' + repr(ts)  # as the encoder writes a float
                head = self._heads.get((level, message)) or self._head(level, message)
                line = self._ts_text + head + ("," + body[1:] if len(body) > 2 else "}")
                if len(line) <= MAX_FIELD_CHARS:
                    self._put(line)
                    return
        record: dict[str, Any] = {"ts": ts, "level": level, "msg": message, "function": self._function}
        if self._request_id:
            record["request_id"] = self._request_id
        record.update(fields)
        self.emit(record)

    def _head(self, level: str, message: str) -> str:
        header: dict[str, Any] = {"level": level, "msg": message, "function": self._function}
        if self._request_id:
            header["request_id"] = self._request_id
        head = self._heads[(level, message)] = "," + _ENCODER.encode(header)[1:-1]
        return head

    def emit(self, record: Mapping[str, Any]) -> None:
        """Write an already-shaped JSON object as one line, long texts clipped, secrets scrubbed.

        Never raises for what the record holds: a value that cannot be encoded (nested past the
        encoder's recursion limit, a number past Python's printable digits) gives a line that says
        so, and a lone surrogate becomes U+FFFD, so that stdout (UTF-8) always takes the line.
        """
        try:
            line = _ENCODER.encode(record)
            if len(line) > MAX_FIELD_CHARS:  # only a long line can hold a field worth clipping
                line = _ENCODER.encode(clip(record))
        except (RecursionError, ValueError, TypeError) as exc:
            line = _ENCODER.encode(
                {
                    "ts": round(time.time(), 3),
                    "level": "ERROR",
                    "msg": "a log line could not be encoded",
                    "function": self._function,
                    "request_id": self._request_id,
                    "lost_msg": clean_text(str(record.get("msg", "")))[:200],
                    "error": type(exc).__name__,
                }
            )
        self._put(line)

    def _put(self, line: str) -> None:
        """Write one encoded line: secrets removed (never the newline, added after), lone surrogates
        replaced. Without secrets to look for, a line with neither "=" nor "/" has nothing `redact`
        removes, and an ASCII line nothing `clean_text` replaces: most node_event lines skip both."""
        secrets = self._secrets
        if secrets or "=" in line or "/" in line:
            line = redact(line, secrets)
        if not line.isascii():
            line = clean_text(line)
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(line + "\n")

    def info(self, message: str, **fields: Any) -> None:
        """An info line."""
        self.log("INFO", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        """A warning line."""
        self.log("WARNING", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        """An error line."""
        self.log("ERROR", message, **fields)
