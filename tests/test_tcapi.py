"""shared.tcapi against the official SDK: the same bytes on the wire, the same signature, the same error
codes, and request parameters the SDK's own models read back unchanged."""

from __future__ import annotations

import json
import time
import warnings
from typing import Any

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.batch.v20170312 import batch_client
from tencentcloud.batch.v20170312 import models as batch_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.tag.v20180813 import models as tag_models
from tencentcloud.tag.v20180813 import tag_client

from shared import cloud, tcapi
from tests.fakes.batch.scenario import sample_cloud
from tests.fakes.intercept import intercept
from tests.fakes.loopback import Reset, serve, session_server
from tests.fakes.tag import TagBackend
from tests.helpers import load_event, load_handler

NOW = 1_764_583_200  # 2025-12-01T10:00:00Z
SECRET_ID = "AKIDtcapiTest0001"
SECRET_KEY = "tcapiTestSecretKey0001"
TOKEN = "tcapiSessionToken0001"
# The headers both send and sign or read: X-TC-RequestClient names the client, X-TC-TraceId is random.
COMPARED = (
    "Content-Type",
    "Host",
    "X-TC-Action",
    "X-TC-Timestamp",
    "X-TC-Version",
    "X-TC-Region",
    "X-TC-Token",
    "X-TC-Language",
    "Authorization",
)
CALLS = [
    ("batch", "DescribeJob", {"JobId": "job-5ik2gmv8"}),
    ("batch", "DescribeTask", {"JobId": "job-5ik2gmv8", "TaskName": "render", "Offset": 0, "Limit": 1000}),
    ("batch", "RetryJobs", {"JobIds": ["job-5ik2gmv8", "job-other001"]}),
    ("batch", "TerminateJob", {"JobId": "job-5ik2gmv8"}),
    ("tag", "GetResources", {"ResourceList": ["qcs::batch:ap-guangzhou:uin/100000000001:job/job-5ik2gmv8"]}),
    (
        "tag",
        "ModifyResourceTags",
        {
            "Resource": "qcs::batch:ap-guangzhou:uin/100000000001:job/job-5ik2gmv8",
            "ReplaceTags": [{"TagKey": "batch-events-retry", "TagValue": "1/started/20261120083500"}],
        },
    ),
    ("batch", "DescribeJob", {"JobId": "job-\u6e32\u67d3-\U0001f525"}),  # non-ASCII: escaped in the JSON
]
SDK_CLIENTS = {"batch": batch_client.BatchClient, "tag": tag_client.TagClient}
OK = (200, {"Content-Type": "application/json"}, json.dumps({"Response": {"RequestId": "r-1"}}))


def _freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: float(NOW))


def _sdk_request(service: str, action: str, params: dict[str, Any], token: Any, endpoint: str) -> Any:
    """The request the SDK's own client sends (captured by `responses`)."""
    scheme, _, host = endpoint.partition("://")
    profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host))
    client = SDK_CLIENTS[service](
        credential.Credential(SECRET_ID, SECRET_KEY, token), "ap-guangzhou", profile
    )
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{endpoint}/", json={"Response": {"RequestId": "r-1"}})
        client.call_json(action, params)
        return mock.calls[0].request


ORACLE = session_server("tcapi-oracle", keep_alive=True)


def _our_request(service: str, action: str, params: dict[str, Any], token: Any, endpoint: str) -> Any:
    """The request shared.tcapi sends to `endpoint` (its socket taken to a loopback server)."""
    seen: list[Any] = []

    def record(request: Any) -> Any:
        seen.append(request)
        return OK

    scheme, _, host = endpoint.partition("://")
    name, version = {"batch": cloud.BATCH, "tag": cloud.TAG}[service]
    cred = tcapi.Credentials(SECRET_ID, SECRET_KEY, token)
    client = tcapi.ApiClient(name, version, "ap-guangzhou", cred, scheme=scheme, host=host)
    with ORACLE.mount({"/": record}), intercept(endpoint, ORACLE):
        assert client.call(action, params) == {"RequestId": "r-1"}
    return seen[0]


@pytest.mark.parametrize("token", [TOKEN, None])
@pytest.mark.parametrize(("service", "action", "params"), CALLS)
def test_every_call_is_the_request_the_sdk_sends(monkeypatch, service, action, params, token):
    # GIVEN the same credentials, region, endpoint and second
    _freeze(monkeypatch)
    endpoint = f"https://{service}.tencentcloudapi.com"
    # WHEN the SDK and shared.tcapi make the same call
    sdk = _sdk_request(service, action, params, token, endpoint)
    ours = _our_request(service, action, params, token, endpoint)
    # THEN the body and every signed or read header are the same bytes, the signature included
    assert ours.body == (sdk.body if isinstance(sdk.body, bytes) else sdk.body.encode())
    for name in COMPARED:
        assert ours.headers.get(name) == sdk.headers.get(name), name
    assert ours.path_url == sdk.path_url == "/" and ours.method == sdk.method == "POST"
    assert ours.headers["X-TC-Token" if token else "Authorization"]


def test_an_endpoint_with_a_port_is_signed_with_its_port(monkeypatch):
    _freeze(monkeypatch)
    sdk = _sdk_request("batch", "DescribeJob", {"JobId": "j"}, None, "http://batch.internal.test:8080")
    ours = _our_request("batch", "DescribeJob", {"JobId": "j"}, None, "http://batch.internal.test:8080")
    assert ours.headers["Host"] == sdk.headers["Host"] == "batch.internal.test:8080"
    assert ours.headers["Authorization"] == sdk.headers["Authorization"]


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(min_size=1, max_size=80),
    date=st.dates().map(str),
    service=st.sampled_from(["batch", "tag", "cvm", "x" * 70]),
    text=st.text(max_size=300),
)
def test_the_signature_is_the_sdks_sign_tc3(key, date, service, text):
    try:
        expected = Sign.sign_tc3(key, date, service, text)
    except UnicodeEncodeError:  # a lone surrogate: neither can sign it
        with pytest.raises(UnicodeEncodeError):
            tcapi.signature(key, date, service, text)
        return
    assert tcapi.signature(key, date, service, text) == expected


def test_trace_ids_are_random_version_4_uuids():
    import uuid

    ids = {tcapi._trace_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(uuid.UUID(i).version == 4 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


# Answers and the code each client reports. The SDK's batch client wraps anything it cannot read in
# TencentCloudSDKException(type(e).__name__); tcapi keeps those names.
ANSWERS = [
    ((200, "application/json", '{"Response": {"Error": {"Code": "ResourceNotFound.Job", "Message": "no"}, '
      '"RequestId": "r-9"}}'), "ResourceNotFound.Job"),
    ((200, "text/html", "<html>a proxy's page</html>"), "JSONDecodeError"),
    ((502, "text/html", "<html>502 Bad Gateway</html>"), "ServerNetworkError"),
    ((200, "application/json", "{}"), "KeyError"),
    ((503, "application/json", '{"Response": {"RequestId": "r"}}'), "ServerNetworkError"),
    ((200, "application/json", '{"Response": {"Error": null, "RequestId": "r"}}'), "TypeError"),
    ((200, "application/json", '{"Response": {"Error": "flat", "RequestId": "r"}}'), "TypeError"),
    ((200, "application/json", '{"Response": {"Error": {"Message": "m"}, "RequestId": "r"}}'), "KeyError"),
]  # fmt: skip


def _sdk_code(answer: tuple[int, str, str]) -> str:
    status, content_type, body = answer
    client = batch_client.BatchClient(credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou")
    request = batch_models.DescribeJobRequest()
    request.JobId = "job-1"
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "https://batch.tencentcloudapi.com/", body=body, status=status,
                 content_type=content_type)  # fmt: skip
        with pytest.raises(TencentCloudSDKException) as caught:
            client.DescribeJob(request)
    return str(caught.value.get_code())


def _our_error(answer: Any) -> TencentCloudSDKException:
    def reply(request: Any) -> Any:
        if callable(answer):
            return answer(request)
        status, content_type, body = answer
        return status, {"Content-Type": content_type}, body

    with serve({"/": reply}) as base:
        client = cloud.batch_client(
            "ap-guangzhou", endpoint=base, cred=tcapi.Credentials(SECRET_ID, SECRET_KEY)
        )
        with pytest.raises(TencentCloudSDKException) as caught:
            client.call("DescribeJob", {"JobId": "job-1"})
    return caught.value


@pytest.mark.parametrize(("answer", "code"), ANSWERS)
def test_error_codes_are_the_sdks(answer, code):
    # GIVEN an answer WHEN each client gets it THEN both report the same code
    assert _sdk_code(answer) == code
    error = _our_error(answer)
    assert error.get_code() == code
    if code == "ResourceNotFound.Job":
        assert error.get_message() == "no" and error.get_request_id() == "r-9"


def test_no_answer_is_a_client_network_error():
    def reset(request: Any) -> Any:
        raise Reset("scripted")

    error = _our_error(reset)
    assert error.get_code() == "ClientNetworkError" and "connection closed" in error.get_message()


def test_an_error_is_an_error_whatever_the_content_type_says():
    # The SDK reads Error only under exactly application/json or text/plain (a charset, and it takes an
    # error for an answer); tcapi reads it under any
    answer = (200, "application/json; charset=utf-8", '{"Response": {"Error": {"Code": "InternalError"}}}')
    assert _our_error(answer).get_code() == "InternalError"


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, '{"Response": [1]}', '{"Response": {"Error": "flat"}}', '"\\ud800"'],
)
def test_a_hostile_body_is_an_error_not_a_crash(body):
    error = _our_error((200, "application/json", body))
    assert error.get_code() in {"RecursionError", "KeyError", "TypeError", "JSONDecodeError"}


def test_a_huge_answer_is_refused_and_costs_only_itself(monkeypatch):
    from shared import http

    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1000)
    error = _our_error((200, "application/json", json.dumps({"Response": {"X": "y" * 5000}})))
    assert error.get_code() == "ClientNetworkError" and "over 1000 bytes" in error.get_message()


def _round_trips(model_class: Any, params: dict[str, Any]) -> bool:
    """True when the SDK's request model reads `params` with no field left over and writes them back."""
    model = model_class()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK warns "fields are useless" for an unknown field
        model._deserialize(json.loads(json.dumps(params)))
    return bool(model._serialize() == params)


def test_the_functions_requests_are_the_sdk_models_fields(monkeypatch, capsys):
    # GIVEN retry (tag ledger, rules) and alerts (enrichment, recovery) against the fakes
    monkeypatch.setenv("RETRY_RULES", "exit:137=retry")
    monkeypatch.setenv("RETRY_ACCOUNT_UIN", "100000000001")
    monkeypatch.setenv("ALERT_ENRICH", "1")
    tags = TagBackend()
    with sample_cloud(monkeypatch) as batch:
        monkeypatch.delenv("RETRY_LEDGER", raising=False)
        from tests.fakes.batch import fake_batch_api

        with fake_batch_api(batch, tag=tags):
            event = load_event("cmq_topic_job_failed_interrupted.json")
            load_handler("retry_interrupted").main_handler(event, {"time_limit_in_ms": 30000})
            load_handler("alert_failures").main_handler(event, {"time_limit_in_ms": 30000})
    capsys.readouterr()
    # WHEN every request they sent is read by the SDK's model of its action
    sent = [(batch_models, a, p) for a, p, _ in batch.calls] + [(tag_models, a, p) for a, p, _ in tags.calls]
    assert {a for _, a, _ in sent} >= {"DescribeJob", "TerminateJob", "GetResources", "ModifyResourceTags"}
    # THEN each reads back unchanged: every field name and shape is one the SDK knows
    for module, action, params in sent:
        assert _round_trips(getattr(module, f"{action}Request"), params), (action, params)


def test_a_misspelt_field_fails_the_round_trip():
    assert _round_trips(batch_models.DescribeJobRequest, {"JobId": "job-1"})
    with pytest.raises(Warning):
        _round_trips(batch_models.DescribeJobRequest, {"JobID": "job-1"})


class _RaisingCredential:
    """A credential provider failing as the SDK's OIDC one does without TKE_REGION."""

    def get_credential_info(self):
        raise OSError("TKE_REGION not exist")


@pytest.mark.parametrize(
    ("cred", "params", "code"),
    [
        (_RaisingCredential(), {"JobId": "j"}, "OSError"),
        (tcapi.Credentials(SECRET_ID, "key-\udc80-from-bad-bytes"), {"JobId": "j"}, "UnicodeEncodeError"),
        (tcapi.Credentials(SECRET_ID, SECRET_KEY), {"JobId": b"bytes"}, "TypeError"),
    ],
)
def test_a_request_that_cannot_be_built_is_the_sdks_error_named_after_the_failure(cred, params, code):
    client = tcapi.ApiClient("batch", "2017-03-12", "ap-guangzhou", cred, scheme="http", host="127.0.0.1:9")
    with pytest.raises(TencentCloudSDKException) as caught:
        client.call("DescribeJob", params)
    assert caught.value.get_code() == code and "udc80" not in caught.value.get_message()


def test_credentials_never_show_their_key_or_token():
    shown = repr(tcapi.Credentials(SECRET_ID, SECRET_KEY, TOKEN))
    assert SECRET_ID in shown and SECRET_KEY not in shown and TOKEN not in shown


def test_one_threads_timeout_never_cuts_anothers_call():
    import threading

    client = cloud.batch_client("ap-guangzhou", cred=tcapi.Credentials(SECRET_ID, SECRET_KEY), timeout_s=7)
    seen: list[float] = []
    cloud.set_request_timeout(client, 5.0)

    def other() -> None:
        cloud.set_request_timeout(client, 0.2)
        seen.append(client.timeout_s)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [0.2] and client.timeout_s == 5.0
    fresh: list[float] = []
    thread = threading.Thread(target=lambda: fresh.append(client.timeout_s))
    thread.start()
    thread.join()
    assert fresh == [7.0]  # a thread that set nothing gets the client's own


@settings(max_examples=100, deadline=None)
@given(key=st.text(min_size=1, max_size=40), text=st.text(max_size=200))
def test_the_fakes_signer_is_the_sdks_too(key, text):
    from localcloud.tencent import _sign_tc3

    try:
        expected = Sign.sign_tc3(key, "2026-12-01", "batch", text)
    except UnicodeEncodeError:
        return
    assert _sign_tc3(key, "2026-12-01", "batch", text) == expected
