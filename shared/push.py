"""HTTP push path: a TDMQ-CMQ topic subscription (Protocol=http) POSTs each message to the function URL.

The URL is public, so each push must carry the shared token (`?token=...` in the subscription's
endpoint, compared in constant time); without it the answer is 401/403 and nothing runs. Both
NotifyContentFormat values are read: JSON (an envelope with msgId, msgBody, ...) and SIMPLIFIED (the
raw message; ids in the x-cmq-message-id / x-cmq-message-tag headers). Answers: 2xx once handled or
rejected as poison, 5xx when a retry can help (the subscription's NotifyStrategy retries).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from .capture import capture_raw
from .concern import Concern, process
from .digest import compare_digest
from .envelope import parse_bodies, parse_tags, source_from_cmq
from .invocation import Invocation
from .log import JsonLogger
from .models import SourceRecord
from .settings import env_str
from .text import clean_text

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

# The push service gives up after about 15 s: answer before that, whatever SCF's timeout is.
PUSH_DEADLINE_MS = 13000


def _answer(status: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _lower_keys(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {clean_text(str(k)).lower(): clean_text(str(v)) for k, v in value.items()}


def _query_value(query: Any, name: str) -> Optional[str]:
    if not isinstance(query, Mapping):
        return None
    value = query.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return clean_text(value) if isinstance(value, str) else None


def _token_bytes(token: str) -> bytes:
    return token.encode("utf-8", "surrogatepass")


def _try_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting at the C parser's edge
        return None


def read_push(event: Mapping[str, Any]) -> tuple[SourceRecord, Any, str]:
    """The pushed message as (source, Batch message body, format name)."""
    headers = _lower_keys(event.get("headers"))
    raw = event.get("body")
    text = clean_text(raw) if isinstance(raw, str) else ""
    if event.get("isBase64Encoded") and text:
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            text = ""
    outer = _try_json(text)
    if outer is None and text and not text.lstrip().startswith("{"):
        try:
            outer = _try_json(base64.b64decode(text, validate=True).decode("utf-8"))
        except (binascii.Error, ValueError):
            outer = None
    if isinstance(outer, Mapping) and "msgBody" in outer and ("msgId" in outer or "topicName" in outer):
        # The JSON format's envelope has the trigger record's field names (msgId, topicName, ...).
        base = source_from_cmq(outer)
        source = base._replace(
            msg_id=base.msg_id or headers.get("x-cmq-message-id"),
            tags=base.tags or parse_tags(headers.get("x-cmq-message-tag")),
            request_id=headers.get("x-cmq-request-id"),
        )
        return source, outer.get("msgBody"), "JSON"
    source = SourceRecord(
        msg_id=headers.get("x-cmq-message-id"),
        tags=parse_tags(headers.get("x-cmq-message-tag")),
        request_id=headers.get("x-cmq-request-id"),
    )
    return source, text, "SIMPLIFIED"


def handle_push(
    event: Mapping[str, Any], concern: Concern, invocation: Invocation, log: JsonLogger
) -> dict[str, Any]:
    """Authenticate, parse, handle; answer as the function URL expects ({statusCode, headers, body})."""
    if str(event.get("httpMethod", "")).upper() != "POST":
        return _answer(405, {"error": "only POST is accepted"})
    expected = env_str("PUSH_TOKEN")
    if not expected:
        log.error("push refused: PUSH_TOKEN is not set, so no push can be authenticated")
        return _answer(403, {"error": "push is not configured"})
    given = _query_value(event.get("queryString") or event.get("queryStringParameters"), "token")
    if not given:
        given = _lower_keys(event.get("headers")).get("x-push-token")
    if not given:
        log.warning("push refused: no token", path=event.get("path"))
        return _answer(401, {"error": "token required"})
    # surrogatepass: a token with a lone surrogate is simply wrong, never an exception.
    if not compare_digest(_token_bytes(given), _token_bytes(expected)):
        log.warning("push refused: wrong token", path=event.get("path"))
        return _answer(403, {"error": "token rejected"})
    source, body, fmt = read_push(event)
    capture_raw(
        "http_push", [{"format": fmt, "headers": event.get("headers"), "body": event.get("body")}], log
    )
    deadline = min(invocation.time_limit_ms, PUSH_DEADLINE_MS)
    bounded = invocation.replace(time_limit_ms=deadline)
    summary, outcome = process(parse_bodies([(source, body)]), bounded, log, concern)
    summary.update(delivery="http", format=fmt, msg_id=source.msg_id)
    if outcome.retry_records:
        log.error(
            "push not handled; answering 503 so that the subscription retries", reason=outcome.retry_reason
        )
        return _answer(503, {"retry": True, "reason": outcome.retry_reason, "summary": summary})
    return _answer(200, {"summary": summary})
