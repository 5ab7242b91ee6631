"""ALERT_SILENCES: rules that keep matching events out of every channel, optionally until a time.

    ALERT_SILENCES="job:render-nightly-*@2026-12-24T00:00:00Z; env:env-test*&event:nodes"

Rules are `;`-separated; a rule is conditions joined by `&`, all of which must match an event:
`job:<glob>` (job name or id), `env:<glob>` (environment id or name), `event:<names or groups>`
(comma-separated, as ALERT_EVENTS takes them), `region:<glob>`, `var:<name>=<glob>` (an event var).
A rule may end with `@<ISO 8601 UTC time>`: it silences until then.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from shared.catalogue import EventName, UnknownEventNameError, parse_event_names
from shared.errors import ConfigError
from shared.models import BatchEvent
from shared.record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Optional

SETTING = "ALERT_SILENCES"
KINDS = ("job", "env", "event", "region", "var")
# The until part: the last `@` followed by a digit (an `@` inside a glob is kept, e.g. var:owner=*@corp).
_UNTIL = re.compile(r"@(\d[^@]*)$")


class Subject(NamedTuple):
    """What a rule is matched against: one event, with the names its group knows."""

    event: BatchEvent
    region: str
    job: tuple[str, ...]  # the job's id and name, where known
    env: tuple[str, ...]  # the environment's id and name, where known


class Condition(NamedTuple):
    """One `kind:value` condition."""

    kind: str
    pattern: str
    names: frozenset[EventName] = frozenset()
    var: str = ""

    def matches(self, subject: Subject) -> bool:
        """True when the subject satisfies the condition."""
        if self.kind == "event":
            return subject.event.name in self.names
        if self.kind == "var":
            value = subject.event.vars.get(self.var)
            return value is not None and fnmatchcase(value, self.pattern)
        candidates = {"job": subject.job, "env": subject.env, "region": (subject.region,)}[self.kind]
        return any(fnmatchcase(value, self.pattern) for value in candidates if value)


class Silence(NamedTuple):
    """One rule: its conditions, the time it ends (None: never), and its text for logs."""

    text: str
    conditions: tuple[Condition, ...]
    until: Optional[datetime] = None

    def active(self, now: datetime) -> bool:
        """False once the rule's time has passed."""
        return self.until is None or now < self.until

    def matches(self, subject: Subject) -> bool:
        """True when every condition matches."""
        return all(condition.matches(subject) for condition in self.conditions)


def _fail(rule: str, problem: str) -> ConfigError:
    return ConfigError(f"{SETTING}: rule {rule!r}: {problem}")


def _until(rule: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(rule, f"{text!r} is not an ISO 8601 time such as 2026-12-24T00:00:00Z") from None
    if moment.utcoffset() != timedelta(0):
        raise _fail(rule, f"{text!r} is not a UTC time: end it with Z")
    return moment


def _condition(rule: str, text: str) -> Condition:
    kind, colon, value = text.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    if not colon or kind not in KINDS:
        raise _fail(rule, f"{text!r} is not one of {', '.join(k + ':...' for k in KINDS)}")
    if not value:
        raise _fail(rule, f"{text!r} has nothing after '{kind}:'")
    if kind == "event":
        try:
            names = parse_event_names(value.split(","))
        except UnknownEventNameError as exc:
            raise _fail(rule, str(exc)) from None
        return Condition(kind, value, names=names)
    if kind == "var":
        name, equals, pattern = value.partition("=")
        if not equals or not name.strip():
            raise _fail(rule, f"{text!r} is not var:<name>=<glob>")
        return Condition(kind, pattern.strip(), var=name.strip())
    return Condition(kind, value)


def parse_rule(rule: str) -> Silence:
    """One rule; ConfigError names ALERT_SILENCES, the rule and what is wrong with it."""
    body, until = rule, None
    found = _UNTIL.search(rule)
    if found:
        body, until = rule[: found.start()], _until(rule, found.group(1).strip())
    parts = [part.strip() for part in body.split("&")]
    if not any(parts):
        raise _fail(rule, "a rule needs at least one condition (job:, env:, event:, region:, var:)")
    if not all(parts):
        raise _fail(rule, "an empty condition around '&'")
    return Silence(rule, tuple(_condition(rule, part) for part in parts), until)


def parse_silences(text: str) -> tuple[Silence, ...]:
    """Every rule of the setting, in order; blank rules are skipped."""
    return tuple(parse_rule(rule.strip()) for rule in text.split(";") if rule.strip())
