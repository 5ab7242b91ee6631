"""log_node_churn end to end: a 2,000-record event, the cold start, and its settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from churn.config import ChurnConfig, load_config

from shared.catalogue import EventName
from shared.errors import ConfigError
from tests.helpers import ROOT, json_lines, load_event, load_handler
from tools.generate_event import trigger_event

# (event, records, base64 bodies): 2,000 records in all, node ids node-0iy7wxyo-0..N-1 in each group.
BIG_MIX = (
    (EventName.COMPUTE_NODE_CREATED, 800, False),
    (EventName.COMPUTE_NODE_RUNNING, 700, True),
    (EventName.COMPUTE_NODE_ABNORMAL, 100, False),
    (EventName.COMPUTE_NODE_DELETING, 400, True),
)


def _big_event():
    records = []
    for name, count, encode in BIG_MIX:
        event = trigger_event(name, records=count, encode_base64=encode, msg_id_prefix=f"{name.value}-")
        records += event["Records"]
    return {"Records": records}


def test_a_two_thousand_record_event_gives_2000_lines_and_one_summary(capsys):
    # GIVEN a 2,000-record event of one environment
    # (800 nodes created, 700 running, 100 abnormal, 400 deleted)
    event = _big_event()
    assert len(event["Records"]) == 2000
    # WHEN the function handles it
    summary = load_handler("log_node_churn").main_handler(event, {"request_id": "big"})
    logs = json_lines(capsys.readouterr().out)
    # THEN every event is one node_event line and the summary adds them up
    assert (summary["records"], summary["node_events"], summary["rejected"]) == (2000, 2000, 0)
    assert len([x for x in logs if x.get("kind") == "node_event"]) == 2000
    (s,) = [x for x in logs if x.get("kind") == "churn_summary"]
    assert s["counts"] == {
        "COMPUTE_NODE_ABNORMAL": 100,
        "COMPUTE_NODE_CREATED": 800,
        "COMPUTE_NODE_DELETING": 400,
        "COMPUTE_NODE_RUNNING": 700,
    }
    assert (s["nodes_seen"], s["abnormal_nodes"], s["abnormal_rate"]) == (800, 100, 0.125)
    assert (s["creation_attempts"], s["creation_failures"], s["creation_failure_rate"]) == (800, 0, 0.0)
    # the generator creates every node at 08:30 and dates every event 08:35
    assert s["node_age_s"] == {"min": 300, "median": 300, "max": 300, "known": 2000}
    assert s["lifetime_s"]["known"] == 400


def test_handler_without_metrics_imports_neither_the_sdk_nor_requests():
    # GIVEN a fresh interpreter WHEN the handler runs on a node sample with CHURN_METRICS unset
    sample = "cmq_topic_churn_env_lifecycle.json"
    code = (
        f"import sys, json; sys.path[:0] = [{str(ROOT)!r}]\n"
        "from tools.invoke import load_handler\n"
        "from tests.helpers import load_event\n"
        f"load_handler('log_node_churn').main_handler(load_event({sample!r}), None)\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    # THEN its path used only Python and the standard library
    loaded = {m.split(".")[0] for m in json.loads(out.stderr)}
    assert not loaded & {"tencentcloud", "requests", "urllib3", "matplotlib"}
    assert '"kind":"churn_summary"' in out.stdout


def test_settings_default_to_no_metrics():
    # GIVEN no CHURN_* settings WHEN loaded THEN metrics are off
    assert load_config({}) == ChurnConfig(metrics=False, metrics_endpoint="", metrics_timeout_s=5)


def test_settings_are_read_from_the_environment():
    env = {"CHURN_METRICS": "1", "CHURN_METRICS_ENDPOINT": "monitor.internal.tencentcloudapi.com"}
    env["CHURN_METRICS_TIMEOUT_S"] = "3"
    assert load_config(env) == ChurnConfig(True, "monitor.internal.tencentcloudapi.com", 3)


@pytest.mark.parametrize(
    ("name", "value"),
    [("CHURN_METRICS", "maybe"), ("CHURN_METRICS_TIMEOUT_S", "0"), ("CHURN_METRICS_TIMEOUT_S", "soon")],
)
def test_a_bad_setting_stops_the_function_naming_it(name, value, monkeypatch):
    # GIVEN a bad value WHEN the handler runs
    # THEN ConfigError names the setting (SCF retries; nothing is lost)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_handler("log_node_churn").main_handler(load_event("cmq_topic_compute_node_created.json"), None)
