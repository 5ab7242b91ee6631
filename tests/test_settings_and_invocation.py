from __future__ import annotations

import functools
import time
import types

import pytest

from shared.catalogue import FAILURE_EVENTS, EventName
from shared.errors import ConfigError
from shared.invocation import DEFAULT_TIME_LIMIT_MS, Invocation
from shared.settings import env_bool, env_choice, env_events, env_int, env_list


def test_list_and_bool_settings():
    assert env_list("X", {"X": " a, ,b "}) == ["a", "b"]
    assert env_bool("X", env={"X": "yes"}) is True
    assert env_bool("X", default=True, env={}) is True
    with pytest.raises(ConfigError, match="X='maybe'"):
        env_bool("X", env={"X": "maybe"})


def test_int_setting_names_itself_and_the_bad_value():
    assert env_int("N", 3, {}) == 3
    with pytest.raises(ConfigError, match="N='three'"):
        env_int("N", 3, {"N": "three"})
    with pytest.raises(ConfigError, match="below the minimum"):
        env_int("N", 3, {"N": "-1"}, minimum=0)


def test_event_list_setting_rejects_unknown_names_with_the_valid_list():
    assert env_events("E", FAILURE_EVENTS, {}) == FAILURE_EVENTS
    assert env_events("E", FAILURE_EVENTS, {"E": "JobFailed"}) == {EventName.JOB_FAILED}
    with pytest.raises(ConfigError, match=r"E: unknown event name 'JOB_EXPLODED'.*JOB_RUNNING"):
        env_events("E", FAILURE_EVENTS, {"E": "JOB_FAILED,JOB_EXPLODED"})


def test_choice_setting():
    assert env_choice("C", ("keep", "terminate"), "keep", {}) == "keep"
    with pytest.raises(ConfigError, match="one of: keep, terminate"):
        env_choice("C", ("keep", "terminate"), "keep", {"C": "explode"})


def test_invocation_reads_dict_object_and_none_and_counts_down():
    now = [100.0]
    inv = Invocation.from_context({"request_id": "r1", "time_limit_in_ms": "5000"}, clock=lambda: now[0])
    assert inv.request_id == "r1" and inv.time_limit_ms == 5000
    now[0] += 2
    assert inv.remaining_s() == pytest.approx(3.0)
    assert inv.remaining_s(margin_s=4) == 0.0
    obj = Invocation.from_context(types.SimpleNamespace(request_id="r2", memory_limit_in_mb=64))
    assert obj.request_id == "r2" and obj.memory_limit_mb == 64
    assert Invocation.from_context(None).time_limit_ms == DEFAULT_TIME_LIMIT_MS


def test_invocation_built_with_a_fake_clock_starts_at_that_clock():
    # GIVEN a fake clock far from the real monotonic clock (a machine up for days, or for seconds)
    for now in (0.0, 10.0, 1e9):
        # WHEN an Invocation is built with it and no explicit start
        inv = Invocation(time_limit_ms=20000, clock=functools.partial(float, now))
        # THEN its start is that clock's now, so the whole time limit is left
        assert inv.started == now
        assert inv.remaining_s() == 20.0


def test_invocation_replace_keeps_the_start_and_equality_ignores_the_clock():
    # GIVEN an invocation started at t=100 on a fake clock
    inv = Invocation(request_id="r", time_limit_ms=60000, clock=functools.partial(float, 100.0))
    # WHEN the push path bounds its time limit
    bounded = inv.replace(time_limit_ms=13000)
    # THEN the copy has the same start and clock, only the limit changed, and the original is as it was
    assert (bounded.started, bounded.time_limit_ms, inv.time_limit_ms) == (100.0, 13000, 60000)
    assert bounded.remaining_s() == 13.0
    assert Invocation(request_id="r", started=1.0, clock=time.monotonic) == Invocation(
        request_id="r", started=1.0, clock=time.time
    )
    with pytest.raises(TypeError, match="unexpected keyword"):
        inv.replace(time_limit=1)


def test_each_outcome_gets_its_own_summary():
    from shared.concern import Outcome

    first, second = Outcome(), Outcome()
    first.summary["sent"] = 1
    assert second.summary == {} and Outcome(retry_records=frozenset({1})) != Outcome()
