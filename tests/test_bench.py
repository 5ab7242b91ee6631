"""The benchmark's own pieces: the churn floor does the work it claims, the table shows every column."""

from __future__ import annotations

import json

from bench.run import FUNCTIONS, churn_floor, render_table
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


def test_table_has_a_column_for_each_handler_and_the_churn_floor():
    cell = {"eps": 1000.0, "ratio": 2.5}
    results = {
        "machine": {"when": "2026-11-29", "platform": "Linux", "cpus": 2, "python": "3.11.7"},
        "cold_start": {
            "functions": {f: {"wall_s": 0.04, "ratio_to_bare": 5.0, "heavy_modules": []} for f in FUNCTIONS}
        },
        "throughput": [
            {"records": 100, "body": "raw", "baseline_eps": 2000.0, "envelope": cell, "churn_floor": cell}
            | {f: cell for f in FUNCTIONS}
        ],
        "memory": {},
        "alert_fanout": [],
        "package": {"functions_mb": {}, "monolithic_sdk_mb": 170.0},
    }
    table = render_table(results)
    assert "| churn floor |" in table
    (row,) = [line for line in table.splitlines() if line.startswith("| 100 |")]
    assert row.count("1,000 ev/s (2.5x)") == 2 + len(FUNCTIONS)
