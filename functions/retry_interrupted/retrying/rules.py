"""RETRY_RULES: which failures are worth a retry, by exit code and reason (like AWS Batch's evaluateOnExit).

    RETRY_RULES="exit:none=retry; reason:*spot*=retry; exit:137=retry; *=exit"

Rules are separated by `;` and read in order; for each failed task instance the first rule whose
conditions all match gives the action, `retry` or `exit`. Conditions (join several with `&`):
`exit:<glob>` matches the ExitCode (`exit:none` when the instance has no exit code: it never ran
or was lost with its node), `reason:<glob>` matches StateReason or StateDetailedReason
(case-insensitive), `*` matches anything. A job is retried unless one of its failed instances gets
`exit`; with no rule matching an instance, it is retried (no setting: every failure is retried).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from shared.errors import ConfigError
from shared.record import NamedTuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Iterable, Optional

ACTIONS = ("retry", "exit")


class FailedInstance(NamedTuple):
    """What DescribeTask says about one failed task instance."""

    task_name: str
    index: int  # type: ignore[assignment]  # the field shadows tuple.index, on purpose
    exit_code: Optional[int]
    reason: str = ""
    detailed_reason: str = ""


class Condition(NamedTuple):
    """One `field:glob` test (field `exit`, `reason` or `*`)."""

    field: str
    pattern: str

    def matches(self, instance: FailedInstance) -> bool:
        """True when the instance satisfies this condition."""
        if self.field == "*":
            return True
        if self.field == "exit":
            code = "none" if instance.exit_code is None else str(instance.exit_code)
            return fnmatchcase(code, self.pattern)
        texts = (instance.reason, instance.detailed_reason)
        return any(fnmatchcase(text.lower(), self.pattern) for text in texts if text)


class Rule(NamedTuple):
    """Conditions that must all hold, and the action when they do."""

    text: str
    conditions: tuple[Condition, ...]
    action: str

    def matches(self, instance: FailedInstance) -> bool:
        """True when every condition holds for the instance."""
        return all(condition.matches(instance) for condition in self.conditions)


def _condition(text: str, setting: str, rule: str) -> Condition:
    word = text.strip()
    if word == "*":
        return Condition("*", "*")
    field, sep, pattern = word.partition(":")
    field = field.strip().lower()
    pattern = pattern.strip().lower()
    if not sep or field not in ("exit", "reason") or not pattern:
        raise ConfigError(
            f"{setting}: condition {word!r} in rule {rule!r} is not exit:<glob>, reason:<glob> or *"
        )
    return Condition(field, pattern)


def parse_rules(text: str, *, setting: str = "RETRY_RULES") -> tuple[Rule, ...]:
    """Parse the setting; ConfigError names the setting and the rule that is wrong."""
    rules = []
    for raw in text.split(";"):
        rule = raw.strip()
        if not rule:
            continue
        conditions, sep, action = rule.rpartition("=")
        action = action.strip().lower()
        if not sep or action not in ACTIONS or not conditions.strip():
            raise ConfigError(f"{setting}: rule {rule!r} is not <conditions>=retry or <conditions>=exit")
        parts = tuple(_condition(part, setting, rule) for part in conditions.split("&"))
        rules.append(Rule(rule, parts, action))
    return tuple(rules)


class Verdict(NamedTuple):
    """Whether the rules allow a retry, and which rule and instance decided otherwise."""

    retry: bool
    reason: str = ""


def evaluate(rules: Iterable[Rule], instances: Iterable[FailedInstance]) -> Verdict:
    """`exit` for any failed instance declines the whole job (RetryJobs would rerun the bug too)."""
    ordered = tuple(rules)
    found = tuple(instances)
    if ordered and not found:
        # No evidence either way: RETRY_RULES exist to keep code bugs from being rerun.
        return Verdict(False, "RETRY_RULES are set but DescribeTask showed no failed task instance to check")
    for instance in found:
        rule = next((r for r in ordered if r.matches(instance)), None)
        if rule is not None and rule.action == "exit":
            code = "none" if instance.exit_code is None else instance.exit_code
            return Verdict(
                False,
                f"rule {rule.text!r} says exit for {instance.task_name}[{instance.index}] "
                f"(exit code {code}, reason {instance.reason!r})",
            )
    return Verdict(True)
