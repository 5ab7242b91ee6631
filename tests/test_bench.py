"""The benchmark's own pieces: the churn floor does the work it claims, the table shows every column."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from bench.run import (
    FUNCTIONS,
    STEP_LABELS,
    churn_floor,
    churn_steps,
    deployed_runtimes,
    find_runtime,
    render_table,
)
from bench.run import _event as bench_event
from shared.catalogue import EventName


def test_churn_floor_encodes_one_fingerprint_and_one_line_per_event(monkeypatch):
    # GIVEN 3 node-event records, raw and base64
    events = [bench_event(EventName.COMPUTE_NODE_RUNNING, 3, encode) for encode in (False, True)]
    dumped: list[dict] = []
    real_dumps = json.dumps

    def counting_dumps(obj, **kwargs):
        dumped.append(obj)
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(json, "dumps", counting_dumps)
    for event in events:
        dumped.clear()
        # WHEN the floor runs
        churn_floor(event)
        # THEN per event: the sorted fingerprint text of the event, then one node_event line
        assert len(dumped) == 6
        lines = dumped[1::2]
        assert [line["kind"] for line in lines] == ["node_event"] * 3
        assert [line["event"] for line in lines] == ["COMPUTE_NODE_RUNNING"] * 3
        assert all(len(line["fingerprint"]) == 32 for line in lines)


CELL = {"eps": 1000.0, "ratio": 2.5}


def _results() -> dict:
    return {
        "machine": {"when": "2026-11-29", "platform": "Linux", "cpus": 2, "python": "3.11.7"},
        "cold_start": {
            "functions": {f: {"wall_s": 0.04, "ratio_to_bare": 5.0, "heavy_modules": []} for f in FUNCTIONS}
        },
        "throughput": [
            {"records": 100, "body": "raw", "baseline_eps": 2000.0, "envelope": CELL, "churn_floor": CELL}
            | {f: CELL for f in FUNCTIONS}
        ],
        "churn_steps": {
            "records": 1000,
            "steps": {k: {"us_per_event": 1.0, "ratio": 1.0} for k in STEP_LABELS},
        },
        "runtimes": {"3.9": None, "3.10": None},
        "memory": {},
        "alert_fanout": [],
        "package": {"functions_mb": {}, "monolithic_sdk_mb": 170.0},
    }


def test_table_has_a_column_for_each_handler_and_the_churn_floor():
    table = render_table(_results())
    assert "| churn floor |" in table
    (row,) = [line for line in table.splitlines() if line.startswith("| 100 |")]
    assert row.count("1,000 ev/s (2.5x)") == 2 + len(FUNCTIONS)


def test_churn_steps_run_every_step_and_split_the_handler_time():
    # GIVEN a timer that runs each step once and says it took 1, 2, 3, ... microseconds per event
    calls: list[str] = []
    canned = iter([1, 2, 3, 4, 5, 6, 9, 30])

    def timer(fn, repeat):
        fn()
        calls.append(getattr(fn, "__name__", type(fn).__name__))
        return next(canned) * 3 / 1e6

    # WHEN the steps of 3 records are measured
    with contextlib.redirect_stdout(io.StringIO()):
        result = churn_steps(3, timer=timer)
    # THEN every step ran, and the write's own cost and the rest are what the encoding and steps leave
    us = {k: round(v["us_per_event"], 6) for k, v in result["steps"].items()}
    assert len(calls) == 8
    assert us["line_header_scrub_write"] == 9 - 6
    assert us["rest"] == 30 - (2 + 3 + 4 + 5 + 6 + 3)
    assert {k: round(v["ratio"], 6) for k, v in result["steps"].items()} == us  # the baseline took 1 us
    assert set(us) == set(STEP_LABELS)


def test_table_shows_the_churn_steps_and_each_runtime_or_its_absence():
    steps = {k: {"us_per_event": 2.0, "ratio": 0.5} for k in STEP_LABELS}
    results = _results() | {
        "churn_steps": {"records": 1000, "steps": steps},
        "runtimes": {"3.9": [{"records": 1000, "body": "raw", "ratio": 5.25}], "3.10": None},
    }
    table = render_table(results)
    for label in STEP_LABELS.values():
        assert f"| {label} | 2.0 | 0.50x |" in table
    assert "| log_node_churn on SCF's runtimes | 1,000 raw |" in table
    assert "| Python 3.9 | 5.2x |" in table
    assert "| Python 3.10 | not on this machine |" in table


def test_find_runtime_prefers_pyenv_and_says_none_when_absent(tmp_path, monkeypatch):
    python = tmp_path / ".pyenv" / "versions" / "3.9.18" / "bin" / "python3.9"
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    assert find_runtime("3.9") == str(python)
    assert find_runtime("2.1") is None


@pytest.mark.skipif(find_runtime("3.9") is None, reason="no Python 3.9 on this machine")
def test_the_churn_ratio_is_measured_under_python_3_9():
    # The probe runs the handler under SCF's oldest runtime, stdlib only.
    (row_raw, row_b64) = deployed_runtimes(sizes=(2,))["3.9"]
    assert (row_raw["body"], row_b64["body"]) == ("raw", "base64")
    assert row_raw["records"] == 2 and row_raw["ratio"] > 1
