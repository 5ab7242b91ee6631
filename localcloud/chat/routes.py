"""The HTTP layer of the fake robots: one callback per robot, answering like the real one."""

from __future__ import annotations

import json
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlparse

from ..loopback import Callback, Hang, Reset
from .backend import (
    DINGTALK_TOKEN,
    FEISHU_TOKEN,
    PATHS,
    SLACK_PATH,
    WECOM_KEY,
    ChatBackend,
    Received,
    dingtalk_expected_sign,
    feishu_expected_sign,
)

Answer = tuple[int, dict[str, str], str]
Judge = Callable[[ChatBackend, Received], Answer]
# A scripted answer, made when it is given (a test may change the backend's retry_after meanwhile).
Scripted = Callable[[ChatBackend], Answer]
_JSON = {"Content-Type": "application/json"}
_TEXT = {"Content-Type": "text/plain"}


def _json(payload: dict[str, Any], status: int = 200) -> Answer:
    return status, dict(_JSON), json.dumps(payload, ensure_ascii=False)


def _receive(backend: ChatBackend, channel: str, request: Any) -> Received:
    raw = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    parsed = urlparse(request.url)
    item = Received(
        channel=channel,
        url=request.url,
        query=dict(parse_qsl(parsed.query)),
        body=backend.parse_body(raw),
        raw=raw,
        headers=dict(request.headers),
    )
    backend.received.append(item)
    return item


def _fault(backend: ChatBackend, channel: str, rate_limited: Scripted, refused: Scripted) -> Optional[Answer]:
    fault = backend.next_fault(channel)
    if fault == "rate_limited":
        return rate_limited(backend)
    if fault == "refused":
        return refused(backend)
    if fault == "server_error":
        return 503, dict(_TEXT), "upstream unavailable"
    if fault == "timeout":
        raise Hang(backend.hang_s)
    if fault == "reset":
        raise Reset()
    return None


def _robot(
    backend: ChatBackend, channel: str, rate_limited: Scripted, refused: Scripted, judge: Judge
) -> Callback:
    """Receive, play the script, then judge the request; the answer is kept with what was received."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, channel, request)
        answer = _fault(backend, channel, rate_limited, refused) or judge(backend, item)
        item.status, item.answer = answer[0], answer[2][:300]
        return answer

    return callback


def _wecom(backend: ChatBackend, item: Received) -> Answer:
    if item.query.get("key") != WECOM_KEY:
        return _json({"errcode": 93000, "errmsg": "invalid webhook url"})
    body = item.body
    if not isinstance(body, dict) or body.get("msgtype") != "markdown":
        return _json({"errcode": 40008, "errmsg": "invalid message type"})
    content = body.get("markdown", {}).get("content")
    if not isinstance(content, str) or not content:
        return _json({"errcode": 44004, "errmsg": "empty content"})
    if len(content.encode("utf-8")) > 4096:
        return _json({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
    item.accepted = True
    return _json({"errcode": 0, "errmsg": "ok"})


def wecom(backend: ChatBackend) -> Callback:
    """WeCom group robot: key, markdown content <= 4096 bytes, errcode in an HTTP 200 body."""
    return _robot(
        backend,
        "wecom",
        lambda b: _json({"errcode": 45009, "errmsg": "api freq out of limit"}),
        lambda b: _json({"errcode": 93000, "errmsg": "invalid webhook url"}),
        _wecom,
    )


def _dingtalk(backend: ChatBackend, item: Received) -> Answer:
    if item.query.get("access_token") != DINGTALK_TOKEN:
        return _json({"errcode": 300001, "errmsg": "token is not exist"})
    if backend.dingtalk_secret:
        stamp, sign = item.query.get("timestamp", ""), item.query.get("sign", "")
        if not stamp.isdigit() or abs(int(stamp) / 1000 - backend.clock()) > 3600:
            return _json({"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"})
        if sign != dingtalk_expected_sign(backend.dingtalk_secret, stamp):
            return _json({"errcode": 310000, "errmsg": "sign not match"})
    if len(item.raw) > 20000:
        return _json({"errcode": 460101, "errmsg": "message too long, exceed 20000 bytes"})
    body = item.body
    if not isinstance(body, dict) or body.get("msgtype") != "markdown":
        return _json({"errcode": 40035, "errmsg": "invalid msgtype"})
    text = body.get("markdown", {}).get("text", "")
    if not body.get("markdown", {}).get("title") or not text:
        return _json({"errcode": 40035, "errmsg": "missing title or text"})
    if backend.dingtalk_keyword and backend.dingtalk_keyword not in text:
        return _json({"errcode": 310000, "errmsg": "keywords not in content"})
    item.accepted = True
    return _json({"errcode": 0, "errmsg": "ok"})


def dingtalk(backend: ChatBackend) -> Callback:
    """DingTalk robot: token, signature within an hour, keyword, body <= 20000 bytes."""
    return _robot(
        backend,
        "dingtalk",
        lambda b: _json({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        lambda b: _json({"errcode": 300001, "errmsg": "token is not exist"}),
        _dingtalk,
    )


def _feishu(backend: ChatBackend, item: Received) -> Answer:
    if not item.url.endswith(f"/open-apis/bot/v2/hook/{FEISHU_TOKEN}"):
        return _json({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
    body = item.body
    if not isinstance(body, dict):
        return _json({"code": 9499, "msg": "Bad Request"}, status=400)
    if backend.feishu_secret:
        stamp, sign = str(body.get("timestamp", "")), body.get("sign", "")
        if not stamp.isdigit() or abs(int(stamp) - backend.clock()) > 3600:
            return _json({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
        if sign != feishu_expected_sign(backend.feishu_secret, stamp):
            return _json({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
    if len(item.raw) > 20 * 1024:
        return _json({"code": 19002, "msg": "request body too large"})
    if body.get("msg_type") not in ("interactive", "post"):
        return _json({"code": 19002, "msg": "params error, msg_type need"})
    item.accepted = True
    return _json({"code": 0, "msg": "success", "data": {}})


def feishu(backend: ChatBackend) -> Callback:
    """Feishu bot: token in the path, signature in the body, body <= 20 KB, code in the body."""
    return _robot(
        backend,
        "feishu",
        lambda b: _json({"code": 11232, "msg": "frequency limited psm", "data": {}}),
        lambda b: _json(
            {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}
        ),
        _feishu,
    )


def _slack(backend: ChatBackend, item: Received) -> Answer:
    if not item.url.endswith(SLACK_PATH):
        return 403, dict(_TEXT), "invalid_token"
    body = item.body
    if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
        return 400, dict(_TEXT), "invalid_payload"
    blocks = body.get("blocks", [])
    if len(blocks) > 50:
        return 400, dict(_TEXT), "invalid_blocks"
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        limit = 150 if block.get("type") == "header" else 3000
        if len(text) > limit:
            return 400, dict(_TEXT), "invalid_blocks"
    item.accepted = True
    return 200, {"Content-Type": "text/html"}, "ok"


def slack(backend: ChatBackend) -> Callback:
    """Slack incoming webhook: plain `ok`, 429 with Retry-After, plain-text errors, Block Kit limits."""
    return _robot(
        backend,
        "slack",
        lambda b: (429, {"Retry-After": b.retry_after, "Content-Type": "text/plain"}, "rate_limited"),
        lambda b: (404, dict(_TEXT), "no_service"),
        _slack,
    )


_ALERTMANAGER_KEYS = {
    "version",
    "groupKey",
    "truncatedAlerts",
    "status",
    "receiver",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
    "externalURL",
    "alerts",
}
_ALERT_KEYS = {"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"}


def _webhook(backend: ChatBackend, item: Received) -> Answer:
    body = item.body
    if not isinstance(body, dict) or set(body) != _ALERTMANAGER_KEYS or body["version"] != "4":
        return 400, dict(_TEXT), "not an Alertmanager v4 payload"
    if not all(isinstance(a, dict) and set(a) == _ALERT_KEYS for a in body["alerts"]):
        return 400, dict(_TEXT), "bad alert"
    item.accepted = True
    return 200, dict(_TEXT), ""


def webhook(backend: ChatBackend) -> Callback:
    """A receiver of Alertmanager webhooks (version 4): it refuses a payload of any other shape."""
    return _robot(
        backend,
        "webhook",
        lambda b: (429, {"Retry-After": b.retry_after}, "slow down"),
        lambda b: (400, dict(_TEXT), "bad payload"),
        _webhook,
    )


def chat_routes(backend: ChatBackend) -> dict[str, Callback]:
    """Every robot and the webhook receiver, path -> callback."""
    factories = {"webhook": webhook, "wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack}
    return {PATHS[name]: factory(backend) for name, factory in factories.items()}
