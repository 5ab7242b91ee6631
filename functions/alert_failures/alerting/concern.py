"""The alert_failures concern: group, render, deliver to every channel, report what failed."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional
from urllib.parse import urlparse

from shared.concern import Concern, Outcome
from shared.invocation import Invocation
from shared.log import JsonLogger, redact_url
from shared.models import ParsedInput

from .alert import Alert, build_alert
from .channels import Channel, build_channels
from .compose import PLAIN, Budget, body_lines
from .config import AlertConfig, load_config
from .delivery import Deadline, Post, Result, Sender
from .grouping import Group, group_events

DRY_RUN_CHANNEL = "text"
MAX_WORKERS = 8  # one thread per channel; there are five kinds of channel


def make_concern(
    *,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Callable[[], float] = time.time,
    post: Optional[Post] = None,
) -> Concern:
    """The concern for shared.runtime.run; tests inject `sleep` (and may inject the clock and POST)."""

    def concern(parsed: ParsedInput, invocation: Invocation, log: JsonLogger) -> Outcome:
        return alert_failures(parsed, invocation, log, sleep=sleep, wall_clock=wall_clock, post=post)

    return concern


def alert_failures(
    parsed: ParsedInput,
    invocation: Invocation,
    log: JsonLogger,
    *,
    config: Optional[AlertConfig] = None,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Callable[[], float] = time.time,
    post: Optional[Post] = None,
) -> Outcome:
    """One message per channel per group; the records of groups some channel missed go in retry_records."""
    cfg = config or load_config()
    wanted = [e for e in parsed.known_events if e.name in cfg.events]
    groups, duplicates = group_events(wanted, invocation.region)
    for event in duplicates:
        log.info(
            "duplicate event skipped",
            event_name=event.name_raw,
            msg_id=event.source.msg_id,
            position=event.position,
            fingerprint=event.fingerprint,
        )
    channels = build_channels(cfg)
    summary: dict[str, Any] = {
        "alert_events": sum(len(g.events) for g in groups),
        "duplicates": len(duplicates),
        "groups": len(groups),
        "dry_run": cfg.dry_run or not channels,
        "channels": {c.name: {"delivered": 0, "failed": 0} for c in channels},
        "channels_down": [],
    }
    if not groups:
        return Outcome(summary=summary)
    deadline = Deadline(invocation, cfg.margin_s, sleep)
    enrichments = {}
    if cfg.enrich:
        from .enrich import enrich

        enrichments = enrich(groups, cfg, deadline, log)
    alerts = [(g, build_alert(g, cfg.console_url, enrichments.get(g.key))) for g in groups]
    if not channels:
        for _, alert in alerts:
            _log_preview(alert, cfg, log)
        return Outcome(summary=summary)
    if cfg.dry_run:
        for _, alert in alerts:
            for channel in channels:
                log.info(
                    "alert (dry run)", channel=channel.name, group=str(alert.key), body=channel.render(alert)
                )
        return Outcome(summary=summary)
    sender = Sender(
        deadline, timeout_s=cfg.timeout_s, max_attempts=cfg.max_attempts, wall_clock=wall_clock, post=post
    )
    failed_groups = _deliver_all(alerts, channels, sender, summary, log)
    return _outcome(summary, failed_groups)


def _log_preview(alert: Alert, cfg: AlertConfig, log: JsonLogger) -> None:
    """Dry run without channels: the message as readable lines, one JSON log line per message."""
    lines = body_lines(alert, PLAIN, Budget(min(cfg.max_items, alert.total), 300))
    log.info(
        "alert (dry run: no channel configured)",
        channel=DRY_RUN_CHANNEL,
        group=str(alert.key),
        severity=alert.severity.badge,
        title=alert.title,
        lines=lines,
    )


def _deliver_all(
    alerts: list[tuple[Group, Alert]],
    channels: list[Channel],
    sender: Sender,
    summary: dict[str, Any],
    log: JsonLogger,
) -> list[Group]:
    """Every group to every channel, the channels at once, each channel's groups in order."""
    # Imported here, like shared.http: only a run that sends needs it.
    from concurrent.futures import ThreadPoolExecutor

    report = _Report(summary, log)
    # Each request's timeout is bounded by the time left, so every worker ends before SCF's limit
    # and leaving the block (shutdown with wait=True) returns in time.
    with ThreadPoolExecutor(max_workers=min(len(channels), MAX_WORKERS)) as pool:
        futures = [pool.submit(_deliver_channel, channel, alerts, sender, report) for channel in channels]
    for future in futures:
        future.result()  # a worker's unexpected error is raised here, as it was before threads
    summary["channels_down"] = sender.down()
    return [group for index, (group, _) in enumerate(alerts) if index in report.missed]


def _deliver_channel(
    channel: Channel, alerts: list[tuple[Group, Alert]], sender: Sender, report: _Report
) -> None:
    """One channel's worker: its groups one after the other, which keeps within the robot's rate limit."""
    for index, (_, alert) in enumerate(alerts):
        report.add(index, channel, alert, sender.send(channel, channel.render(alert)))


class _Report:
    """Counts and log lines of the deliveries: one worker at a time, so that lines never interleave."""

    def __init__(self, summary: dict[str, Any], log: JsonLogger) -> None:
        self.summary = summary
        self.log = log
        self.missed: set[int] = set()
        self._lock = threading.Lock()

    def add(self, index: int, channel: Channel, alert: Alert, result: Result) -> None:
        """Count and log one group's delivery to one channel."""
        fields = {
            "channel": channel.name,
            "group": str(alert.key),
            "events": alert.total,
            "attempts": result.attempts,
            # The whole URL is a secret (the logger blanks it); its host says which service it is.
            "host": urlparse(channel.url).hostname or "",
            "url": redact_url(channel.url),
        }
        with self._lock:
            counts = self.summary["channels"][channel.name]
            if result.ok:
                counts["delivered"] += 1
                self.log.info("alert delivered", **fields)
            else:
                counts["failed"] += 1
                self.missed.add(index)
                self.log.error("alert not delivered", reason=result.detail, **fields)


def _outcome(summary: dict[str, Any], failed: list[Group]) -> Outcome:
    summary["delivered"] = sum(c["delivered"] for c in summary["channels"].values())
    summary["failed"] = sum(c["failed"] for c in summary["channels"].values())
    if not failed:
        return Outcome(summary=summary)
    records = frozenset(index for group in failed for index in group.records)
    shown = ", ".join(str(g.key) for g in failed[:5])
    reason = f"{summary['failed']} alert delivery(ies) failed for {len(failed)} group(s): {shown}"
    return Outcome(summary=summary, retry_records=records, retry_reason=reason)
