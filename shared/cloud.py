"""Tencent Cloud SDK clients: credentials the way SCF injects them, endpoint overrides, timeouts.

The SDK is imported inside the functions here, never at module import, so that a handler whose
path does not call the cloud does not pay for it at cold start.
"""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlparse

from .digest import sha256
from .errors import ConfigError

# What an SCF execution role injects. The SDK's own default chain reads other names
# (TENCENTCLOUD_SECRET_ID / _KEY), so these are read here explicitly and first.
SCF_SECRET_ID = "TENCENTCLOUD_SECRETID"  # noqa: S105 - a variable name, not a secret
SCF_SECRET_KEY = "TENCENTCLOUD_SECRETKEY"  # noqa: S105
SCF_SESSION_TOKEN = "TENCENTCLOUD_SESSIONTOKEN"  # noqa: S105


def credentials(env: Optional[Mapping[str, str]] = None) -> Any:
    """SCF role credentials from the environment, else the SDK's default chain; ConfigError when none."""
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

    source = os.environ if env is None else env
    secret_id = source.get(SCF_SECRET_ID, "").strip()
    secret_key = source.get(SCF_SECRET_KEY, "").strip()
    if secret_id and secret_key:
        token = source.get(SCF_SESSION_TOKEN, "").strip() or None
        return credential.Credential(secret_id, secret_key, token)
    try:
        return credential.DefaultCredentialProvider().get_credentials()
    except (TencentCloudSDKException, OSError, ValueError) as exc:
        raise ConfigError(
            "no Tencent Cloud credentials: give the function an execution role (SCF injects "
            f"{SCF_SECRET_ID}/{SCF_SECRET_KEY}/{SCF_SESSION_TOKEN}), or for local runs set "
            "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY or a credentials profile "
            f"({type(exc).__name__})"
        ) from None


def parse_endpoint(value: str) -> tuple[str, Optional[str]]:
    """An endpoint setting as (protocol, host[:port]): a bare host means https."""
    text = value.strip()
    if not text:
        return "https", None
    if "://" not in text:
        return "https", text.rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"endpoint {value!r} is neither a host nor an http(s)://host[:port] URL")
    return parsed.scheme, parsed.netloc


def client_profile(endpoint_setting: str = "", timeout_s: int = 10) -> Any:
    """A ClientProfile with the request timeout and, when set, an endpoint override."""
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    protocol, host = parse_endpoint(endpoint_setting)
    http = HttpProfile(protocol=protocol, endpoint=host, reqTimeout=max(1, int(timeout_s)))
    return ClientProfile(httpProfile=http)


def batch_client(region: str, *, endpoint: str = "", timeout_s: int = 10, cred: Any = None) -> Any:
    """A BatchClient for `region` (the event's Region)."""
    from tencentcloud.batch.v20170312 import batch_client as module

    return module.BatchClient(cred or credentials(), region, client_profile(endpoint, timeout_s))


def tag_client(region: str, *, endpoint: str = "", timeout_s: int = 10, cred: Any = None) -> Any:
    """A TagClient (resource tags: the durable retry ledger)."""
    from tencentcloud.tag.v20180813 import tag_client as module

    return module.TagClient(cred or credentials(), region, client_profile(endpoint, timeout_s))


def set_request_timeout(client: Any, seconds: float) -> None:
    """Make `client`'s next request wait at most `seconds` for each connect and read.

    The SDK fixes its timeout (HttpProfile.reqTimeout, whole seconds) when the client is built; the
    connection it keeps reads `timeout` on every request, so a caller can cut it to the time left.
    """
    request = getattr(client, "request", None)
    connection = getattr(request, "conn", None)
    if connection is not None and hasattr(connection, "timeout"):
        connection.timeout = max(0.1, float(seconds))
    if request is not None and hasattr(request, "req_timeout"):
        request.req_timeout = max(0.1, float(seconds))


# One client per SCF instance, kind, region and endpoint: module state survives warm invocations, so
# the SDK's requests session (and its TLS connection) is reused instead of a handshake per invocation.
_CLIENTS: dict[tuple[str, str, str], tuple[str, Callable[..., Any], Any]] = {}
_CLIENTS_LOCK = allocate_lock()


def _credential_key(cred: Any) -> str:
    """Tells one set of credentials from another without keeping their text as a key."""
    parts = [str(getattr(cred, name, "") or "") for name in ("secret_id", "secret_key", "token")]
    return sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def cached_client(kind: str, region: str, *, endpoint: str = "", timeout_s: int = 10) -> Any:
    """The instance's `batch` or `tag` client for `region`, built once and kept across invocations;
    built again when the credentials change (SCF rotates the role's temporary keys in the environment).
    Callers cut each request's timeout to their time left (set_request_timeout)."""
    factories: dict[str, Callable[..., Any]] = {"batch": batch_client, "tag": tag_client}
    cred = credentials()
    fingerprint = _credential_key(cred)
    key = (kind, region, endpoint)
    factory = factories[kind]
    with _CLIENTS_LOCK:
        held = _CLIENTS.get(key)
        if held is not None and held[0] == fingerprint and held[1] is factory:
            return held[2]
        client = factory(region, endpoint=endpoint, timeout_s=timeout_s, cred=cred)
        _CLIENTS[key] = (fingerprint, factory, client)
        return client


def forget_clients() -> None:
    """Drop every kept client (tests)."""
    with _CLIENTS_LOCK:
        _CLIENTS.clear()
