"""retry_interrupted against a slow Batch API on the real clock: no request outlives the run."""

from __future__ import annotations

import contextlib
import io
import time

import pytest
import retrying

from shared import cloud
from shared.errors import RetryableFailure
from tests.fakes.batch import BatchBackend, batch_callback
from tests.fakes.batch.scenario import SCF_ROLE_ENV
from tests.fakes.loopback import serve
from tests.helpers import load_event, load_handler

INTERRUPTED = "cmq_topic_job_failed_interrupted.json"
JOB = "job-5ik2gmv8"


def _slow(backend: BatchBackend, delay_s: float):
    callback = batch_callback(backend)

    def answer_late(request):
        answer = callback(request)  # the call takes effect on arrival; its answer comes late
        time.sleep(delay_s)
        return answer

    return answer_late


@pytest.fixture
def env(monkeypatch):
    for key, value in SCF_ROLE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RETRY_LEDGER", "memory")
    retrying.reset_memory_ledger()
    yield monkeypatch
    retrying.reset_memory_ledger()


@pytest.mark.parametrize(("limit_ms", "delay_s"), [(3000, 0.9), (5000, 3.0)])
def test_a_slow_batch_api_never_keeps_the_handler_past_its_time_limit(env, limit_ms, delay_s):
    # GIVEN an interrupted job, and a Batch API on 127.0.0.1 that answers every call after `delay_s`
    backend = BatchBackend()
    backend.add_job(JOB, "FAILED_INTERRUPTED")
    backend.terminate_polls = 100  # the termination never completes within the run
    with serve({"/": _slow(backend, delay_s)}) as url:
        env.setenv("BATCH_ENDPOINT", url)
        started = time.monotonic()
        # WHEN the handler runs with SCF's time limit
        with pytest.raises(RetryableFailure), contextlib.redirect_stdout(io.StringIO()):
            load_handler("retry_interrupted").main_handler(
                load_event(INTERRUPTED), {"time_limit_in_ms": limit_ms, "request_id": "slow"}
            )
        took = time.monotonic() - started
    # THEN it returned (asking for a redelivery) before SCF would have killed it
    assert took < limit_ms / 1000
    # AND it still decided and acted at SCF's default 3 s: the job was described and terminated
    actions = [a for a, *_ in backend.calls]
    assert actions[:2] == ["DescribeJob", "TerminateJob"]


def test_every_request_timeout_fits_in_the_time_left(env):
    # GIVEN a Batch API that is slow (0.4 s) on a 3 s invocation; a fast termination
    backend = BatchBackend()
    backend.add_job(JOB, "FAILED_INTERRUPTED")
    sent: list[float] = []
    callback = _slow(backend, 0.4)

    def record(request):
        sent.append(time.monotonic())
        return callback(request)

    real = cloud.set_request_timeout
    timeouts: list[tuple[float, float]] = []

    def spy(client, seconds):
        timeouts.append((time.monotonic(), seconds))
        real(client, seconds)

    env.setattr("retrying.calls.set_request_timeout", spy)
    with serve({"/": record}) as url:
        env.setenv("BATCH_ENDPOINT", url)
        started = time.monotonic()
        with contextlib.redirect_stdout(io.StringIO()):
            summary = load_handler("retry_interrupted").main_handler(
                load_event(INTERRUPTED), {"time_limit_in_ms": 3000, "request_id": "t"}
            )
    # THEN the job was retried, and each request's timeout ended before the 3 s limit less the margin
    assert summary["retried"] == 1
    assert len(timeouts) == len(sent) >= 4
    for at, seconds in timeouts:
        assert (at - started) + seconds <= 3.0 - 0.5 + 0.05


def test_the_default_jitter_is_uniform_in_the_unit_interval():
    from retrying.timing import DEFAULT, jitter

    draws = [jitter() for _ in range(20_000)]
    assert DEFAULT.random is jitter
    assert all(0.0 <= x < 1.0 for x in draws)
    # each tenth of the interval gets its share (10% +- 1.5%: about 7 standard deviations)
    counts = [sum(1 for x in draws if k / 10 <= x < (k + 1) / 10) for k in range(10)]
    assert all(1700 <= c <= 2300 for c in counts), counts
    assert len(set(draws)) > 19_900
