"""The fake Batch API preloaded with every job the samples in events/ name, for whole-handler tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.envelope import parse_trigger_event
from tests.helpers import event_files, load_event

from .backend import BatchBackend
from .routes import fake_batch_api

SCF_ROLE_ENV = {
    "TENCENTCLOUD_SECRETID": "AKIDscfRoleTestId0001",
    "TENCENTCLOUD_SECRETKEY": "scfRoleTestSecretKey0001",
    "TENCENTCLOUD_SESSIONTOKEN": "scfRoleTestSessionToken0001",
}


def sample_jobs() -> dict[str, str]:
    """job id -> region of every job a failure event in events/ names."""
    jobs: dict[str, str] = {}
    for name in event_files():
        for event in parse_trigger_event(load_event(name)).events:
            if event.job_id and event.region and event.is_failure:
                jobs.setdefault(event.job_id, event.region)
    return jobs


def sample_backend() -> BatchBackend:
    """Each sample job FAILED_INTERRUPTED in its region; RetryJobs refuses that state, as documented."""
    backend = BatchBackend()
    backend.secret_keys = {SCF_ROLE_ENV["TENCENTCLOUD_SECRETID"]: SCF_ROLE_ENV["TENCENTCLOUD_SECRETKEY"]}
    for job_id, region in sample_jobs().items():
        backend.add_job(job_id, region=region)
    return backend


@contextmanager
def sample_cloud(monkeypatch: Any) -> Iterator[BatchBackend]:
    """SCF-role credentials, the in-process ledger, a clock that never sleeps, and the fake Batch API."""
    import retrying
    from retrying import timing

    from tests.fakes.cmq import FakeClock

    for key, value in SCF_ROLE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RETRY_LEDGER", "memory")
    clock = FakeClock()
    monkeypatch.setattr(
        timing, "DEFAULT", timing.Timing(clock=clock, sleep=clock.advance, random=lambda: 0.5)
    )
    retrying.reset_memory_ledger()
    backend = sample_backend()
    with fake_batch_api(backend):
        yield backend
    retrying.reset_memory_ledger()
