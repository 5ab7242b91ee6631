"""Tencent Cloud API 3.0 calls (Batch, Tag) signed with TC3-HMAC-SHA256 and sent over shared/http.py.

The request is the one the official SDK's `call_json` builds (tencentcloud-sdk-python-common 3.1.195,
`AbstractClient._build_req_with_tc3_signature`): a JSON POST to `/`, the X-TC-* headers, and the
Authorization line over `content-type;host` and the SHA-256 of the body. tests/test_tcapi.py holds
every byte of it to what the SDK itself sends, the SDK's `Sign.sign_tc3` included. Errors are the SDK's
`TencentCloudSDKException`, with the codes the SDK gives: the API's own `Error.Code`,
`ClientNetworkError` when no answer came, `ServerNetworkError` for an HTTP status other than 200, and
the Python exception's name for a body that is no `{"Response": {...}}` (the SDK's batch client does
the same), so the callers' retry rules are the ones they had with the SDK's clients.

Why not the SDK's clients: their module imports `requests` (urllib3, charset_normalizer, idna), and
`tencentcloud.common.credential` does too. That import was about 85 ms of retry_interrupted's 3.9 cold
start, seven times what the rest of the function costs (docs/benchmarks.md). The SDK stays the
reference and the fallback: the local credential chain (profile files, CVM roles) is still its own.
"""

from __future__ import annotations

import json
import os
import time
from _thread import _local  # threading.local itself, without importing threading

from .digest import hmac_sha256, sha256
from .http import HttpError, host_header, post_to, split_netloc
from .record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json"  # exactly what the SDK sends and signs for a POST
SIGNED_HEADERS = "content-type;host"
LANGUAGE = "zh-CN"  # the SDK's default (ClientProfile.language), so messages read as they did
REQUEST_CLIENT = "batch-events"  # X-TC-RequestClient: the SDK names itself here (SDK_PYTHON_<version>)
MAX_ERROR_TEXT = 300


class Credentials(NamedTuple):
    """A key pair and, for a role's temporary keys, the session token."""

    secret_id: str
    secret_key: str
    token: Optional[str] = None

    def get_credential_info(self) -> tuple[str, str, Optional[str]]:
        """What the SDK's credential classes answer with: (secret id, secret key, token)."""
        return self.secret_id, self.secret_key, self.token

    def __repr__(self) -> str:  # a traceback or a test report must not show the key
        token = "'***'" if self.token else "None"
        return f"Credentials(secret_id={self.secret_id!r}, secret_key='***', token={token})"


def _hex(data: bytes) -> str:
    return sha256(data).hexdigest()


def signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """TC3's signature: HMAC-SHA256 down the chain TC3<key> -> date -> service -> tc3_request."""
    key = hmac_sha256(("TC3" + secret_key).encode("utf-8"), date.encode("utf-8"))
    key = hmac_sha256(key, service.encode("utf-8"))
    key = hmac_sha256(key, b"tc3_request")
    return hmac_sha256(key, string_to_sign.encode("utf-8")).hex()


def authorization(
    secret_id: str, secret_key: str, *, service: str, host: str, timestamp: int, body: bytes
) -> str:
    """The Authorization header of a POST to `/` with a JSON `body`, signed at `timestamp`."""
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\n\n{SIGNED_HEADERS}\n{_hex(body)}"
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{_hex(canonical.encode('utf-8'))}"
    signed = signature(secret_key, date, service, to_sign)
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signed}"


def _trace_id() -> str:
    """A random (version 4) UUID, as the SDK's X-TC-TraceId, without importing uuid."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _sdk_error(code: str, message: str, request_id: Optional[str] = None) -> Exception:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    error: Exception = TencentCloudSDKException(code, message, request_id)
    return error


class ApiClient:
    """One service's API in one region: `call(action, params)` answers the `Response` object.

    `timeout_s` bounds each whole request (connecting, TLS, sending, reading); callers cut it to
    their time left before each call (shared.cloud.set_request_timeout), per thread: the client is
    the instance's, and one thread's cut never shortens another's call. Connections are kept by
    shared/http.py across invocations, so a warm instance makes no new TLS handshake.
    """

    def __init__(
        self,
        service: str,
        version: str,
        region: str,
        credential: Any,
        *,
        scheme: str = "https",
        host: Optional[str] = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.service = service
        self.version = version
        self.region = region
        self.credential = credential
        self.scheme = scheme
        self.hostname, self.port = split_netloc(scheme, host or f"{service}.tencentcloudapi.com")
        self.default_timeout_s = float(timeout_s)
        self._per_thread = _local()
        # What the Host header will say (a default port dropped): the signature covers it.
        self.signed_host = host_header(self.hostname, self.port, scheme)
        self.url = f"{scheme}://{self.signed_host}/"

    @property
    def timeout_s(self) -> float:
        """The timeout of this thread's next call: the one it set, else the client's."""
        return float(getattr(self._per_thread, "timeout_s", self.default_timeout_s))

    @timeout_s.setter
    def timeout_s(self, seconds: float) -> None:
        self._per_thread.timeout_s = float(seconds)

    def headers(self, action: str, body: bytes, timestamp: int) -> dict[str, str]:
        """Every header of the request but Host, Content-Length and the transport's own."""
        secret_id, secret_key, token = self.credential.get_credential_info()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-TC-Action": action[:1].upper() + action[1:],
            "X-TC-RequestClient": REQUEST_CLIENT,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": self.version,
            "X-TC-Language": LANGUAGE,
            "X-TC-TraceId": _trace_id(),
        }
        if self.region:
            headers["X-TC-Region"] = self.region
        if token:
            headers["X-TC-Token"] = str(token)
        headers["Authorization"] = authorization(
            str(secret_id),
            str(secret_key),
            service=self.service,
            host=self.signed_host,
            timestamp=timestamp,
            body=body,
        )
        return headers

    def call(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The API's `Response` object for `action`, or TencentCloudSDKException (codes as the SDK's).

        Nothing else escapes: whatever fails while the request is built (a credential provider
        that raises, a parameter JSON cannot encode, a key that is no text) is that exception's
        name as the code, as the SDK's clients wrap it, so the callers' rules see an API error.
        """
        try:
            body = json.dumps(dict(params)).encode("ascii")  # the SDK's json.dumps: ASCII, escapes kept
            headers = self.headers(action, body, int(time.time()))
        except Exception as exc:  # its text may hold what was being encoded: only its name is kept
            raise _sdk_error(type(exc).__name__, "the request could not be built") from None
        try:
            answer = post_to(
                self.scheme,
                self.hostname,
                self.port,
                "/",
                body=body,
                headers=headers,
                timeout_s=self.timeout_s,
                shown=self.url,
            )
        except HttpError as exc:
            raise _sdk_error("ClientNetworkError", str(exc)) from None
        except Exception as exc:  # anything else on the way out: no answer, as the SDK names it
            raise _sdk_error("ClientNetworkError", f"{type(exc).__name__} sending the request") from None
        if answer.status != 200:
            raise _sdk_error("ServerNetworkError", f"HTTP {answer.status}: {answer.text[:MAX_ERROR_TEXT]}")
        return read_response(answer.text)


def read_response(text: str) -> dict[str, Any]:
    """The `Response` object of an answer's body; the API's Error, or the reason it is unreadable, raised."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise _sdk_error(type(exc).__name__, f"the answer is not JSON: {text[:MAX_ERROR_TEXT]!r}") from None
    response = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        raise _sdk_error("KeyError", f"the answer has no Response object: {text[:MAX_ERROR_TEXT]!r}")
    if "Error" not in response:
        return response
    error = response["Error"]
    request_id = str(response.get("RequestId") or "") or None
    # An Error that is no {"Code": ...} object: the names the SDK's clients give it (it fails reading
    # it), which the callers count as transient; never an answer taken for a success.
    if not isinstance(error, dict):
        raise _sdk_error("TypeError", f"Error is not an object: {text[:MAX_ERROR_TEXT]!r}", request_id)
    if not error.get("Code"):
        raise _sdk_error("KeyError", f"Error has no Code: {text[:MAX_ERROR_TEXT]!r}", request_id)
    raise _sdk_error(str(error["Code"]), str(error.get("Message") or "")[:MAX_ERROR_TEXT], request_id)
