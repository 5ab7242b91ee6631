"""shared.digest equals hashlib and hmac, on whichever SHA-256 the interpreter gives it."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import digest
from tests.helpers import modules_after


@given(key=st.binary(max_size=200), message=st.binary(max_size=500))
def test_hmac_equals_the_standard_librarys_for_keys_of_every_length(key, message):
    assert digest.hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).digest()


@pytest.mark.parametrize("key_length", [0, 1, 63, 64, 65, 128])
def test_hmac_at_the_block_size_edges(key_length):
    key, message = b"k" * key_length, b"POSTcmq-gz.api.qcloud.com/v2/index.php?Action=x"
    assert digest.hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).digest()


def test_sha256_equals_hashlibs():
    assert digest.sha256(b"abc").hexdigest() == hashlib.sha256(b"abc").hexdigest()


def test_rfc_4231_test_case_2():
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert digest.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == expected


def test_hashlib_is_the_fallback_when_no_builtin_sha256_exists():
    code = (
        "sys.modules['_sha256'] = None; sys.modules['_sha2'] = None\n"
        "from shared import digest; import hashlib, hmac\n"
        "assert digest.sha256 is hashlib.sha256\n"
        "assert digest.hmac_sha256(b'k', b'm') == hmac.new(b'k', b'm', hashlib.sha256).digest()"
    )
    assert "hashlib" in modules_after(code)  # check=True: the asserts inside held


def test_importing_it_loads_no_hashlib_on_cpython():
    assert not {"hashlib", "_hashlib"} & modules_after("from shared import digest", flags=("-I", "-S"))


def test_compare_digest_is_a_constant_time_one_of_the_standard_librarys():
    import _operator

    # hmac.compare_digest is OpenSSL's where hashlib has it, else this same C function
    assert digest.compare_digest in (_operator._compare_digest, hmac.compare_digest)
    assert digest.compare_digest(b"token", b"token") and not digest.compare_digest(b"token", b"tokeN")
