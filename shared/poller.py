"""Queue path: a timer-triggered run drains its TDMQ-CMQ queue, hands the messages to the concern,
and deletes exactly those that were handled or rejected as poison.

A message whose handling failed in a way a retry can help is left in the queue: it reappears after
the queue's visibility timeout, and the queue's dead-letter policy (MaxReceiveCount) bounds it.
"""

from __future__ import annotations

import os

from .capture import capture_raw
from .cmq_data import MAX_BATCH, CmqDataClient, CmqError, QueueMessage
from .concern import Concern, process
from .envelope import parse_bodies
from .errors import ConfigError
from .invocation import Invocation
from .log import JsonLogger
from .models import SourceRecord
from .record import NamedTuple
from .settings import env_int, env_str

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

RECEIVE_SLACK_S = 5.0  # beyond the long poll, what a receive may take to answer
DELETE_TIMEOUT_S = 5.0
DELETE_MARGIN_S = 0.2  # the summary is still logged after the delete


class PollSettings(NamedTuple):
    """How one timer run polls its queue."""

    queue: str
    endpoint: str
    wait_s: int = 0
    reserve_s: int = 10
    max_messages: int = 480

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> PollSettings:
        """Read CMQ_QUEUE_NAME, CMQ_ENDPOINT, POLL_WAIT_S, POLL_RESERVE_S, POLL_MAX_MESSAGES."""
        queue = env_str("CMQ_QUEUE_NAME", env=env)
        endpoint = env_str("CMQ_ENDPOINT", env=env)
        if not queue or not endpoint:
            raise ConfigError(
                "a timer run polls a TDMQ-CMQ queue: set CMQ_QUEUE_NAME (this function's queue) and "
                "CMQ_ENDPOINT (the queue API endpoint from the TDMQ console, e.g. "
                "https://cmq-gz.public.tencenttdmq.com)"
            )
        return cls(
            queue=queue,
            endpoint=endpoint,
            wait_s=env_int("POLL_WAIT_S", 0, env, minimum=0, maximum=30),
            reserve_s=env_int("POLL_RESERVE_S", 10, env, minimum=1),
            max_messages=env_int("POLL_MAX_MESSAGES", 480, env, minimum=1),
        )


def client_from_env(endpoint: str, env: Optional[Mapping[str, str]] = None) -> CmqDataClient:
    """The dedicated key pair CMQ_SECRET_ID / CMQ_SECRET_KEY when set, else the role's credentials."""
    source = os.environ if env is None else env
    dedicated_id = source.get("CMQ_SECRET_ID", "").strip()
    dedicated_key = source.get("CMQ_SECRET_KEY", "").strip()
    if dedicated_id and dedicated_key:
        return CmqDataClient(endpoint, dedicated_id, dedicated_key)
    role_id = source.get("TENCENTCLOUD_SECRETID", "").strip()
    role_key = source.get("TENCENTCLOUD_SECRETKEY", "").strip()
    if role_id and role_key:
        token = source.get("TENCENTCLOUD_SESSIONTOKEN", "").strip() or None
        return CmqDataClient(endpoint, role_id, role_key, token)
    raise ConfigError(
        "no credentials for the queue API: give the function an execution role, or set "
        "CMQ_SECRET_ID and CMQ_SECRET_KEY (a key pair allowed to receive and delete on the queue)"
    )


def poll_queue(
    concern: Concern,
    invocation: Invocation,
    log: JsonLogger,
    settings: Optional[PollSettings] = None,
    client: Optional[CmqDataClient] = None,
) -> dict[str, Any]:
    """Receive until the queue is empty, the cap is reached or the time runs short; handle; delete."""
    settings = settings or PollSettings.from_env()
    client = client or client_from_env(settings.endpoint)
    messages, receive_calls, receive_error = _drain(client, settings, invocation, log)
    capture_raw("queue_message", ({"msgId": m.msg_id, "msgBody": m.body} for m in messages), log)
    parsed = parse_bodies([(SourceRecord(msg_id=m.msg_id, index=i), m.body) for i, m in enumerate(messages)])
    summary, outcome = process(parsed, invocation, log, concern)
    kept = [m for i, m in enumerate(messages) if i in outcome.retry_records]
    done = [m.receipt_handle for i, m in enumerate(messages) if i not in outcome.retry_records]
    for message in kept:
        log.warning(
            "message left in the queue for redelivery",
            msg_id=message.msg_id,
            dequeue_count=message.dequeue_count,
            reason=outcome.retry_reason,
        )
    # Each delete request is cut to the time left; too late, the messages reappear after the
    # visibility timeout and are deduplicated.
    result = client.delete(
        settings.queue,
        done,
        timeout_s=DELETE_TIMEOUT_S,
        time_left=lambda: invocation.remaining_s(DELETE_MARGIN_S),
    )
    for handle, reason in result.failed:
        log.error("message not deleted; it will be delivered again", receipt_handle=handle, reason=reason)
    summary.update(
        delivery="queue",
        received=len(messages),
        receive_calls=receive_calls,
        receive_error=receive_error,
        deleted=result.deleted,
        delete_failed=len(result.failed),
        left_for_redelivery=len(kept),
    )
    return summary


def _drain(
    client: CmqDataClient, settings: PollSettings, invocation: Invocation, log: JsonLogger
) -> tuple[list[QueueMessage], int, Optional[str]]:
    # With POLL_WAIT_S (0 by default: the next timer run comes in 10 s) the first call long-polls;
    # later calls never wait, and the first empty answer ends the run.
    messages: list[QueueMessage] = []
    calls = 0
    while len(messages) < settings.max_messages:
        budget = invocation.remaining_s(settings.reserve_s)
        if budget < 1:
            break
        wait = min(settings.wait_s if calls == 0 else 0, int(budget) - 1)
        count = min(MAX_BATCH, settings.max_messages - len(messages))
        # The answer is awaited no longer than the time left before the reserve kept for handling.
        timeout = min(max(0, wait) + RECEIVE_SLACK_S, budget)
        try:
            got = client.receive(settings.queue, count, max(0, wait), timeout_s=timeout)
        except CmqError as exc:
            log.error("queue receive failed", queue=settings.queue, code=exc.code, error=exc.message)
            # The summary (the function's return value, logged by SCF unscrubbed) carries the code only:
            # an error text can echo request parameters.
            return messages, calls + 1, f"CMQ error {exc.code}"
        calls += 1
        if not got:
            break
        messages.extend(got)
    return messages, calls, None
