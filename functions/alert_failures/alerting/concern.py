"""The alert_failures concern: group, silence, inhibit, render, deliver everywhere, report what failed."""

from __future__ import annotations

import time
from _thread import allocate_lock  # threading.Lock itself, without importing threading
from datetime import datetime, timezone
from urllib.parse import urlparse

from shared.catalogue import EventName
from shared.concern import Concern, Outcome
from shared.invocation import Invocation
from shared.log import JsonLogger, redact_url
from shared.models import BatchEvent, ParsedInput
from shared.record import Record

from .alert import build_alert
from .channels import Channel, build_channels
from .compose import PLAIN, Budget
from .config import AlertConfig, load_config
from .delivery import Deadline, Post, Result, Sender
from .grouping import Group, group_events
from .inhibition import inhibit
from .message import Message, alert_message, title_text
from .outbox import Outbox, Payload

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

if TYPE_CHECKING:
    from .recovery import Recovery

DRY_RUN_CHANNEL = "text"


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


class _Sorted(Record):
    """A run's events sorted out: failure groups, JOB_SUCCEED groups, and what was left out."""

    __slots__ = ("duplicates", "groups", "silenced", "succeeded")

    def __init__(self, groups: list[Group], succeeded: list[Group], duplicates: int, silenced: int) -> None:
        self.groups = groups
        self.succeeded = succeeded
        self.duplicates = duplicates
        self.silenced = silenced


def _grouped(
    events: list[BatchEvent], cfg: AlertConfig, invocation: Invocation, now: datetime, log: JsonLogger
) -> _Sorted:
    """Failure groups and JOB_SUCCEED groups, deduplicated and silenced."""
    recovering = [e for e in events if cfg.recovery and e.name is EventName.JOB_SUCCEED]
    failing = [e for e in events if not (cfg.recovery and e.name is EventName.JOB_SUCCEED)]
    groups, duplicates = group_events(failing, invocation.region)
    succeeded, repeated = group_events(recovering, invocation.region)
    for event in duplicates + repeated:
        log.info(
            "duplicate event skipped",
            event_name=event.name_raw,
            msg_id=event.source.msg_id,
            position=event.position,
            fingerprint=event.fingerprint,
        )
    silenced = 0
    if cfg.silences:  # imported on the runs that have rules to apply
        from .silencing import active_rules, silence

        rules = active_rules(cfg.silences, now, log)
        groups, silenced = silence(groups, rules, log)
        succeeded, silenced_too = silence(succeeded, rules, log)
        silenced += silenced_too
    return _Sorted(groups, succeeded, len(duplicates) + len(repeated), silenced)


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
    """One message per channel per group (or one digest); the records some channel missed come back."""
    cfg = config or load_config()
    wanted = [e for e in parsed.known_events if e.name in cfg.events]
    now = datetime.fromtimestamp(wall_clock(), timezone.utc)
    run = _grouped(wanted, cfg, invocation, now, log)
    groups, folds, inhibited = inhibit(run.groups)
    succeeded = run.succeeded
    channels = build_channels(cfg)
    summary: dict[str, Any] = {
        "alert_events": sum(len(g.events) for g in groups),
        "duplicates": run.duplicates,
        "groups": len(groups),
        "silenced": run.silenced,
        "inhibited": inhibited,
        "recovered": 0,
        "digest": False,
        "dry_run": cfg.dry_run or not channels,
        "channels": {c.name: {"delivered": 0, "failed": 0} for c in channels},
        "channels_down": [],
    }
    if not groups and not succeeded:
        return Outcome(summary=summary)
    deadline = Deadline(invocation, cfg.margin_s, sleep)
    unchecked: set[int] = set()
    recoveries: list[Recovery] = []
    if succeeded:
        from .recover import find_recoveries

        found = find_recoveries(succeeded, cfg, deadline, log)
        recoveries, unchecked = found.recoveries, found.unchecked
    summary["recovered"] = len(recoveries)
    storm = len(groups) + len(recoveries) > cfg.digest_after
    enrichments = {}
    if cfg.enrich and not storm:  # a digest has no room for it, and a storm no time
        from .enrich import enrich

        enrichments = enrich(groups, cfg, deadline, log)
    alerts = [build_alert(g, cfg.console_url, enrichments.get(g.key), folds.get(g.key, ())) for g in groups]
    digest = None
    if storm:
        from .digest import build_digest

        digest = build_digest(alerts, recoveries, cfg.console_url)
    outbox = Outbox(tuple(alerts), tuple(recoveries), digest)
    summary["digest"] = storm
    if not outbox.units:
        return _outcome(summary, outbox, set(), unchecked)
    if not channels:
        for label, message in _messages(outbox, cfg):
            _log_preview(label, message, log)
        return _outcome(summary, outbox, set(), unchecked)
    if cfg.dry_run:
        for channel in channels:
            for payload in channel.payloads(outbox):
                log.info("alert (dry run)", channel=channel.name, group=payload.label, body=payload.body)
        return _outcome(summary, outbox, set(), unchecked)
    from .dispatch import deliver_all

    sender = Sender(
        deadline, timeout_s=cfg.timeout_s, max_attempts=cfg.max_attempts, wall_clock=wall_clock, post=post
    )
    report = _Report(summary, log)
    deliver_all(outbox, channels, sender, report.add)
    summary["channels_down"] = sender.down()
    return _outcome(summary, outbox, report.missed, unchecked)


class _Report:
    """Counts and log lines of the deliveries: one worker at a time, so that lines never interleave."""

    def __init__(self, summary: dict[str, Any], log: JsonLogger) -> None:
        self.summary = summary
        self.log = log
        self.missed: set[int] = set()
        self._lock = allocate_lock()

    def add(self, payload: Payload, channel: Channel, result: Result) -> None:
        """Count and log one payload's delivery to one channel."""
        fields = {
            "channel": channel.name,
            "group": payload.label,
            "events": payload.events,
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
                self.missed.update(payload.units)
                self.log.error("alert not delivered", reason=result.detail, **fields)


def _messages(outbox: Outbox, cfg: AlertConfig) -> list[tuple[str, Message]]:
    """What a chat channel would get, as (group, message)."""
    if outbox.digest is not None:
        from .digest import digest_message

        return [(f"digest of {len(outbox.units)} groups", digest_message(outbox.digest))]
    out = [(str(a.key), alert_message(a, cfg.max_items)) for a in outbox.alerts]
    if outbox.recoveries:
        from .recovery import recovery_message

        out += [(str(r.key), recovery_message(r)) for r in outbox.recoveries]
    return out


def _log_preview(label: str, message: Message, log: JsonLogger) -> None:
    """Dry run without channels: the message as readable lines, one JSON log line per message."""
    lines = message.lines(PLAIN, Budget(message.most, message.clips[0]), True)
    log.info(
        "alert (dry run: no channel configured)",
        channel=DRY_RUN_CHANNEL,
        group=label,
        severity=message.severity.badge,
        title=title_text(message, PLAIN.escape),
        lines=lines,
    )


def _outcome(summary: dict[str, Any], outbox: Outbox, missed: set[int], unchecked: set[int]) -> Outcome:
    summary["delivered"] = sum(c["delivered"] for c in summary["channels"].values())
    summary["failed"] = sum(c["failed"] for c in summary["channels"].values())
    records = outbox.records(missed) | unchecked
    if not records:
        return Outcome(summary=summary)
    reasons = []
    if missed:
        labels = [str(a.key) for u, a in enumerate(outbox.alerts) if u in missed]
        labels += [str(r.key) for i, r in enumerate(outbox.recoveries) if outbox.recovery_unit(i) in missed]
        shown = ", ".join(labels[:5])
        reasons.append(f"{summary['failed']} alert delivery(ies) failed for {len(missed)} group(s): {shown}")
    if unchecked:
        reasons.append("recovery checks could not finish")
    return Outcome(summary=summary, retry_records=frozenset(records), retry_reason="; ".join(reasons))
