"""One SDK client per SCF instance and region, kept across invocations, rebuilt when the keys rotate."""

from __future__ import annotations

import contextlib
import io

from shared import cloud
from tests.fakes.batch.scenario import sample_cloud
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
    with sample_cloud(monkeypatch) as batch, contextlib.redirect_stdout(io.StringIO()):
        handler = load_handler("retry_interrupted").main_handler
        # WHEN it handles three deliveries
        for _ in range(3):
            handler(load_event(INTERRUPTED), {"time_limit_in_ms": 30000})
    # THEN one Batch client was built, and every call went through it
    assert built == ["ap-guangzhou"]
    assert len(batch.calls) >= 3


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


def test_the_timeout_is_set_on_the_connection_the_sdk_uses(monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDtimeout")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "timeoutKey")
    client = cloud.batch_client("ap-guangzhou", timeout_s=10)
    cloud.set_request_timeout(client, 1.25)
    assert client.request.conn.timeout == 1.25
