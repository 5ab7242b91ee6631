"""The settings of retry_interrupted, read once per invocation from the environment."""

from __future__ import annotations

import re

from shared.catalogue import EventName
from shared.errors import ConfigError
from shared.record import NamedTuple
from shared.settings import env_bool, env_choice, env_events, env_int, env_str

from .rules import Rule, parse_rules

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Mapping, Optional

DEFAULT_EVENTS = frozenset(
    {
        EventName.JOB_FAILED_INTERRUPTED,
        EventName.TASK_FAILED_INTERRUPTED,
        EventName.TASK_INSTANCE_FAILED_INTERRUPTED,
    }
)
DEFAULT_TAG_KEY = "batch-events-retry"
# What the Tag service accepts in a key (letters, digits and + - = . _ : / @), and what it reserves.
_TAG_KEY = re.compile(r"^[A-Za-z0-9+\-=._:/@]{1,127}$")
_RESERVED_TAG_PREFIXES = ("qcloud", "tencent", "project")
MAX_RETRIES_VAR = "max_retries"
# Seconds kept free before SCF's timeout, at most: waits, backoffs and requests stop there, so the
# handler can still log, answer and (when a new delivery can help) raise before SCF kills it. The
# margin scales down with shorter limits (shared.invocation.scaled_margin_s): at SCF's default 3 s a
# fixed 3 s would leave no time to act at all.
WAIT_MARGIN_S = 3.0


class RetryConfig(NamedTuple):
    """Everything the function's behaviour depends on."""

    events: frozenset[EventName] = DEFAULT_EVENTS
    max_attempts: int = 3
    on_exhausted: str = "keep"
    dry_run: bool = False
    ledger: str = "tags"
    tag_key: str = DEFAULT_TAG_KEY
    account_uin: str = ""
    rules: tuple[Rule, ...] = ()
    margin_s: Optional[float] = None  # None: scaled to the invocation's time limit, at most WAIT_MARGIN_S
    endpoint: str = ""

    @property
    def terminate_when_done(self) -> bool:
        """True when a job that gets no more retries is terminated instead of kept."""
        return self.on_exhausted == "terminate"


def load_config(env: Optional[Mapping[str, str]] = None) -> RetryConfig:
    """Read and check every setting; ConfigError names the bad one."""
    tag_key = env_str("RETRY_TAG_KEY", DEFAULT_TAG_KEY, env)
    if not _TAG_KEY.match(tag_key) or tag_key.lower().startswith(_RESERVED_TAG_PREFIXES):
        raise ConfigError(
            f"RETRY_TAG_KEY={tag_key!r} is not a usable tag key (letters, digits and + - = . _ : / @, "
            "at most 127, not starting with qcloud, tencent or project)"
        )
    uin = env_str("RETRY_ACCOUNT_UIN", "", env)
    if uin and not uin.isdigit():
        raise ConfigError(f"RETRY_ACCOUNT_UIN={uin!r} is not an account UIN (digits only)")
    return RetryConfig(
        events=env_events("RETRY_EVENTS", DEFAULT_EVENTS, env),
        max_attempts=env_int("RETRY_MAX_ATTEMPTS", 3, env, minimum=0, maximum=100),
        on_exhausted=env_choice("RETRY_ON_EXHAUSTED", ("keep", "terminate"), "keep", env),
        dry_run=env_bool("RETRY_DRY_RUN", False, env),
        ledger=env_choice("RETRY_LEDGER", ("tags", "memory"), "tags", env),
        tag_key=tag_key,
        account_uin=uin,
        rules=parse_rules(env_str("RETRY_RULES", "", env), setting="RETRY_RULES"),
        endpoint=env_str("BATCH_ENDPOINT", "", env),
    )


def max_attempts_for(job_vars: Mapping[str, str], default: int) -> tuple[int, Optional[str]]:
    """The job's budget: its `max_retries` event var when valid, else `default`; with a warning text."""
    raw = job_vars.get(MAX_RETRIES_VAR)
    if raw is None or not str(raw).strip():
        return default, None
    try:
        value = int(str(raw).strip())
    except ValueError:
        return default, f"event var {MAX_RETRIES_VAR}={raw!r} is not a whole number; using {default}"
    if not 0 <= value <= 100:
        return default, f"event var {MAX_RETRIES_VAR}={value} is outside 0-100; using {default}"
    return value, None
