"""One API client per SCF instance and region, kept across invocations with its connection, rebuilt when
the keys rotate."""

from __future__ import annotations

import contextlib
import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from shared import cloud, http
from shared.errors import ConfigError
from tests.fakes.batch.scenario import sample_cloud
from tests.fakes.loopback import Hang
from tests.fakes.loopback import serve as serving
from tests.helpers import load_event, load_handler

INTERRUPTED = "cmq_topic_job_failed_interrupted.json"


def _built(monkeypatch) -> list[str]:
    real = cloud.batch_client
    built: list[str] = []

    def counting(region, **kwargs):
        built.append(region)
        return real(region, **kwargs)

    monkeypatch.setattr(cloud, "batch_client", counting)
    return built


def test_warm_invocations_reuse_the_client_and_its_connection(monkeypatch):
    # GIVEN the retry function on a warm instance (module state survives between invocations)
    built = _built(monkeypatch)
    with (
        sample_cloud(monkeypatch) as batch,
        contextlib.redirect_stdout(io.StringIO()),
        _connections() as opened,
    ):
        handler = load_handler("retry_interrupted").main_handler
        # WHEN it handles three deliveries
        for _ in range(3):
            handler(load_event(INTERRUPTED), {"time_limit_in_ms": 30000})
    # THEN one Batch client was built, every call went through it, over one connection
    assert built == ["ap-guangzhou"]
    assert len(batch.calls) >= 3
    assert opened == [("https", "batch.tencentcloudapi.com", 443)]


def test_rotated_role_credentials_build_a_new_client(monkeypatch):
    built = _built(monkeypatch)
    with sample_cloud(monkeypatch), contextlib.redirect_stdout(io.StringIO()):
        handler = load_handler("retry_interrupted").main_handler
        handler(load_event(INTERRUPTED), {"time_limit_in_ms": 30000})
        # WHEN SCF rotates the role's temporary keys between two invocations
        monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", "rotated-token-0002")
        handler(load_event(INTERRUPTED), {"time_limit_in_ms": 30000})
        handler(load_event(INTERRUPTED), {"time_limit_in_ms": 30000})
    # THEN the second invocation built a client with them, and the third reused it
    assert built == ["ap-guangzhou", "ap-guangzhou"]


def test_the_timeout_cut_before_a_call_bounds_that_whole_call(monkeypatch):
    # GIVEN a kept client built with 10 s, and a Batch API that never answers
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDtimeout")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "timeoutKey")
    client = cloud.batch_client("ap-guangzhou", timeout_s=10)
    with serving({"/": lambda request: (_ for _ in ()).throw(Hang(5.0))}) as base:
        local = cloud.batch_client("ap-guangzhou", endpoint=base, timeout_s=10)
        # WHEN a caller cuts the timeout to its time left
        cloud.set_request_timeout(client, 1.25)
        cloud.set_request_timeout(local, 0.3)
        started = time.monotonic()
        with pytest.raises(TencentCloudSDKException) as caught:
            local.call("DescribeJob", {"JobId": "job-1"})
    # THEN the call ended then, as a network error the callers retry
    assert client.timeout_s == 1.25
    assert time.monotonic() - started < 3.0
    assert caught.value.get_code() == "ClientNetworkError" and "timeout" in caught.value.get_message()


@contextlib.contextmanager
def _connections():
    """The origins shared/http.py opened a connection to in the block, in order."""
    opened: list[tuple[str, str, int]] = []
    real = http._connect

    def counting(origin, deadline):
        opened.append(tuple(origin))
        return real(origin, deadline)

    http._connect = counting
    try:
        yield opened
    finally:
        http._connect = real


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", ("https", None)),
        ("batch.internal", ("https", "batch.internal")),
        ("batch.internal:8443/", ("https", "batch.internal:8443")),
        ("http://127.0.0.1:8999", ("http", "127.0.0.1:8999")),
        ("https://[::1]:8443/", ("https", "[::1]:8443")),
        ("a" * 63 + ".com", ("https", "a" * 63 + ".com")),
        ("batch.internal.", ("https", "batch.internal.")),
    ],
)
def test_an_endpoint_is_a_scheme_a_host_and_a_port(setting, expected):
    assert cloud.parse_endpoint(setting) == expected


@pytest.mark.parametrize(
    "setting",
    [
        "batch.internal/v3",  # posted to /v3 while signed for /
        "https://batch.internal/v3",
        "batch.internal?x=1",
        "https://batch.internal/#frag",
        "batch.internal:abc",
        "https://batch.internal:99999",
        "ftp://batch.internal",
        "https://:443",
        ".",  # labels the idna codec refuses: the Host header could not be written
        "a..b",
        "a" * 64 + ".com",
        ".é",
    ],
)
def test_an_endpoint_with_more_or_less_than_that_is_a_config_error(setting):
    with pytest.raises(ConfigError):
        cloud.parse_endpoint(setting)


def test_an_endpoint_with_credentials_is_refused_without_repeating_them():
    with pytest.raises(ConfigError) as caught:
        cloud.parse_endpoint("https://user:secretpw@batch.internal")
    assert "secretpw" not in str(caught.value)


@settings(max_examples=500, deadline=None)
@given(
    scheme=st.sampled_from(["", "http://", "https://", "HTTPS://", "ftp://"]),
    host=st.text(alphabet="abcXYZ019.-_[]:@é", min_size=0, max_size=12),
    port=st.sampled_from(["", ":", ":0", ":1", ":80", ":443", ":0080", ":65535", ":65536", ":x", ":٣"]),
    tail=st.sampled_from(["", "/", "//", "/v3", "?a=1", "#f"]),
)
def test_the_plain_endpoint_shortcut_answers_as_urlsplit_does(scheme, host, port, tail):
    # GIVEN any endpoint setting WHEN parsed with the shortcut and with urlsplit alone
    setting = f"{scheme}{host}{port}{tail}"
    from urllib.parse import urlsplit

    def by_urlsplit(value):
        text = value.strip()
        if not text:
            return "https", None
        url = text if "://" in text else f"https://{text}"
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - its ValueError
        if parsed.scheme not in ("http", "https") or not parsed.hostname or "@" in parsed.netloc:
            raise ValueError
        parsed.hostname.encode("idna")  # a UnicodeError is a ValueError
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment or url.endswith(("?", "#")):
            raise ValueError
        return parsed.scheme, parsed.netloc

    try:
        expected = by_urlsplit(setting)
    except ValueError:
        expected = None
    try:
        got = cloud.parse_endpoint(setting)
    except ConfigError:
        got = None
    # THEN both accept the same settings, as the same (scheme, host[:port])
    assert got == expected
    if got is not None and got[1] is not None:
        # AND the client connects where urlsplit says, and signs the Host header it sends
        client = cloud.batch_client("r", endpoint=setting, cred=tcapi_credentials())
        parts = urlsplit(f"{got[0]}://{got[1]}")
        assert (client.hostname, client.port) == (
            parts.hostname,
            parts.port or (443 if got[0] == "https" else 80),
        )


def tcapi_credentials():
    from shared.tcapi import Credentials

    return Credentials("AKIDshortcut", "shortcutKey")
