"""log_node_churn end to end: a 2,000-record event, the cold start, and its settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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


def test_handler_imports_neither_the_sdk_nor_requests():
    # GIVEN a fresh interpreter WHEN the handler runs on a node sample
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


@pytest.mark.parametrize(("name", "value"), [("CAPTURE_RAW_EVENTS", "soon"), ("CAPTURE_RAW_EVENTS", "-1")])
def test_a_bad_setting_stops_the_function_naming_it(name, value, monkeypatch):
    # GIVEN a bad value WHEN the handler runs
    # THEN ConfigError names the setting (SCF retries; nothing is lost)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_handler("log_node_churn").main_handler(load_event("cmq_topic_compute_node_created.json"), None)


def test_no_deployed_code_calls_the_retired_put_monitor_data():
    # GIVEN every deployed source file WHEN searched THEN none names Cloud Monitor's retired API or client
    deployed = [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]
    assert deployed
    for path in deployed:
        text = path.read_text(encoding="utf-8")
        assert "PutMonitorData" not in text, path
        assert "tencentcloud.monitor" not in text, path
