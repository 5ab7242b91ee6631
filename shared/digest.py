"""SHA-256 and HMAC-SHA256 without importing hashlib, where the interpreter allows it.

`hashlib` (and `hmac`, which imports it) loads OpenSSL's libcrypto through `_hashlib` and builds a
constructor for every algorithm it has: about 3-4 ms of a 3.9 cold start, for the one hash the queue
API's signature, the robots' signatures and the credential cache key need. CPython's own SHA-256 is a
built-in module (`_sha256` on 3.9-3.11, `_sha2` from 3.12) that loads in well under a millisecond. It is
an implementation detail, so when neither is there hashlib is used, with the same results (tests hold
both to `hmac.new(..., hashlib.sha256)` on keys of every length).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start

_BLOCK = 64  # SHA-256's block size in bytes (RFC 2104's B)
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


if TYPE_CHECKING:
    from hashlib import sha256
    from hmac import compare_digest
else:
    try:  # what hmac.compare_digest is, without hmac's import of hashlib
        from _operator import _compare_digest as compare_digest
    except ImportError:
        from hmac import compare_digest

    try:
        from _sha256 import sha256  # CPython 3.9-3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:
            from hashlib import sha256


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of `message` under `key`: `hmac.new(key, message, hashlib.sha256).digest()`."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(key.translate(_IPAD))
    inner.update(message)
    outer = sha256(key.translate(_OPAD))
    outer.update(inner.digest())
    return outer.digest()


__all__ = ["compare_digest", "hmac_sha256", "sha256"]
