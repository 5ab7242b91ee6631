"""RETRY_RULES and the other settings of retry_interrupted."""

from __future__ import annotations

import pytest
from retrying.config import DEFAULT_EVENTS, load_config, max_attempts_for
from retrying.rules import FailedInstance, evaluate, parse_rules

from shared.catalogue import EventName
from shared.errors import ConfigError

KILLED = FailedInstance("render", 0, 137, "Task instance exited with a non-zero code")
BUG = FailedInstance("render", 1, 1, "Task instance exited with a non-zero code", "KeyError: 'frame'")
LOST = FailedInstance("render", 2, None, "Spot instance reclaimed")


def test_no_rules_retry_every_failure():
    # GIVEN no RETRY_RULES / WHEN evaluated / THEN every failure may be retried
    assert evaluate(parse_rules(""), [KILLED, BUG, LOST]).retry


def test_first_matching_rule_decides_per_instance():
    # GIVEN rules that retry kills and lost instances, then exit on anything else
    rules = parse_rules("exit:137=retry; exit:none=retry; *=exit")
    # WHEN each instance is evaluated alone
    # THEN the kill and the lost instance are retried, the bug is not
    assert evaluate(rules, [KILLED]).retry
    assert evaluate(rules, [LOST]).retry
    verdict = evaluate(rules, [BUG])
    assert not verdict.retry and "render[1]" in verdict.reason and "*=exit" in verdict.reason


def test_one_code_bug_declines_the_whole_job():
    # GIVEN rules that exit on exit code 1 / WHEN a job has a kill and a bug / THEN the job is declined
    assert not evaluate(parse_rules("exit:1=exit"), [KILLED, BUG]).retry


def test_reason_globs_match_either_reason_case_insensitively():
    # GIVEN a reason rule and a combined rule
    rules = parse_rules("reason:*spot*=retry; exit:1&reason:*keyerror*=exit")
    # THEN StateReason and StateDetailedReason both count, and & needs every condition
    assert evaluate(rules, [LOST]).retry
    assert not evaluate(rules, [BUG]).retry
    assert evaluate(rules, [FailedInstance("t", 0, 1, "other")]).retry


@pytest.mark.parametrize(
    "text", ["exit=retry", "exit:137=maybe", "code:1=exit", "exit:137", "=exit", "exit:1&=exit"]
)
def test_malformed_rules_name_the_setting_and_the_rule(text):
    # GIVEN a malformed rule / WHEN parsed / THEN ConfigError names RETRY_RULES
    with pytest.raises(ConfigError, match="RETRY_RULES"):
        parse_rules(text)


def test_defaults():
    # GIVEN no settings / WHEN loaded / THEN the defaults
    config = load_config({})
    assert config.events == DEFAULT_EVENTS
    assert (config.max_attempts, config.on_exhausted, config.dry_run, config.ledger) == (
        3,
        "keep",
        False,
        "tags",
    )
    assert config.tag_key == "batch-events-retry" and config.rules == ()


def test_settings_are_read():
    env = {
        "RETRY_EVENTS": "failures",
        "RETRY_MAX_ATTEMPTS": "5",
        "RETRY_ON_EXHAUSTED": "Terminate",
        "RETRY_DRY_RUN": "yes",
        "RETRY_LEDGER": "memory",
        "RETRY_RULES": "*=exit",
        "BATCH_ENDPOINT": "batch.internal.tencentcloudapi.com",
        "RETRY_ACCOUNT_UIN": "100000000001",
    }
    config = load_config(env)
    assert EventName.JOB_FAILED in config.events and config.max_attempts == 5
    assert config.terminate_when_done and config.dry_run and config.ledger == "memory"
    assert config.endpoint == "batch.internal.tencentcloudapi.com" and len(config.rules) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETRY_MAX_ATTEMPTS", "-1"),
        ("RETRY_MAX_ATTEMPTS", "three"),
        ("RETRY_ON_EXHAUSTED", "delete"),
        ("RETRY_LEDGER", "redis"),
        ("RETRY_DRY_RUN", "perhaps"),
        ("RETRY_EVENTS", "JOB_EXPLODED"),
        ("RETRY_TAG_KEY", "qcloud:retry"),
        ("RETRY_TAG_KEY", "has space"),
        ("RETRY_ACCOUNT_UIN", "uin-1"),
    ],
)
def test_bad_settings_are_errors_naming_the_setting(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


@pytest.mark.parametrize(
    ("value", "expected", "warns"),
    [(None, 3, False), ("1", 1, False), ("0", 0, False), (" 7 ", 7, False), ("x", 3, True), ("101", 3, True)],
)
def test_max_retries_event_var(value, expected, warns):
    job_vars = {} if value is None else {"max_retries": value}
    limit, warning = max_attempts_for(job_vars, 3)
    assert limit == expected and (warning is not None) == warns


def test_rules_decline_when_no_failed_instance_can_be_checked():
    verdict = evaluate(parse_rules("exit:137=retry; *=exit"), [])
    assert not verdict.retry and "no failed task instance" in verdict.reason
