from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

import pytest

from shared.cmq_data import CmqDataClient, CmqError, canonical_string, signature
from shared.errors import ConfigError
from tests.fakes.cmq import ENDPOINT, HOST, CmqBackend, fake_cmq_api


def _client(token=None) -> CmqDataClient:
    return CmqDataClient(
        ENDPOINT, "AKIDqueue", "cmq-secret-key", token, clock=lambda: 1700000000, nonce=lambda: 42
    )


def test_canonical_string_sorts_names_and_writes_underscores_as_dots():
    text = canonical_string("cmq-gz.fake.test", {"b": 2, "a_b": "x", "receiptHandle.1": "h"})
    assert text == "POSTcmq-gz.fake.test/v2/index.php?a.b=x&b=2&receiptHandle.1=h"


def test_signature_is_base64_hmac_sha256_recomputed_independently():
    text = "POSThost/v2/index.php?Action=X"
    expected = base64.b64encode(hmac.new(b"k", text.encode(), hashlib.sha256).digest()).decode()
    assert signature("k", text) == expected


def test_signed_params_carry_common_fields_and_session_token():
    # GIVEN role credentials with a session token
    params = _client(token="sess-token").signed_params("BatchReceiveMessage", {"queueName": "q"})
    # THEN the common parameters are there and the signature covers them
    assert params["Token"] == "sess-token"
    assert params["SignatureMethod"] == "HmacSHA256"
    assert (params["Timestamp"], params["Nonce"], params["SecretId"]) == (1700000000, 42, "AKIDqueue")
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    assert params["Signature"] == signature("cmq-secret-key", canonical_string(HOST, unsigned))


def test_receive_and_delete_against_the_fake_api():
    backend = CmqBackend()
    backend.create_queue("q")
    for n in range(20):
        backend.send("q", f"body-{n}")
    with fake_cmq_api(backend, ENDPOINT):
        client = _client()
        first = client.receive("q", 16, 0)
        second = client.receive("q", 16, 0)
        assert (len(first), len(second)) == (16, 4)
        result = client.delete("q", [m.receipt_handle for m in first + second])
    assert result.deleted == 20 and not result.failed
    assert backend.visible_count("q") == 0
    deletes = [p for action, p in backend.calls if action == "BatchDeleteMessage"]
    assert [len([k for k in p if k.startswith("receiptHandle.")]) for p in deletes] == [16, 4]


def test_empty_queue_code_7000_is_an_empty_list():
    backend = CmqBackend()
    backend.create_queue("q")
    with fake_cmq_api(backend, ENDPOINT):
        assert _client().receive("q", 16, 3) == []
    action, params = backend.calls[0]
    assert (action, params["pollingWaitSeconds"], params["numOfMsg"]) == ("BatchReceiveMessage", "3", "16")


def test_partial_delete_failure_names_the_failed_handles():
    backend = CmqBackend()
    backend.create_queue("q")
    ids = [backend.send("q", "x") for _ in range(3)]
    backend.fail_delete_ids = {ids[1]}
    with fake_cmq_api(backend, ENDPOINT):
        client = _client()
        got = client.receive("q", 16, 0)
        result = client.delete("q", [m.receipt_handle for m in got])
    assert result.deleted == 2
    assert result.failed == ((got[1].receipt_handle, "invalid receiptHandle"),)


def test_wrong_key_is_an_error_with_the_api_code():
    backend = CmqBackend()
    backend.create_queue("q")
    with fake_cmq_api(backend, ENDPOINT, secret_key="another-key"), pytest.raises(CmqError) as info:
        _client().receive("q", 1, 0)
    assert info.value.code == 4100


@pytest.mark.parametrize("fault", ["reset", "timeout"])
def test_no_answer_becomes_a_cmq_error(fault):
    # GIVEN a queue API that resets the connection, or does not answer within the client's timeout
    backend = CmqBackend()
    backend.create_queue("q")
    backend.script(fault)
    with fake_cmq_api(backend, ENDPOINT), pytest.raises(CmqError) as info:
        # WHEN a receive is tried (a 0.3 s timeout) THEN it is a CmqError with code -1
        _client().receive("q", 1, 0, timeout_s=0.3)
    assert info.value.code == -1
    assert ("timeout after" in info.value.message) is (fault == "timeout")


def test_request_body_is_form_encoded():
    backend = CmqBackend()
    backend.create_queue("q")
    with fake_cmq_api(backend, ENDPOINT) as api:
        _client().receive("q", 2, 0)
    # THEN what arrived is form-encoded ASCII
    sent = api.calls[0].request
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(sent.body.decode("ascii"), strict_parsing=True))["queueName"] == "q"


def test_bad_endpoint_setting_is_a_config_error():
    with pytest.raises(ConfigError, match="CMQ_ENDPOINT"):
        CmqDataClient("ftp://x", "a", "b")
