"""Batch jobs, their states and transitions, and scripted faults: localcloud's Batch fake."""

from localcloud.batch.backend import (
    FAILED_STATES,
    BatchBackend,
    BatchError,
    FakeInstance,
    FakeJob,
    FakeTask,
    Fault,
    ScriptedFaults,
)

__all__ = [
    "FAILED_STATES",
    "BatchBackend",
    "BatchError",
    "FakeInstance",
    "FakeJob",
    "FakeTask",
    "Fault",
    "ScriptedFaults",
]
