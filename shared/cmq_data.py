"""The TDMQ-CMQ queue data API (`POST /v2/index.php`): BatchReceiveMessage and BatchDeleteMessage.

No maintained Python library speaks this API with temporary credentials, so this is the small
client: the legacy signature (HMAC-SHA256 over `POST` + host + path + `?` + the sorted parameters,
with `_` in parameter names written as `.`), form-encoded parameters, JSON answers with `code`.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from urllib.parse import urlencode, urlparse

from .digest import hmac_sha256
from .errors import BatchEventsError, ConfigError
from .http import HttpError, post
from .record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional, Sequence

PATH = "/v2/index.php"
MAX_BATCH = 16
MAX_POLLING_WAIT_S = 30
CODE_NO_MESSAGE = 7000
CODE_DELETE_PARTIAL = 6010
CODE_DELETE_ALL_FAILED = 6020
MIN_REQUEST_S = 0.2  # below this a request is not started


class CmqError(BatchEventsError):
    """The queue API answered with an error code, or did not answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"CMQ error {code}: {message}")
        self.code = code
        self.message = message


class QueueMessage(NamedTuple):
    """One received message: its body is Batch's raw message (SIMPLIFIED subscription)."""

    msg_id: str
    body: str
    receipt_handle: str
    dequeue_count: int = 0
    enqueue_time: Optional[int] = None


class DeleteResult(NamedTuple):
    """What BatchDeleteMessage did: handles it could not delete, with the reason of each."""

    requested: int
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def deleted(self) -> int:
        """How many handles were deleted."""
        return self.requested - len(self.failed)


def canonical_string(host: str, params: Mapping[str, Any], method: str = "POST", path: str = PATH) -> str:
    """The text the legacy scheme signs: values unencoded, names sorted, `_` in names as `.`."""
    pairs = "&".join(f"{k.replace('_', '.')}={params[k]}" for k in sorted(params))
    return f"{method.upper()}{host}{path}?{pairs}"


def signature(secret_key: str, text: str) -> str:
    """Base64 of HMAC-SHA256(secret_key, text)."""
    digest = hmac_sha256(secret_key.encode("utf-8"), text.encode("utf-8"))
    return base64.b64encode(digest).decode("ascii")


def _random_nonce() -> int:
    """A random Nonce in 1 .. 2**31-1, from os.urandom (importing `random` costs a cold start ~1 ms)."""
    return int.from_bytes(os.urandom(4), "big") % (2**31 - 1) + 1


class CmqDataClient:
    """Receives and deletes queue messages through the CMQ data API."""

    def __init__(
        self,
        endpoint: str,
        secret_id: str,
        secret_key: str,
        token: Optional[str] = None,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], int] = _random_nonce,
    ) -> None:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"CMQ_ENDPOINT={endpoint!r} is not an http(s)://host URL")
        self.url = f"{parsed.scheme}://{parsed.netloc}{PATH}"
        self.host = parsed.netloc
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._token = token
        self._clock = clock
        self._nonce = nonce

    def signed_params(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The request's parameters with the common ones and the Signature added."""
        signed: dict[str, Any] = dict(params)
        signed.update(
            Action=action,
            SecretId=self._secret_id,
            Nonce=self._nonce(),
            Timestamp=int(self._clock()),
            SignatureMethod="HmacSHA256",
        )
        if self._token:
            signed["Token"] = self._token
        signed["Signature"] = signature(self._secret_key, canonical_string(self.host, signed))
        return signed

    def call(self, action: str, params: Mapping[str, Any], timeout_s: float) -> dict[str, Any]:
        """One API call; CmqError for a non-zero code (except the caller's expected ones)."""
        body = urlencode(self.signed_params(action, params)).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        try:
            answer = post(self.url, body=body, headers=headers, timeout_s=timeout_s)
        except HttpError as exc:
            raise CmqError(-1, str(exc)) from None
        data = answer.json()
        if answer.status != 200 or not isinstance(data, dict):
            raise CmqError(-answer.status, f"HTTP {answer.status}: {answer.text[:200]}")
        code = data.get("code")
        if not isinstance(code, int):
            raise CmqError(-2, "answer has no integer code")
        if code not in (0, CODE_NO_MESSAGE, CODE_DELETE_PARTIAL, CODE_DELETE_ALL_FAILED):
            raise CmqError(code, str(data.get("message", "")))
        return data

    def receive(
        self, queue: str, count: int, wait_s: int, timeout_s: Optional[float] = None
    ) -> list[QueueMessage]:
        """BatchReceiveMessage: up to `count` (1-16) messages, long-polling up to `wait_s` (0-30) s;
        the answer is awaited `timeout_s` at most (default: the wait plus 5 s)."""
        count = max(1, min(MAX_BATCH, count))
        wait_s = max(0, min(MAX_POLLING_WAIT_S, wait_s))
        params = {"queueName": queue, "numOfMsg": count, "pollingWaitSeconds": wait_s}
        limit = wait_s + 5.0 if timeout_s is None else timeout_s
        data = self.call("BatchReceiveMessage", params, timeout_s=limit)
        if data["code"] == CODE_NO_MESSAGE:
            return []
        messages = []
        for item in data.get("msgInfoList") or []:
            if not isinstance(item, Mapping) or not item.get("receiptHandle"):
                continue
            messages.append(
                QueueMessage(
                    msg_id=str(item.get("msgId", "")),
                    body=str(item.get("msgBody", "")),
                    receipt_handle=str(item["receiptHandle"]),
                    dequeue_count=int(item.get("dequeueCount") or 0),
                    enqueue_time=item.get("enqueueTime"),
                )
            )
        return messages

    def delete(
        self,
        queue: str,
        handles: Sequence[str],
        timeout_s: float = 5.0,
        time_left: Optional[Callable[[], float]] = None,
    ) -> DeleteResult:
        """BatchDeleteMessage in chunks of 16; per-handle failures (6010 / 6020) are returned, not raised.

        With `time_left`, each chunk's timeout is cut to it, and no chunk starts once it is below
        MIN_REQUEST_S (those handles are returned as failed: they will be delivered again).
        """
        failed: list[tuple[str, str]] = []
        for start in range(0, len(handles), MAX_BATCH):
            chunk = handles[start : start + MAX_BATCH]
            limit = timeout_s if time_left is None else min(timeout_s, time_left())
            if limit < MIN_REQUEST_S:
                failed.extend((h, "no time left to delete") for h in handles[start:])
                break
            params: dict[str, Any] = {"queueName": queue}
            params.update({f"receiptHandle.{n}": h for n, h in enumerate(chunk, 1)})
            try:
                data = self.call("BatchDeleteMessage", params, timeout_s=limit)
            except CmqError as exc:
                failed.extend((h, str(exc)) for h in chunk)
                continue
            if data["code"] == CODE_DELETE_ALL_FAILED:
                failed.extend((h, str(data.get("message", "batch delete failed"))) for h in chunk)
            elif data["code"] == CODE_DELETE_PARTIAL:
                listed = {
                    str(e.get("receiptHandle")): str(e.get("message", ""))
                    for e in data.get("errorList") or []
                    if isinstance(e, Mapping)
                }
                failed.extend((h, listed[h]) for h in chunk if h in listed)
        return DeleteResult(len(handles), tuple(failed))
