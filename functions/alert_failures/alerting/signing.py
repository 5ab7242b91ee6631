"""The robots' request signatures: DingTalk (query parameters) and Feishu (JSON body fields)."""

from __future__ import annotations

import base64

from shared.digest import hmac_sha256


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{ts_ms}\\n{secret}")); URL-encoded once, by the HTTP client."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac_sha256(secret.encode("utf-8"), message)
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{ts_s}\\n{secret}", msg=b"")): Feishu signs an empty message."""
    key = f"{timestamp_s}\n{secret}".encode()
    digest = hmac_sha256(key, b"")
    return base64.b64encode(digest).decode("ascii")
