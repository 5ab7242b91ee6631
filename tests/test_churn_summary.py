"""log_node_churn: the churn_summary arithmetic (counts, nodes, rates, ages) per environment."""

from __future__ import annotations

import itertools
import json

import pytest
from churn.records import is_churn_event, node_event_record
from churn.summary import Churn, rate, spread
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.catalogue import EventName
from shared.envelope import parse_trigger_event
from tests.helpers import json_lines, load_event, load_handler

_TICKS = itertools.count()
NODE_EVENTS = (
    "COMPUTE_NODE_CREATED",
    "COMPUTE_NODE_CREATION_FAILED",
    "COMPUTE_NODE_RUNNING",
    "COMPUTE_NODE_ABNORMAL",
    "COMPUTE_NODE_DELETING",
)


def _record(event, node="node-1", env="env-1", age=None, at=None, **extra):
    record = {"kind": "node_event", "event": event, "env_id": env, "node_id": node, "node_age_s": age}
    # a distinct time per record built: each is its own event unless a test says otherwise
    record["event_time"] = at or f"2026-11-20T08:00:00.{next(_TICKS):06d}Z"
    record.update(extra)
    return record


def _summaries(records):
    churn = Churn()
    for record in records:
        churn.add(record)
    return churn.summaries()


def test_lifecycle_sample_summary_figures(capsys):
    # GIVEN one environment: env created, nodes a1 and b2 created, c3 failing creation,
    # a1 running, b2 abnormal then deleted after 69 min, a1 deleted after 3 h
    load_handler("log_node_churn").main_handler(load_event("cmq_topic_churn_env_lifecycle.json"), None)
    # WHEN the function summarises it
    (line,) = [x for x in json_lines(capsys.readouterr().out) if x.get("kind") == "churn_summary"]
    # THEN the figures are these
    assert line["env_id"] == "env-churn001"
    assert line["env_name"] == "渲染集群-华南"
    assert line["region"] == "ap-guangzhou"
    assert line["counts"] == {
        "COMPUTE_ENV_CREATED": 1,
        "COMPUTE_NODE_ABNORMAL": 1,
        "COMPUTE_NODE_CREATED": 2,
        "COMPUTE_NODE_CREATION_FAILED": 1,
        "COMPUTE_NODE_DELETING": 2,
        "COMPUTE_NODE_RUNNING": 1,
    }
    assert line["events"] == 8
    assert (line["nodes_seen"], line["abnormal_nodes"], line["abnormal_rate"]) == (3, 1, 0.3333)
    assert (line["creation_attempts"], line["creation_failures"]) == (3, 1)
    assert line["creation_failure_rate"] == 0.3333
    # ages 120, 180, 180, 300, 3840, 4140, 10800 s
    assert line["node_age_s"] == {"min": 120, "median": 300, "max": 10800, "known": 7}
    assert line["lifetime_s"] == {"min": 4140, "median": 7470, "max": 10800, "known": 2}


def test_rates_are_null_without_a_denominator():
    # GIVEN only environment events WHEN summarised THEN no nodes, and rates are null rather than 0
    (s,) = _summaries([_record("COMPUTE_ENV_CREATED", node=None), _record("COMPUTE_ENV_DELETED", node=None)])
    assert s["nodes_seen"] == 0
    assert (s["abnormal_rate"], s["creation_failure_rate"]) == (None, None)
    assert s["node_age_s"] == {"min": None, "median": None, "max": None, "known": 0}


def test_rates_count_distinct_nodes_not_events():
    # GIVEN one node abnormal three times and another healthy
    records = [_record("COMPUTE_NODE_ABNORMAL", node="n1", age=a) for a in (10, 20, 30)]
    records.append(_record("COMPUTE_NODE_RUNNING", node="n2", age=5))
    # WHEN summarised THEN one abnormal node out of two
    (s,) = _summaries(records)
    assert (s["nodes_seen"], s["abnormal_nodes"], s["abnormal_rate"]) == (2, 1, 0.5)
    assert s["counts"]["COMPUTE_NODE_ABNORMAL"] == 3


def test_creation_failure_rate_is_failures_over_attempts():
    # GIVEN three nodes created and one failing creation, plus a running node never seen created
    records = [_record("COMPUTE_NODE_CREATED", node=f"n{i}") for i in range(3)]
    records += [
        _record("COMPUTE_NODE_CREATION_FAILED", node="bad"),
        _record("COMPUTE_NODE_RUNNING", node="old"),
    ]
    # WHEN summarised THEN 1 failure out of 4 attempts; the old node is seen but was not an attempt
    (s,) = _summaries(records)
    assert (s["creation_attempts"], s["creation_failures"], s["creation_failure_rate"]) == (4, 1, 0.25)
    assert s["nodes_seen"] == 5


def test_median_of_an_even_count_is_the_mean_of_the_middle_two():
    # GIVEN four ages WHEN spread THEN the median lies between the middle two
    assert spread([10, 40, 20, 30]) == {"min": 10, "median": 25, "max": 40, "known": 4}
    assert spread([1.5, 2.25]) == {"min": 1.5, "median": 1.875, "max": 2.25, "known": 2}


def test_negative_ages_count_as_zero_and_unknown_ages_are_left_out():
    # GIVEN ages -3 (clock skew), unknown, and 60
    records = [
        _record("COMPUTE_NODE_CREATED", node="a", age=-3),
        _record("COMPUTE_NODE_RUNNING", node="a", age=None),
        _record("COMPUTE_NODE_DELETING", node="a", age=60),
        _record("COMPUTE_NODE_RUNNING", node="b", age="12"),  # a string is not a number
    ]
    # WHEN summarised THEN two known ages, the skewed one as 0; the deletion age is the lifetime
    (s,) = _summaries(records)
    assert s["node_age_s"] == {"min": 0, "median": 30, "max": 60, "known": 2}
    assert s["lifetime_s"] == {"min": 60, "median": 60, "max": 60, "known": 1}


def test_a_node_event_naming_no_node_counts_as_its_own_node():
    # GIVEN two creation failures with neither node nor instance id, and one with an instance id only
    records = [
        _record("COMPUTE_NODE_CREATION_FAILED", node=None, at="2026-11-20T08:01:00Z"),
        _record("COMPUTE_NODE_CREATION_FAILED", node=None, at="2026-11-20T08:02:00Z"),
        _record("COMPUTE_NODE_CREATION_FAILED", node=None, instance_id="ins-1", at="2026-11-20T08:03:00Z"),
    ]
    # WHEN summarised THEN three nodes, three failed attempts
    (s,) = _summaries(records)
    assert (s["nodes_seen"], s["creation_failures"], s["creation_failure_rate"]) == (3, 3, 1.0)


def test_environments_are_summarised_apart_sorted_with_the_unknown_one_last():
    # GIVEN events of env-b, of no env, and of env-a (renamed on the way)
    records = [
        _record("COMPUTE_NODE_CREATED", env="env-b"),
        _record("COMPUTE_NODE_CREATED", env=None, node="x"),
        _record("COMPUTE_NODE_CREATED", env="env-a", env_name="old", region="ap-shanghai"),
        _record("COMPUTE_NODE_RUNNING", env="env-a", env_name="new", region=None),
    ]
    # WHEN summarised
    summaries = _summaries(records)
    # THEN one per environment, the latest name and known region kept
    assert [s["env_id"] for s in summaries] == ["env-a", "env-b", None]
    assert (summaries[0]["env_name"], summaries[0]["region"], summaries[0]["events"]) == (
        "new",
        "ap-shanghai",
        2,
    )


def test_each_event_is_counted_once_by_its_name_environment_node_and_time():
    # GIVEN the same event twice, once from another delivery (another msg id and position)
    churn = Churn()
    record = _record("COMPUTE_NODE_CREATED", msg_id="m1", position=0)
    assert churn.add(record) is True
    assert churn.add({**record, "msg_id": "m2", "position": 3}) is False
    # THEN the second is refused and counted as a duplicate; the same node's next transition is not
    assert churn.add({**record, "event": "COMPUTE_NODE_RUNNING"}) is True
    assert churn.add({**record, "event_time": "2026-11-20T09:00:00Z"}) is True
    assert churn.duplicates == 1
    assert churn.summaries()[0]["events"] == 3


def test_records_without_a_time_fall_back_to_their_fingerprint_or_their_delivery():
    churn = Churn()
    old = {"kind": "node_event", "event": "COMPUTE_NODE_CREATED", "env_id": "e", "fingerprint": "f"}
    assert churn.add(old) is True and churn.add(dict(old)) is False
    new = {"kind": "node_event", "event": "COMPUTE_NODE_CREATED", "env_id": "e", "msg_id": "m", "position": 1}
    assert churn.add(new) is True and churn.add(dict(new)) is False
    assert churn.add({**new, "position": 2}) is True


def test_a_record_without_an_event_name_is_refused():
    # GIVEN a node_event record whose event is missing WHEN added THEN ValueError, nothing counted
    churn = Churn()
    with pytest.raises(ValueError, match="no event name"):
        churn.add({"kind": "node_event", "env_id": "env-1"})
    assert churn.summaries() == []


def test_rate_rounds_to_four_places():
    assert (rate(1, 3), rate(2, 3), rate(0, 5), rate(0, 0)) == (0.3333, 0.6667, 0.0, None)


_records = st.lists(
    st.builds(
        _record,
        st.sampled_from((*NODE_EVENTS, "COMPUTE_ENV_CREATED")),
        node=st.sampled_from(["n1", "n2", "n3", None]),
        env=st.sampled_from(["env-1", "env-2", None]),
        age=st.one_of(st.none(), st.integers(-100, 10**6), st.floats(0, 1e6)),
        at=st.sampled_from(["2026-11-20T08:00:00Z", "2026-11-20T08:00:01Z"]),
    ),
    max_size=60,
)


@given(_records)
def test_summary_invariants_hold_for_any_records(records):
    # GIVEN any node_event records WHEN summarised
    churn = Churn()
    counted = sum(churn.add(r) for r in records)
    summaries = churn.summaries()
    # THEN every distinct event is counted exactly once, in exactly one environment
    keys = {(r["event"], r["env_id"], r["node_id"], r["event_time"]) for r in records}
    assert sum(s["events"] for s in summaries) == counted == len(keys)
    assert counted + churn.duplicates == len(records)
    for s in summaries:
        assert sum(s["counts"].values()) == s["events"]
        # AND rates lie in [0, 1], and min <= median <= max
        for key in ("abnormal_rate", "creation_failure_rate"):
            assert s[key] is None or 0 <= s[key] <= 1
        assert s["abnormal_nodes"] <= s["nodes_seen"]
        assert s["creation_failures"] <= s["creation_attempts"] <= s["nodes_seen"]
        for stats in (s["node_age_s"], s["lifetime_s"]):
            if stats["known"]:
                assert 0 <= stats["min"] <= stats["median"] <= stats["max"]


@given(st.lists(st.one_of(st.integers(-(10**9), 10**9), st.floats(-1e9, 1e9)), min_size=1, max_size=50))
def test_median_is_what_statistics_computes(values):
    import statistics

    from churn.summary import median

    known = sorted(values)
    assert median(known) == statistics.median(known)


def _churn_state(churn):
    return (churn.duplicates, churn.seen, churn.summaries(), {k: repr(v) for k, v in churn.envs.items()})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(sorted(n.value for n in EventName if n.value.startswith("COMPUTE_"))),
                "env": st.sampled_from(["env-a", "env-b", "", "  ", None]),
                "node": st.sampled_from(["node-1", "node-2", "", None]),
                "instance": st.sampled_from(["ins-1", "", None]),
                "time": st.sampled_from(
                    [
                        *("2026-11-20T08:35:00Z", "2026-11-20T08:35:00.5+08:00", "soon", None),
                        # what 3.11's fromisoformat reads too: basic and week dates, padded texts
                        *("  20261120T083500.0Z", " \t20261120T083500.0Z", "2026-W47-5T08:35:00Z"),
                    ]
                ),
                "created": st.sampled_from(["2026-11-20T08:30:00Z", "2026-11-20T09:00:00Z", None]),
                "env_name": st.sampled_from(["render", " ", None]),
            }
        ),
        max_size=12,
    )
)
def test_the_functions_own_records_count_as_add_counts_them(items):
    # GIVEN node events as the envelope reads them (blank texts, missing nodes and times, repeats)
    entries = []
    for item in items:
        batch = {"EnvId": item["env"], "EnvName": item["env_name"], "ComputeNodeId": item["node"]}
        batch |= {"ComputeNodeInstanceId": item["instance"], "ResourceCreatedTime": item["created"]}
        entry = {
            "EventName": item["name"],
            "EventTime": item["time"],
            "Region": "ap-guangzhou",
            "Batch": batch,
        }
        entries.append({k: v for k, v in entry.items() if v is not None})
    body = json.dumps({"Events": entries}) if entries else json.dumps({"Events": [{"EventName": "X"}]})
    parsed = parse_trigger_event({"Records": [{"CMQ": {"msgId": "m-1", "msgBody": body}}]})
    records = [node_event_record(e) for e in parsed.known_events if is_churn_event(e)]
    # WHEN they are counted by add (the report's way) and by add_own (the function's)
    checked, own = Churn(), Churn()
    added = [checked.add(r) for r in records]
    owned = [own.add_own(r) for r in records]
    # THEN the answers and the figures are the same
    assert added == owned
    assert _churn_state(checked) == _churn_state(own)
