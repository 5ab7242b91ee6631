"""Optional Cloud Monitor custom metrics (CHURN_METRICS=1): the churn figures, batched, best effort.

The API is Cloud Monitor's `PutMonitorData` (monitor 2018-07-24): `Metrics` = [{MetricName, Value}]
(Value an integer), `AnnounceInstance` (an instance id or IP: here the environment id, the only
dimension the API offers), `AnnounceTimestamp` (within the last 300 s), at most 30 pairs a request.
Tencent marks it as being retired and the current SDK no longer has a model for it, so it is
called through the SDK's generic `call_json` (same signing, endpoint and error handling). Whatever
goes wrong is logged, never raised: the node_event and churn_summary lines in CLS are the record.
The SDK is imported here only, on the path that sends, so the function's cold start stays stdlib.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from shared.invocation import Invocation
from shared.log import JsonLogger

from .config import ChurnConfig

ACTION = "PutMonitorData"
MAX_PER_REQUEST = 30  # documented limit of metric/value pairs in one PutMonitorData request
PREFIX = "batch_churn_"
DEFAULT_REGION = "ap-guangzhou"  # the API ignores Region; the SDK still wants one
MARGIN_S = 1.0  # time kept for the summary after the last request
COUNTED_EVENTS = (
    "COMPUTE_ENV_CREATED",
    "COMPUTE_ENV_DELETED",
    "COMPUTE_NODE_CREATED",
    "COMPUTE_NODE_CREATION_FAILED",
    "COMPUTE_NODE_RUNNING",
    "COMPUTE_NODE_ABNORMAL",
    "COMPUTE_NODE_DELETING",
)

ClientFactory = Callable[[str, int], Any]


@dataclass
class MetricsResult:
    """What the metrics step did, for the invocation summary."""

    requests: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        """The figures as a plain dict."""
        return {"requests": self.requests, "sent": self.sent, "failed": self.failed, "skipped": self.skipped}


def metric_data(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One churn_summary as MetricDatum dicts (integer values; unknown figures are left out)."""
    counts = figures.get("counts") or {}
    pairs: list[tuple[str, Any]] = [
        (f"events_{name.lower()}", counts.get(name, 0)) for name in COUNTED_EVENTS
    ]
    pairs += [(key, figures.get(key)) for key in ("nodes_seen", "abnormal_nodes", "creation_attempts")]
    pairs.append(("creation_failures", figures.get("creation_failures")))
    for key in ("abnormal_rate", "creation_failure_rate"):
        value = figures.get(key)
        pairs.append((f"{key}_pct", None if value is None else value * 100))
    ages = figures.get("node_age_s") or {}
    pairs += [(f"node_age_{stat}_s", ages.get(stat)) for stat in ("min", "median", "max")]
    return [
        {"MetricName": PREFIX + name, "Value": round(value)} for name, value in pairs if value is not None
    ]


def _default_factory(config: ChurnConfig) -> ClientFactory:
    def build(region: str, timeout_s: int) -> Any:
        from shared.cloud import monitor_client

        return monitor_client(region, endpoint=config.metrics_endpoint, timeout_s=timeout_s)

    return build


def publish(
    summaries: Sequence[Mapping[str, Any]],
    *,
    config: ChurnConfig,
    invocation: Invocation,
    log: JsonLogger,
    client_factory: Optional[ClientFactory] = None,
    clock: Callable[[], float] = time.time,
) -> MetricsResult:
    """Send each environment's figures as one PutMonitorData request (more if over 30 pairs).

    Stops at the first failure (a refusing or unreachable service would refuse the rest too,
    and each try costs time the invocation may not have) and logs what was not sent.
    """
    factory = client_factory or _default_factory(config)
    # Docs: the timestamp must lie within the last 300 s; whole minutes are recommended.
    stamp = int(clock()) // 60 * 60
    batches = [
        (figures, chunk) for figures in summaries for chunk in _chunks(metric_data(figures), MAX_PER_REQUEST)
    ]
    result = MetricsResult()
    for number, (figures, chunk) in enumerate(batches):
        left = invocation.remaining_s(MARGIN_S)
        if left < 1:
            result.skipped = len(batches) - number
            log.warning("churn metrics skipped: not enough time left", requests_skipped=result.skipped)
            break
        env_id = figures.get("env_id") or "unknown"
        region = str(figures.get("region") or invocation.region or DEFAULT_REGION)
        params = {"Metrics": chunk, "AnnounceInstance": env_id, "AnnounceTimestamp": stamp}
        result.requests += 1
        try:
            client = factory(region, max(1, min(config.metrics_timeout_s, int(left))))
            client.call_json(ACTION, params)
        except Exception as exc:  # best effort: any failure is logged, never raised
            result.failed += 1
            result.skipped = len(batches) - number - 1
            log.warning(
                "churn metrics failed",
                env_id=env_id,
                error=type(exc).__name__,
                code=getattr(exc, "code", None),
                reason=str(getattr(exc, "message", None) or exc)[:300],
                requests_skipped=result.skipped,
            )
            break
        result.sent += len(chunk)
    return result


def _chunks(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
