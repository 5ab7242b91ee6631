"""What every fake Tencent Cloud API (Batch, Tag) shares: TC3 requests, the `{"Response": ...}` envelope,
the calls seen and the faults a test switched on."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .loopback import Reset

Answer = tuple[int, dict[str, str], str]
Dispatch = Callable[[str, dict[str, Any], str], Optional[dict[str, Any]]]


class BatchError(Exception):
    """An error the API answers with (`{"Response": {"Error": {"Code", "Message"}}}`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NetworkFault(Reset, ConnectionError):
    """A scripted dropped connection: a TCP reset on loopback, a ConnectionError under `responses`."""


@dataclass
class Fault:
    """Answer the next `times` calls of `action` ('*' = any) with an error, a dropped connection or HTML."""

    action: str
    code: str
    times: int
    kind: str = "error"  # error | network | html
    message: str = "scripted fault"


class ScriptedFaults:
    """The calls a fake API saw and the faults a test switched on; with `secret_keys` (secret id ->
    key) set, every request's TC3 signature is checked with them, as the real API does."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.secret_keys: dict[str, str] = {}

    def script(self, code: str, *, action: str = "*", times: int = 1, kind: str = "error") -> None:
        """Switch on a fault for the next `times` calls of `action`."""
        self.faults.append(Fault(action, code, times, kind))

    def take_fault(self, action: str) -> Optional[Fault]:
        """The fault that applies to this call, if any (counting it down)."""
        for fault in self.faults:
            if fault.times > 0 and fault.action in ("*", action):
                fault.times -= 1
                return fault
        return None

    def actions(self, name: Optional[str] = None) -> list[str]:
        """Actions called so far (only `name`, when given)."""
        return [a for a, _, _ in self.calls if name is None or a == name]


def answer(payload: dict[str, Any]) -> Answer:
    """A successful answer in Tencent's envelope."""
    payload.setdefault("RequestId", str(uuid.uuid4()))
    # Exactly application/json: the SDK reads an error body only with that Content-Type.
    return 200, {"Content-Type": "application/json"}, json.dumps({"Response": payload})


def error(code: str, message: str) -> Answer:
    """An error answer in Tencent's envelope (HTTP 200, as the API does)."""
    return answer({"Error": {"Code": code, "Message": message}})


def service_of(headers: Any) -> str:
    """The service a TC3 request is signed for (`Credential=AKID/date/<service>/tc3_request`), or ''."""
    authorization = str(headers.get("Authorization", "") or "")
    scope = authorization.partition("Credential=")[2].split(",", 1)[0]
    parts = scope.split("/")
    return parts[2] if len(parts) == 4 else ""


MAX_SKEW_S = 300  # the API refuses a signature whose timestamp is further off (AuthFailure.SignatureExpire)


def _sign_tc3(secret_key: str, date: str, service: str, to_sign: str) -> str:
    """TC3's signature as Tencent documents it, with the standard library's hmac (not the code
    under test's; tests/test_tcapi.py holds both to the SDK's Sign.sign_tc3)."""
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_problem(headers: Any, body: bytes, secret_keys: dict[str, str]) -> Optional[tuple[str, str]]:
    """(code, message) when the request's TC3-HMAC-SHA256 signature is not the one its secret key
    gives, recomputed here with the standard library's hmac; None when it is, or when no keys are
    known (the fake then checks only that the request is signed)."""
    if not secret_keys:
        return None
    authorization = str(headers.get("Authorization", "") or "")
    fields = dict(
        part.strip().split("=", 1) for part in authorization.partition(" ")[2].split(",") if "=" in part
    )
    scope = fields.get("Credential", "").split("/")
    if len(scope) != 4 or scope[3] != "tc3_request" or fields.get("SignedHeaders") != "content-type;host":
        return "AuthFailure.SignatureFailure", f"not a TC3 authorization: {authorization[:80]!r}"
    secret_id, date, service, _ = scope
    if secret_id not in secret_keys:
        return "AuthFailure.SecretIdNotFound", f"unknown secret id {secret_id!r}"
    timestamp = str(headers.get("X-TC-Timestamp", ""))
    if not timestamp.isdigit() or time.strftime("%Y-%m-%d", time.gmtime(int(timestamp))) != date:
        return "AuthFailure.SignatureFailure", "the credential's date is not the timestamp's"
    if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return "AuthFailure.SignatureExpire", f"the request's timestamp is more than {MAX_SKEW_S} s off"
    canonical = (
        f"POST\n/\n\ncontent-type:{headers.get('Content-Type', '')}\nhost:{headers.get('Host', '')}\n\n"
        f"content-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
        f"{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    )
    if _sign_tc3(secret_keys[secret_id], date, service, to_sign) != fields.get("Signature"):
        return "AuthFailure.SignatureFailure", "the signature does not match the request"
    return None


def tencent_callback(backend: Any, version: str, dispatch: Dispatch) -> Callable[[Any], Answer]:
    """A callback that checks the TC3 request, applies scripted faults, then calls `dispatch`."""

    def callback(request: Any) -> Answer:
        headers = {k: v for k, v in request.headers.items()}
        action = headers.get("X-TC-Action", "")
        raw = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        params = json.loads(raw.decode() or "{}")
        backend.calls.append((action, params, headers))
        if not headers.get("Authorization", "").startswith("TC3-HMAC-SHA256 Credential="):
            return error("AuthFailure.SignatureFailure", "the request is not signed with TC3-HMAC-SHA256")
        problem = signature_problem(request.headers, raw, getattr(backend, "secret_keys", {}))
        if problem is not None:
            return error(*problem)
        if headers.get("X-TC-Version") != version:
            return error("InvalidParameter", f"version {headers.get('X-TC-Version')!r} is not {version}")
        fault = backend.take_fault(action)
        if fault is not None:
            if fault.kind == "network":
                raise NetworkFault("scripted: connection reset by peer")
            if fault.kind == "html":
                return 502, {"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>"
            return error(fault.code, fault.message)
        try:
            result = dispatch(action, params, headers.get("X-TC-Region", ""))
        except BatchError as exc:
            return error(exc.code, exc.message)
        if result is None:
            return error("InvalidAction", f"the fake does not know {action!r}")
        return answer(result)

    return callback
