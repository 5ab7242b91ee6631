"""ALERT_RECOVERY=1: is a succeeded job one that retry_interrupted retried? DescribeJob's Tags say.

retry_interrupted keeps its ledger as a tag on the job (RETRY_TAG_KEY, `<attempt>/<status>/<marker>`):
a JOB_SUCCEED of a job with that tag means an automatic retry worked. A job without it sends nothing.
The API client (shared.tcapi) is imported inside the calls: without this setting it is never loaded.
"""

from __future__ import annotations

from shared.errors import ConfigError
from shared.log import JsonLogger
from shared.record import Record

from .config import AlertConfig
from .delivery import MIN_SEND_S, Deadline
from .grouping import UNKNOWN, Group
from .recovery import Recovery, recovery_of

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Optional

CALL_TIMEOUT_S = 2.0  # a DescribeJob answers fast or not at all
TIME_SHARE = 0.5  # the checks may use at most this share of the time left: the alerts come first
STATUSES = ("pending", "terminating", "done", "released")
# Errors about one job (it is gone, or its id is not one) skip that job; these stop every check, and
# a new delivery would not help until the role's policy changes.
_JOB_ERRORS = ("ResourceNotFound", "InvalidParameter")
_ROLE_ERRORS = ("AuthFailure", "UnauthorizedOperation")


class Found(Record):
    """The recoveries, and the records whose jobs could not be checked (a new delivery may)."""

    __slots__ = ("recoveries", "unchecked")

    def __init__(
        self, recoveries: Optional[list[Recovery]] = None, unchecked: Optional[set[int]] = None
    ) -> None:
        self.recoveries: list[Recovery] = [] if recoveries is None else recoveries
        self.unchecked: set[int] = set() if unchecked is None else unchecked


def ledger_entry(value: str) -> Optional[tuple[int, str]]:
    """(retries, marker) from a ledger value such as `2/done/20261120083500`; None when not one."""
    parts = value.strip().split("/")
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in STATUSES or int(parts[0]) < 1:
        return None
    return int(parts[0]), parts[2]


def job_tags(client: Any, job_id: str) -> dict[str, str]:
    """DescribeJob's `Tags: [{Key, Value}]` as a dict."""
    data = client.call("DescribeJob", {"JobId": job_id})
    tags = data.get("Tags") if isinstance(data, dict) else None
    return {
        str(t.get("Key")): str(t.get("Value") or "")
        for t in tags or []
        if isinstance(t, dict) and t.get("Key")
    }


def find_recoveries(groups: list[Group], config: AlertConfig, deadline: Deadline, log: JsonLogger) -> Found:
    """The recovery of each JOB_SUCCEED group whose job carries the ledger's tag."""
    from shared.cloud import cached_client, set_request_timeout

    found = Found()
    stop_at = deadline.remaining_s() * (1 - TIME_SHARE)
    jobs = [g for g in groups if UNKNOWN not in (g.key.id, g.key.region)]
    for position, group in enumerate(jobs):
        left = deadline.remaining_s() - stop_at
        if left < MIN_SEND_S:
            log.warning("recovery checks stopped: their share of the time is used", group=str(group.key))
            found.unchecked |= {r for g in jobs[position:] for r in g.records}
            break
        try:
            client = cached_client(
                "batch", group.key.region, endpoint=config.batch_endpoint, timeout_s=int(CALL_TIMEOUT_S)
            )
            # The client is the instance's, kept across invocations: its timeout is cut per call.
            set_request_timeout(client, min(CALL_TIMEOUT_S, left))
            tags = job_tags(client, group.key.id)
        except ConfigError:
            raise  # no credentials, a bad BATCH_ENDPOINT: every record's problem, as everywhere
        except Exception as exc:  # the API's errors (TencentCloudSDKException), network errors
            code = str(getattr(exc, "code", "") or "")
            fields = {"group": str(group.key), "error": type(exc).__name__, "code": code or None}
            if code.startswith(_JOB_ERRORS):
                log.warning("recovery not checked: DescribeJob refused the job", **fields)
                continue
            if code.startswith(_ROLE_ERRORS):
                log.error("recovery checks stopped: the role may not call DescribeJob", **fields)
                break
            log.warning("recovery checks stopped; their records will be delivered again", **fields)
            found.unchecked |= {r for g in jobs[position:] for r in g.records}
            break
        entry = ledger_entry(tags.get(config.retry_tag_key, ""))
        if entry is None:
            log.info("job succeeded without an automatic retry: no notice", group=str(group.key))
            continue
        retries, marker = entry
        found.recoveries.append(recovery_of(group, retries, marker, config.console_url))
    return found
