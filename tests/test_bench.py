"""The benchmark's own pieces on known answers: its arithmetic, its latency simulation, its rendering,
and that its peers do the work log_node_churn does. No timing is asserted anywhere."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from bench import run
from bench.coldstart import deployed_memory_mb, import_breakdown, import_tree, parse_import_times, pulled_in
from bench.events import FUNCTIONS, json_size, records_within, spread_event
from bench.figures import (
    MISS,
    PASS,
    SKIP,
    billed_ms,
    distribution,
    figure,
    gb_s,
    idle_budget_s,
    percentile,
    render_table,
    runs_per_month,
    tally,
)
from bench.peers import handwritten
from bench.queue_path import Schedule, arrivals, simulate
from bench.throughput import STEP_LABELS, churn_steps, throughput
from shared.catalogue import EventName
from tests.fakes.cmq import CmqBackend
from tests.helpers import EVENTS
from tools import deploy_config
from tools.invoke import load_handler

# --- arithmetic ---------------------------------------------------------------------------------


def test_percentile_interpolates_between_the_closest_ranks():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 99) == pytest.approx(3.97)
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_distribution_gives_the_reported_quantiles():
    got = distribution([float(n) for n in range(1, 101)])
    assert got == {
        "count": 100.0,
        "p50": 50.5,
        "p90": pytest.approx(90.1),
        "p99": pytest.approx(99.01),
        "max": 100.0,
    }


def test_a_run_is_billed_in_whole_milliseconds_rounded_up():
    assert billed_ms(0.0012) == 2
    assert billed_ms(0.001) == 1
    assert billed_ms(0.0) == 1
    assert billed_ms(5.0004) == 5001


def test_gb_s_reproduces_the_previous_default_and_the_new_idle_month():
    # 60 s timer, 5 s long poll, 128 MB: 43,200 runs x 5 s x 0.125 GB = 27,000 GB-s each, 81,000 for three
    assert runs_per_month(60) == 43_200
    assert 3 * gb_s(runs_per_month(60), 5.0, 128) == pytest.approx(81_000)
    # 10 s timer, 64 MB: 259,200 runs; a 2 ms idle run bills 259,200 x 0.002 s x 0.0625 GB
    assert runs_per_month(10) == 259_200
    assert gb_s(runs_per_month(10), 0.0015, 64) == pytest.approx(32.4)
    # three functions stay under 1,000 GB-s while an idle run is under about 20.6 ms
    budget = idle_budget_s(1000, 3, 10, 64)
    assert budget == pytest.approx(0.020576, rel=1e-4)
    assert 3 * gb_s(runs_per_month(10), budget - 0.001, 64) < 1000


# --- targets and rendering ----------------------------------------------------------------------


def test_a_figure_passes_or_misses_its_one_bound_and_is_skipped_when_not_measured():
    assert figure("s", "f", 2.4, "x", at_most=2.5)["verdict"] == PASS
    assert figure("s", "f", 2.6, "x", at_most=2.5)["verdict"] == MISS
    assert figure("s", "f", 2.0, "x", at_least=2.0)["verdict"] == PASS
    assert figure("s", "f", 1.9, "x", at_least=2.0)["verdict"] == MISS
    assert figure("s", "f", 999.0, "GB-s", below=1000)["verdict"] == PASS
    assert figure("s", "f", 1000.0, "GB-s", below=1000)["verdict"] == MISS
    assert figure("s", "f", 5.0, "ms")["verdict"] == ""
    assert figure("s", "f", None, "x", at_most=3, note="no python3.9")["verdict"] == SKIP
    with pytest.raises(ValueError):
        figure("s", "f", 1.0, "x", at_most=1, at_least=0)


def test_the_table_shows_every_figure_with_its_target_and_verdict():
    figures = [
        figure("1 queue path", "publish-to-send p99", 9.91, "s", at_most=15, note="a | b"),
        figure("2 cold start", "log_node_churn, trigger path", 3.04, "x", at_most=2.5),
        figure("3 memory", "headroom", None, "x", at_least=2, note="not here"),
        figure("1 queue path", "GB-s", 81.0, "GB-s", below=1000),
    ]
    lines = render_table(figures).splitlines()
    assert lines[0].startswith("| section | figure | value | target | result |")
    assert lines[2] == "| 1 queue path | publish-to-send p99 | 9.91 s | <= 15.0 s | PASS | a \\| b |"
    assert lines[3] == "| 2 cold start | log_node_churn, trigger path | 3.04x | <= 2.50x | MISS |  |"
    assert lines[4] == "| 3 memory | headroom | not measured | >= 2.00x | SKIP | not here |"
    assert lines[5] == "| 1 queue path | GB-s | 81.00 GB-s | < 1,000 GB-s | PASS |  |"
    assert tally(figures) == {PASS: 2, MISS: 1, SKIP: 1}


def _rows(ratios: dict[int, float]) -> list[dict]:
    return [
        {
            "records": n,
            "body": body,
            "us_per_event": {"baseline": 10.0, "handwritten": 20.0, "log_node_churn": 20.0 * r},
        }
        for body in ("raw", "base64")
        for n, r in ratios.items()
    ]


def test_throughput_targets_take_the_worst_size_from_100_records_and_the_one_record_fixed_cost():
    # GIVEN log_node_churn at 2.9x the hand-written for 1 record, 1.1x at 100, 1.3x at 10,000
    result = {"python": "3.9.18", "rows": _rows({1: 2.9, 100: 1.1, 10000: 1.3}), "pydantic_missing": None}
    figures = run.throughput_figures({"here": result, "runtime": None})
    by_name = {f["name"]: f for f in figures if f["section"] == "4 throughput (3.9)"}
    # THEN the worst of 100+ counts, the one-record row is the fixed cost, and no 3.9 is a skip
    worst = by_name["raw: per event / hand-written, worst of 100+ records"]
    assert worst["value"] == pytest.approx(1.3)
    assert worst["verdict"] == MISS
    baseline = by_name["raw: per event / baseline, worst of 100+ records"]
    assert baseline["value"] == pytest.approx(2.6)
    assert baseline["verdict"] == PASS
    fixed = by_name["base64: fixed cost (1 record) / hand-written"]
    assert fixed["value"] == pytest.approx(2.9)
    assert fixed["verdict"] == PASS
    assert [f["verdict"] for f in figures if f["section"] == "4 throughput"] == [SKIP]


def test_queue_figures_compare_the_default_with_the_previous_one():
    runs = {name: {"idle_s": 0.0012, "one_s": 0.005, "hundred_s": 0.05} for name in FUNCTIONS}
    dist = {"count": 10.0, "p50": 5.0, "p90": 9.0, "p99": 16.0, "max": 19.0}
    q = {
        "memory_mb": dict.fromkeys(runs, 64),
        "runs": runs,
        "workload": {"messages": 10, "window_s": 3600.0, "bursts": 0, "burst_size": 100},
        "latency": dist,
        "latency_previous": dist | {"p99": 59.0, "max": 60.0},
        "alert_fanout": [{"events": 1000, "jobs": 10, "requests_per_channel": [10]}],
    }
    by_name = {f["name"]: f for f in run.queue_figures(q)}
    assert by_name["publish-to-send p99, default (10 s timer)"]["verdict"] == MISS
    idle = by_name["three idle functions, GB-s a month"]
    assert idle["value"] == pytest.approx(3 * 32.4)
    assert idle["verdict"] == PASS
    previous = by_name["three idle functions, GB-s a month, previous default"]["value"]
    assert previous == pytest.approx(3 * 43_200 * 5.002 * 0.125)
    fanout = by_name["alert fan-out: 1,000 failures over 10 jobs, requests per channel"]
    assert fanout["verdict"] == PASS


# --- the latency simulation ---------------------------------------------------------------------


def _drain(handling_s: float, cap: int = 1000):
    """A runner that receives up to `cap` messages, deletes them and says the run took `handling_s`."""

    def runner(backend: CmqBackend, queue: str) -> float:
        got = backend.receive(queue, cap, 0)
        backend.delete(queue, [m.handle for m in got if m.handle])
        return handling_s

    return runner


def test_a_message_is_sent_at_the_next_tick_plus_the_runs_handling_time():
    delays = simulate([1.0, 9.0, 10.0, 15.0], Schedule(period_s=10), _drain(0.5))
    assert delays == pytest.approx([9.5, 1.5, 0.5, 5.5])


def test_a_long_poll_on_an_empty_queue_catches_a_message_published_during_it():
    # 60 s timer, 5 s long poll: the message at 1 s is caught by the tick at 0; at 60 the queue is not
    # empty, so the messages at 62 and 70 wait for the tick at 120
    delays = simulate([1.0, 9.0, 62.0, 70.0], Schedule(period_s=60, wait_s=5), _drain(0.5))
    assert delays == pytest.approx([0.5, 51.5, 58.5, 50.5])


def test_messages_past_a_runs_cap_wait_for_the_next_tick():
    delays = simulate([1.0, 2.0, 3.0], Schedule(period_s=10), _drain(0.25, cap=2))
    assert delays == pytest.approx([9.25, 8.25, 17.25])


def test_arrivals_are_reproducible_sorted_and_within_the_window():
    first = arrivals(7, 50, 600.0, bursts=2, burst_size=10)
    assert first == arrivals(7, 50, 600.0, bursts=2, burst_size=10)
    assert len(first) == 70 and first == sorted(first)
    assert first[0] >= 0 and first[-1] <= 600.0
    assert first != arrivals(8, 50, 600.0, bursts=2, burst_size=10)


# --- the workloads ------------------------------------------------------------------------------


def test_the_largest_trigger_event_fits_in_128_kb_and_one_more_record_does_not():
    n = records_within(EventName.COMPUTE_NODE_RUNNING, 128 * 1024)
    assert json_size(spread_event(EventName.COMPUTE_NODE_RUNNING, n)) <= 128 * 1024
    assert json_size(spread_event(EventName.COMPUTE_NODE_RUNNING, n + 1)) > 128 * 1024


def test_memory_is_read_from_the_rendered_serverless_yml():
    assert deployed_memory_mb("queue") == {spec.name: spec.memory_mb for spec in deploy_config.FUNCTIONS}


def test_results_go_under_build_never_into_a_tracked_file():
    assert run.DEFAULT_OUT.is_relative_to(run.ROOT / "build")


def test_import_times_are_split_into_project_third_party_and_stdlib(tmp_path: Path):
    text = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 |   json.decoder",
            "import time:      2000 |       2000 |     urllib3.util",
            "import time:      1500 |       3500 |   urllib3",
            "import time:       700 |        700 |   email.parser",
            "import time:      3000 |       7200 | shared.models",
        ]
    )
    times = parse_import_times(text)
    assert times == {
        "json.decoder": 100,
        "urllib3.util": 2000,
        "urllib3": 1500,
        "email.parser": 700,
        "shared.models": 3000,
    }
    (tmp_path / "urllib3").mkdir()
    got = import_breakdown(times, {"json.decoder"}, tmp_path, top=2)
    assert got == {
        "project_ms": 3.0,
        "third_party_ms": 3.5,
        "stdlib_ms": 0.7,
        "top_ms": {"urllib3": 3.5, "shared": 3.0},
    }


def test_the_heaviest_imports_are_named_with_the_project_module_that_makes_them():
    text = "\n".join(
        [
            "import time:        10 |         10 |     socket",
            "import time:       100 |        110 |   http.client",
            "import time:         5 |        115 | shared.http",
            "import time:         7 |          7 |   json.decoder",
            "import time:        20 |         27 | shared.models",
        ]
    )
    parents = {name: parent for name, _, _, parent in import_tree(text)}
    assert parents == {
        "socket": "http.client",
        "http.client": "shared.http",
        "shared.http": None,
        "json.decoder": "shared.models",
        "shared.models": None,
    }
    assert pulled_in([text], {"json.decoder"}) == [("shared.http", "http.client", 0.11)]
    # over several reports, the median (an import a run did not make counts as 0)
    slower = text.replace(
        "       100 |        110 |   http.client", "       300 |        310 |   http.client"
    )
    assert pulled_in([text, slower, slower], set())[0] == ("shared.http", "http.client", 0.31)


# --- the peers ----------------------------------------------------------------------------------

TRIGGER_SAMPLES = [*sorted(EVENTS.glob("cmq_topic_*.json")), EVENTS / "malformed_records.json"]


def _lines(handler, event) -> tuple[list[dict], dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = handler(event, {"request_id": "bench-test"})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    # The time and the wording of a rejection may differ; every other field must be the same.
    return [{k: v for k, v in line.items() if k not in ("ts", "reason")} for line in lines], result


@pytest.mark.parametrize("sample", TRIGGER_SAMPLES, ids=lambda p: p.stem)
def test_the_hand_written_peer_writes_the_lines_log_node_churn_writes(sample: Path):
    event = json.loads(sample.read_text(encoding="utf-8"))
    function = load_handler("log_node_churn").main_handler
    assert _lines(handwritten.main_handler, event) == _lines(function, event)


@pytest.mark.parametrize("sample", TRIGGER_SAMPLES, ids=lambda p: p.stem)
def test_the_pydantic_peer_writes_the_lines_log_node_churn_writes(sample: Path):
    pytest.importorskip("pydantic", reason="bench-only: pip install -r requirements-bench.txt")
    from bench.peers import pydantic_model

    event = json.loads(sample.read_text(encoding="utf-8"))
    function = load_handler("log_node_churn").main_handler
    assert _lines(pydantic_model.main_handler, event) == _lines(function, event)


def test_the_hand_written_peer_knows_the_catalogues_event_names():
    from shared.catalogue import Category

    churn = {e.value for e in EventName if e.category in (Category.COMPUTE_NODE, Category.COMPUTE_ENV)}
    assert churn == handwritten.CHURN_EVENTS
    assert {e.value for e in EventName} == handwritten.KNOWN_EVENTS


# --- the throughput measurement, with a canned timer --------------------------------------------


def _canned(seconds: dict[str, float]):
    calls: list[str] = []

    def timer(contenders, repeat):
        for name, fn in contenders.items():
            fn()
            calls.append(name)
        return {name: seconds.get(name, 1e-3) for name in contenders}

    return timer, calls


def test_throughput_runs_every_contender_on_each_size_and_body():
    timer, calls = _canned({"baseline": 2e-3, "handwritten": 4e-3, "log_node_churn": 5e-3})
    result = throughput((1, 2), include_pydantic=False, timer=timer)
    assert [(r["records"], r["body"]) for r in result["rows"]] == [
        (1, "raw"),
        (2, "raw"),
        (1, "base64"),
        (2, "base64"),
    ]
    assert result["rows"][1]["us_per_event"] == {
        "baseline": 1000.0,
        "log_node_churn": 2500.0,
        "handwritten": 2000.0,
    }
    assert calls.count("log_node_churn") == 4 and calls.count("handwritten") == 4


def test_churn_steps_split_the_handler_time_and_compare_with_the_hand_written_peer():
    n = 3
    per_event_us = {
        "baseline": 1, "envelope": 2, "envelope_and_fields": 5, "churn_figures": 4, "line_json": 5,
        "line_write": 9, "handler": 30, "handwritten": 10,
    }  # fmt: skip
    timer, calls = _canned({k: v * n / 1e6 for k, v in per_event_us.items()})
    result = churn_steps(n, timer=timer)
    us = {k: round(v["us_per_event"], 6) for k, v in result["steps"].items()}
    assert set(calls) == set(per_event_us)
    # the fields step is read with each message fresh, less the envelope alone
    assert us["node_event_record"] == 5 - 2
    assert us["line_header_scrub_write"] == 9 - 5
    assert us["rest"] == 30 - (2 + 3 + 4 + 5 + 4)
    assert round(result["steps"]["handler"]["x_handwritten"], 6) == 3.0
    assert set(us) == set(STEP_LABELS)


def test_cold_start_rows_name_the_sdk_clients_peer_and_what_https_adds():
    cold = {
        "baseline_s": 0.020,
        "repeat": 3,
        "cases": {},
        "references": {
            "sdk_import": {"median_s": 0.100, "ratio": 5.0},
            "tls_setup": {"median_s": 0.030, "ratio": 1.5},
            "http_import": {"median_s": 0.024, "ratio": 1.2},
        },
    }
    rows = run.cold_figures({"cold_start": cold})
    floor = next(r for r in rows if r["name"].startswith("peer: the Tencent SDK"))
    tls = next(r for r in rows if "https" in r["name"])
    assert floor["value"] == 5.0 and "100 ms" in floor["note"] and floor["verdict"] == ""
    assert tls["value"] == pytest.approx(6.0) and tls["unit"] == "ms"
