"""The retry_interrupted concern: budgeted, idempotent retries of interrupted Batch jobs.

Nothing here imports the Tencent Cloud SDK at import time: the clients are built on the path
that calls the API, so a cold start that only parses pays nothing for them.
"""

from .concern import make_concern, retry_interrupted
from .config import RetryConfig, load_config
from .decide import Action, Decision, decide
from .errors import ApiError, RetryingError
from .ledger import Entry, MemoryLedger, TagLedger, reset_memory_ledger
from .rules import FailedInstance, Rule, evaluate, parse_rules
from .timing import Deadline, Timing

__all__ = [
    "Action",
    "ApiError",
    "Deadline",
    "Decision",
    "Entry",
    "FailedInstance",
    "MemoryLedger",
    "RetryConfig",
    "RetryingError",
    "Rule",
    "TagLedger",
    "Timing",
    "decide",
    "evaluate",
    "load_config",
    "make_concern",
    "parse_rules",
    "reset_memory_ledger",
    "retry_interrupted",
]
