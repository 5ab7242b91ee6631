"""The HTTP layer of the fake robots: one callback per robot, answering like the real one, on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlparse

from tests.fakes.loopback import Callback, Hang, Reset

from .backend import (
    DINGTALK_TOKEN,
    DINGTALK_URL,
    FEISHU_TOKEN,
    FEISHU_URL,
    PATHS,
    SERVER,
    SLACK_PATH,
    SLACK_URL,
    WEBHOOK_URL,
    WECOM_KEY,
    WECOM_URL,
    ChatBackend,
    Received,
    dingtalk_expected_sign,
    feishu_expected_sign,
)

Answer = tuple[int, dict[str, str], str]
_JSON = {"Content-Type": "application/json"}


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


def _fault(backend: ChatBackend, channel: str, rate_limited: Answer, refused: Answer) -> Any:
    fault = backend.next_fault(channel)
    if fault == "rate_limited":
        return rate_limited
    if fault == "refused":
        return refused
    if fault == "server_error":
        return 503, {"Content-Type": "text/plain"}, "upstream unavailable"
    if fault == "timeout":
        raise Hang(backend.hang_s)
    if fault == "reset":
        raise Reset()
    return None


def wecom(backend: ChatBackend) -> Callable[[Any], Answer]:
    """WeCom group robot: key, markdown content <= 4096 bytes, errcode in an HTTP 200 body."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, "wecom", request)
        fault = _fault(
            backend,
            "wecom",
            _json({"errcode": 45009, "errmsg": "api freq out of limit"}),
            _json({"errcode": 93000, "errmsg": "invalid webhook url"}),
        )
        if fault:
            return fault  # type: ignore[no-any-return]
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

    return callback


def dingtalk(backend: ChatBackend) -> Callable[[Any], Answer]:
    """DingTalk robot: token, signature within an hour, keyword, body <= 20000 bytes."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, "dingtalk", request)
        fault = _fault(
            backend,
            "dingtalk",
            _json({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
            _json({"errcode": 300001, "errmsg": "token is not exist"}),
        )
        if fault:
            return fault  # type: ignore[no-any-return]
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

    return callback


def feishu(backend: ChatBackend) -> Callable[[Any], Answer]:
    """Feishu bot: token in the path, signature in the body, body <= 20 KB, code in the body."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, "feishu", request)
        fault = _fault(
            backend,
            "feishu",
            _json({"code": 11232, "msg": "frequency limited psm", "data": {}}),
            _json({"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}),
        )
        if fault:
            return fault  # type: ignore[no-any-return]
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

    return callback


def slack(backend: ChatBackend) -> Callable[[Any], Answer]:
    """Slack incoming webhook: plain `ok`, 429 with Retry-After, plain-text errors, Block Kit limits."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, "slack", request)
        fault = _fault(
            backend,
            "slack",
            (429, {"Retry-After": backend.retry_after, "Content-Type": "text/plain"}, "rate_limited"),
            (404, {"Content-Type": "text/plain"}, "no_service"),
        )
        if fault:
            return fault  # type: ignore[no-any-return]
        if not item.url.endswith(SLACK_PATH):
            return 403, {"Content-Type": "text/plain"}, "invalid_token"
        body = item.body
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return 400, {"Content-Type": "text/plain"}, "invalid_payload"
        blocks = body.get("blocks", [])
        if len(blocks) > 50:
            return 400, {"Content-Type": "text/plain"}, "invalid_blocks"
        for block in blocks:
            text = block.get("text", {}).get("text", "")
            limit = 150 if block.get("type") == "header" else 3000
            if len(text) > limit:
                return 400, {"Content-Type": "text/plain"}, "invalid_blocks"
        item.accepted = True
        return 200, {"Content-Type": "text/html"}, "ok"

    return callback


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


def webhook(backend: ChatBackend) -> Callable[[Any], Answer]:
    """A receiver of Alertmanager webhooks (version 4): it refuses a payload of any other shape."""

    def callback(request: Any) -> Answer:
        item = _receive(backend, "webhook", request)
        fault = _fault(
            backend,
            "webhook",
            (429, {"Retry-After": backend.retry_after}, "slow down"),
            (400, {"Content-Type": "text/plain"}, "bad payload"),
        )
        if fault:
            return fault  # type: ignore[no-any-return]
        body = item.body
        if not isinstance(body, dict) or set(body) != _ALERTMANAGER_KEYS or body["version"] != "4":
            return 400, {"Content-Type": "text/plain"}, "not an Alertmanager v4 payload"
        if not all(isinstance(a, dict) and set(a) == _ALERT_KEYS for a in body["alerts"]):
            return 400, {"Content-Type": "text/plain"}, "bad alert"
        item.accepted = True
        return 200, {"Content-Type": "text/plain"}, ""

    return callback


def chat_routes(backend: ChatBackend) -> dict[str, Callback]:
    """Every robot and the webhook receiver, path -> callback (to serve them elsewhere, e.g. `serve`)."""
    factories = {"webhook": webhook, "wecom": wecom, "dingtalk": dingtalk, "feishu": feishu, "slack": slack}
    return {PATHS[name]: factory(backend) for name, factory in factories.items()}


@contextmanager
def fake_chat(backend: Optional[ChatBackend] = None) -> Iterator[ChatBackend]:
    """Every robot and the webhook receiver answering at their URLs on loopback, for the block."""
    state = backend or ChatBackend()
    with SERVER.mount(chat_routes(state)):
        yield state


def channel_env(*channels: str) -> dict[str, str]:
    """The settings that point the named channels (default: all five) at the fakes, with secrets."""
    from .backend import CHANNELS, DINGTALK_SECRET, FEISHU_SECRET

    wanted = channels or CHANNELS
    env = {
        "webhook": {"ALERT_WEBHOOK_URL": WEBHOOK_URL},
        "wecom": {"WECOM_WEBHOOK_URL": WECOM_URL},
        "dingtalk": {"DINGTALK_WEBHOOK_URL": DINGTALK_URL, "DINGTALK_SECRET": DINGTALK_SECRET},
        "feishu": {"FEISHU_WEBHOOK_URL": FEISHU_URL, "FEISHU_SECRET": FEISHU_SECRET},
        "slack": {"SLACK_WEBHOOK_URL": SLACK_URL},
    }
    out: dict[str, str] = {}
    for name in wanted:
        out.update(env[name])
    return out


def switch_on(monkeypatch: Any, *channels: str, **settings: str) -> None:
    """Point the named channels at the fakes (and set any other settings) for one test."""
    for key, value in {**channel_env(*channels), **settings}.items():
        monkeypatch.setenv(key, value)
