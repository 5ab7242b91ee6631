"""Arbitrary and mutated envelopes never raise, and every record is accounted for."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.envelope import parse_trigger_event
from tests.fakes.batch.scenario import sample_cloud
from tests.helpers import event_files, load_event, load_handler
from tests.test_envelope import _accounting_holds


@pytest.fixture(autouse=True)
def _batch_api(monkeypatch):
    """retry_interrupted calls the Batch API on interrupted samples: the fake answers them all."""
    with sample_cloud(monkeypatch):
        yield


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

event_entry = st.fixed_dictionaries(
    {},
    optional={
        "EventName": st.sampled_from(["JOB_FAILED", "COMPUTE_NODE_CREATED", "NOPE", ""]) | json_values,
        "EventTime": st.sampled_from(["2026-01-01T00:00:00Z", "bad"]) | json_values,
        "Region": json_values,
        "Batch": st.dictionaries(
            st.sampled_from(["JobId", "TaskInstanceIndex", "Cpu", "Mem", "ResourceCreatedTime", "EnvId"]),
            json_values,
        )
        | json_values,
        "EventVars": st.lists(
            st.dictionaries(st.sampled_from(["Name", "Value", "name", "value"]), json_values)
        )
        | json_values,
    },
)


def _body(message: Any, encoding: str) -> Any:
    if encoding == "dict":
        return message
    text = json.dumps(message, default=str)
    return base64.b64encode(text.encode()).decode() if encoding == "base64" else text


cmq_record = st.builds(
    lambda message, encoding, msg_id, tag: {
        "CMQ": {"msgId": msg_id, "topicName": "t", "msgBody": _body(message, encoding), "msgTag": tag}
    },
    st.one_of(st.fixed_dictionaries({"Events": st.lists(event_entry, max_size=4)}), json_values),
    st.sampled_from(["json", "base64", "dict"]),
    st.text(max_size=8) | st.integers() | st.none(),
    st.text(max_size=10) | st.lists(st.text(max_size=5)) | st.none(),
)
trigger_events = st.fixed_dictionaries({"Records": st.lists(cmq_record | json_values, max_size=5)})


@given(trigger_events)
def test_generated_trigger_events_never_raise_and_are_accounted_for(event):
    _accounting_holds(event)


@given(json_values)
def test_any_json_value_is_an_envelope_or_one_rejection(event):
    parsed = parse_trigger_event(event)
    assert parsed.records >= 1


def _mutate(data: Any, path: list[Any], value: Any) -> Any:
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _paths(data: Any, prefix: list[Any]) -> list[list[Any]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, child in data.items():
            out += _paths(child, [*prefix, key])
    elif isinstance(data, list):
        for index, child in enumerate(data):
            out += _paths(child, [*prefix, index])
    return out


SAMPLES = event_files()


@given(st.sampled_from(SAMPLES), st.data(), json_values)
def test_mutated_samples_never_raise_in_any_handler(name, data, value):
    event = load_event(name)
    paths = _paths(event, [])
    if paths:
        path = data.draw(st.sampled_from(paths))
        event = _mutate(copy.deepcopy(event), path, value)
    _accounting_holds(event)
    parsed = parse_trigger_event(event)
    for function in ("alert_failures", "retry_interrupted", "log_node_churn"):
        # A fresh fake Batch API and ledger per example: the retry path's API branches run every
        # time, not only for the first interrupted sample.
        with pytest.MonkeyPatch.context() as patch, sample_cloud(patch):
            summary = _HANDLERS[function].main_handler(copy.deepcopy(event), {"time_limit_in_ms": 30000})
        assert (summary["records"], summary["events"], summary["rejected"]) == (
            parsed.records,
            len(parsed.events),
            len(parsed.rejections),
        )
        json.dumps(summary)


_HANDLERS = {f: load_handler(f) for f in ("alert_failures", "retry_interrupted", "log_node_churn")}
