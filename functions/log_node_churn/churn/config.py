"""The settings of log_node_churn, read once per invocation from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from shared.settings import env_bool, env_int, env_str


@dataclass(frozen=True)
class ChurnConfig:
    """Everything the function's behaviour depends on."""

    metrics: bool = False
    metrics_endpoint: str = ""
    metrics_timeout_s: int = 5


def load_config(env: Optional[Mapping[str, str]] = None) -> ChurnConfig:
    """Read the CHURN_* settings; a bad value raises ConfigError naming the setting."""
    return ChurnConfig(
        metrics=env_bool("CHURN_METRICS", False, env),
        metrics_endpoint=env_str("CHURN_METRICS_ENDPOINT", "", env),
        metrics_timeout_s=env_int("CHURN_METRICS_TIMEOUT_S", 5, env, minimum=1, maximum=30),
    )
