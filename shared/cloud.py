"""Tencent Cloud API clients for the deployed functions: credentials the way SCF injects them, endpoint
overrides, timeouts, one client per instance.

The functions call Batch and Tag through shared/tcapi.py (TC3 over shared/http.py), not the SDK's
clients, whose import (requests and its stack) cost more than the rest of a cold start: see tcapi's
docstring. The SDK is imported here only where it is still the one that knows the answer, inside the
functions, never at module import: the local credential chain, and the SDK clients the tools build
(client_profile).
"""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading.Lock itself, without importing threading

from .digest import sha256
from .errors import ConfigError
from .http import plain_netloc
from .tcapi import ApiClient, Credentials

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, Optional

# What an SCF execution role injects. The SDK's own default chain reads other names
# (TENCENTCLOUD_SECRET_ID / _KEY), so these are read here explicitly and first.
SCF_SECRET_ID = "TENCENTCLOUD_SECRETID"  # noqa: S105 - a variable name, not a secret
SCF_SECRET_KEY = "TENCENTCLOUD_SECRETKEY"  # noqa: S105
SCF_SESSION_TOKEN = "TENCENTCLOUD_SESSIONTOKEN"  # noqa: S105

# The services the functions call, and the API version each is called with (the SDK's module names).
BATCH = ("batch", "2017-03-12")
TAG = ("tag", "2018-08-13")


def credentials(env: Optional[Mapping[str, str]] = None) -> Any:
    """SCF role credentials from the environment, else the SDK's default chain; ConfigError when none.

    Either answers get_credential_info() -> (secret id, secret key, token), which both our clients
    and the SDK's read on every request (a CVM role's credentials refresh themselves there).
    """
    source = os.environ if env is None else env
    secret_id = source.get(SCF_SECRET_ID, "").strip()
    secret_key = source.get(SCF_SECRET_KEY, "").strip()
    if secret_id and secret_key:
        token = source.get(SCF_SESSION_TOKEN, "").strip() or None
        return Credentials(secret_id, secret_key, token)
    # Not on SCF with a role: local runs. The SDK's chain (its environment names, profile files,
    # a CVM role) imports requests, which is why the role's case above does not go through it.
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

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
    """An endpoint setting as (protocol, host[:port]): a bare host means https.

    Only a scheme, a host and a port: the API is at `/` and the signature covers that path and the
    Host header, so a path, a query or a fragment would be sent unsigned or signed wrong, and
    credentials in the URL would end up in error messages. Each is a ConfigError.
    """
    text = value.strip()
    if not text:
        return "https", None
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "https", text
    rest = rest[:-1] if rest.endswith("/") else rest
    if scheme in ("http", "https") and plain_netloc(rest) is not None:
        return scheme, rest  # what urlsplit gives for it (a test holds them equal), without importing it
    from urllib.parse import urlsplit

    url = text if "://" in text else f"https://{text}"
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - read for its ValueError on a port that is no number in range
    except ValueError:
        raise ConfigError(f"endpoint {value!r} has no valid host and port") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"endpoint {value!r} is neither a host nor an http(s)://host[:port] URL")
    try:
        parsed.hostname.encode("idna")  # what the Host header and the connection need it as
    except UnicodeError:
        raise ConfigError(f"endpoint {value!r} has a host name that cannot be spelled in ASCII") from None
    if "@" in parsed.netloc:
        raise ConfigError("an endpoint must not carry credentials (user:password@): give only host[:port]")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment or url.endswith(("?", "#")):
        raise ConfigError(
            f"endpoint {value!r} has a path, query or fragment: give only http(s)://host[:port]"
        )
    return parsed.scheme, parsed.netloc


def client_profile(endpoint_setting: str = "", timeout_s: int = 10) -> Any:
    """A ClientProfile with the request timeout and, when set, an endpoint override."""
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    protocol, host = parse_endpoint(endpoint_setting)
    http = HttpProfile(protocol=protocol, endpoint=host, reqTimeout=max(1, int(timeout_s)))
    return ClientProfile(httpProfile=http)


def api_client(
    service: tuple[str, str], region: str, *, endpoint: str = "", timeout_s: float = 10, cred: Any = None
) -> ApiClient:
    """A client of `service` (BATCH, TAG) for `region`, at its public endpoint unless `endpoint` says."""
    protocol, host = parse_endpoint(endpoint)
    name, version = service
    return ApiClient(
        name,
        version,
        region,
        cred or credentials(),
        scheme=protocol,
        host=host,
        timeout_s=max(0.1, float(timeout_s)),
    )


def batch_client(region: str, *, endpoint: str = "", timeout_s: float = 10, cred: Any = None) -> ApiClient:
    """The Batch API for `region` (the event's Region)."""
    return api_client(BATCH, region, endpoint=endpoint, timeout_s=timeout_s, cred=cred)


def tag_client(region: str, *, endpoint: str = "", timeout_s: float = 10, cred: Any = None) -> ApiClient:
    """The Tag API (resource tags: the durable retry ledger)."""
    return api_client(TAG, region, endpoint=endpoint, timeout_s=timeout_s, cred=cred)


def set_request_timeout(client: Any, seconds: float) -> None:
    """Make `client`'s next request take at most `seconds`, all of it (ApiClient.timeout_s).

    The client is the instance's, kept across invocations, so callers cut it to their time left
    before each call.
    """
    if hasattr(client, "timeout_s"):
        client.timeout_s = max(0.1, float(seconds))


# One client per SCF instance, kind, region and endpoint: module state survives warm invocations (and
# shared/http.py keeps the TLS connection), so a warm run builds nothing and makes no handshake.
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
