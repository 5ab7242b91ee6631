"""The storm digest: one chat message for a run with more groups than ALERT_DIGEST_AFTER.

It says how many jobs and environments, the events per name, then one line per group (most severe
first: interrupted, abnormal, failed, recovered) with its counts, first reason and console link,
as many as the channel's size limit allows, and "and N more".
"""

from __future__ import annotations

from collections import Counter

from shared.record import NamedTuple

from .alert import Alert
from .compose import Budget, Markup, counts_text
from .grouping import JOB
from .message import Message
from .recovery import Recovery
from .severity import Severity

MOST_LINES = 50  # more group lines than this fit no channel
CLIPS = (120, 60, 30)
CONSOLE_TEXT = "console"


class DigestLine(NamedTuple):
    """One group in the digest."""

    severity: Severity
    subject: str
    counts: tuple[tuple[str, int], ...]
    detail: str  # the first reason, folded failures, or how a job recovered
    link: str


class Digest(NamedTuple):
    """A run's groups in one message."""

    severity: Severity
    jobs: int
    envs: int
    recovered: int
    events: int
    counts: tuple[tuple[str, int], ...]
    lines: tuple[DigestLine, ...]
    link: str


def _line(alert: Alert) -> DigestLine:
    details = [f"reason {alert.reason}"] if alert.reason else []
    folded = sum(fold.failures for fold in alert.folds)
    if folded:
        details.append(f"{folded} task-instance failures on its nodes")
    subject = alert.subject.replace("Batch ", "", 1)
    return DigestLine(alert.severity, subject, alert.counts, "; ".join(details), alert.link)


def build_digest(alerts: list[Alert], recoveries: list[Recovery], console_base: str) -> Digest:
    """The digest of every alert and recovery of the run, most severe first."""
    counts: Counter[str] = Counter()
    for alert in alerts:
        counts.update(dict(alert.counts))
    ordered = sorted(alerts, key=lambda a: (-a.severity, a.key))
    lines = [_line(alert) for alert in ordered]
    lines += [
        DigestLine(Severity.RECOVERED, r.subject.replace("Batch ", "", 1), (), r.summary, r.link)
        for r in sorted(recoveries, key=lambda r: r.key)
    ]
    severity = max((a.severity for a in alerts), default=Severity.RECOVERED)
    return Digest(
        severity=severity,
        jobs=sum(1 for a in alerts if a.key.kind == JOB),
        envs=sum(1 for a in alerts if a.key.kind != JOB),
        recovered=len(recoveries),
        events=sum(a.total for a in alerts),
        counts=tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        lines=tuple(lines),
        link=f"{console_base}/job",
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _groups_text(digest: Digest) -> str:
    parts = [_count(digest.jobs, "job"), _count(digest.envs, "environment")]
    if digest.recovered:
        parts.append(_count(digest.recovered, "recovered job"))
    return f"{', '.join(parts)} ({len(digest.lines)} in all)"


def digest_line(line: DigestLine, markup: Markup, clip: int) -> str:
    """`[BADGE] job name (id) · counts · reason · console`."""
    parts = [markup.bold(f"[{line.severity.badge}]") + " " + markup.escape(line.subject, clip)]
    if line.counts:
        parts.append(counts_text(line.counts, markup))
    if line.detail:
        parts.append(markup.escape(line.detail, clip))
    parts.append(markup.link(CONSOLE_TEXT, line.link))
    return markup.bullet + " · ".join(parts)


def digest_message(digest: Digest) -> Message:
    """The digest as one chat message."""

    def lines(markup: Markup, budget: Budget, with_link: bool) -> list[str]:
        out: list[str] = []
        if digest.severity.note:
            out.append(markup.warn(markup.escape(digest.severity.note, 0)))
        out.append(f"{markup.bold('Groups')}: {_groups_text(digest)}")
        if digest.counts:
            counts = counts_text(digest.counts, markup)
            out.append(f"{markup.bold('Events')}: {counts} ({digest.events} in all)")
        shown = digest.lines[: budget.shown]
        out += [digest_line(line, markup, budget.clip) for line in shown]
        hidden = len(digest.lines) - len(shown)
        if hidden:
            out.append(f"and {hidden} more")
        if with_link:
            out.append(markup.link("Open the Batch console", digest.link))
        return out

    subject = f"Batch: {_count(len(digest.lines), 'alert')} in one run"
    most = min(MOST_LINES, len(digest.lines))
    # A digest of recoveries only is good news: it pings nobody, like a recovery notice.
    mention = digest.severity > Severity.RECOVERED
    return Message(digest.severity, subject, digest.link, lines, most, CLIPS, mention)
