"""`make bench`: the issue's targets, measured side by side in one run and reported as ratios.

    .venv/bin/python -m bench.run                 # everything (a few minutes on 2 cores)
    .venv/bin/python -m bench.run --quick         # a smoke run: fewer repeats, smaller workloads
    .venv/bin/python -m bench.run --out PATH      # the JSON results elsewhere than build/bench/

1. the default (queue) path: publish-to-send latency on the fake queue and timer schedule, and the
   GB-s the idle timer runs bill, beside the previous default (60 s timer, 5 s long poll, 128 MB);
2. cold start of the built package under Python 3.9, against `python3.9 -c "import json, base64"`;
3. peak RSS at the largest batch each path delivers, against serverless.yml's memorySize;
4. log_node_churn per event against a hand-written handler and the decode/loads/dumps baseline;
5. package size beside the monolithic SDK, and alert fan-out.

Never part of `make test`: timings are the machine's, so every target is a ratio or a bound checked
here, and tests/test_bench.py checks only the arithmetic and the rendering.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.poller import PollSettings  # noqa: E402
from tools import package  # noqa: E402
from tools.deploy_config import POLL_PERIOD_S  # noqa: E402

from .figures import (  # noqa: E402
    Figure,
    distribution,
    figure,
    gb_s,
    idle_budget_s,
    machine_line,
    median,
    ratio,
    render_table,
    runs_per_month,
    tally,
)
from .throughput import STEP_LABELS  # noqa: E402

DEFAULT_OUT = ROOT / "build" / "bench" / "results.json"
# The targets.
LATENCY_P99_S = 15.0
IDLE_GB_S_MONTH = 1000.0
COLD_RATIO = {"trigger": 2.5, "queue": 3.0}
HEADROOM = 2.0
PER_EVENT_VS_HANDWRITTEN = 1.2
PER_EVENT_VS_BASELINE = 3.0
FIXED_VS_HANDWRITTEN = 3.0
TRIGGER_EVENT_LIMIT = 128 * 1024  # SCF's largest async (trigger) event
# The previous default, for comparison: a timer every minute, a 5 s long poll, 128 MB.
PREVIOUS = {"period_s": 60.0, "wait_s": 5.0, "memory_mb": 128}
RUNTIME = "3.9"


def poll_default(name: str) -> Any:
    """A PollSettings default (shared/poller.py), e.g. max_messages or wait_s."""
    return PollSettings._field_defaults[name]


# --- 1. the queue path ------------------------------------------------------------------------


def _broken(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def queue_path(quick: bool) -> dict[str, Any]:
    """Latency and cost of the default path, measured in-process against the fakes over loopback.
    A function that cannot be loaded or run (code mid-change) is reported; the others are measured."""
    from tools.invoke import load_handler

    from .coldstart import deployed_memory_mb
    from .queue_path import Schedule, arrivals, latency, timed_runs
    from .scenarios import FUNCTIONS, alert_fanout, services

    memory = deployed_memory_mb("queue")
    out: dict[str, Any] = {"memory_mb": memory, "runs": {}, "broken": {}}
    handlers = {}
    for function in FUNCTIONS:
        try:
            handlers[function] = load_handler(function)
        except Exception as exc:  # the point: report it and measure the rest
            out["broken"][function] = _broken(exc)
    idle_repeat, one_repeat, many_repeat = (7, 5, 2) if quick else (31, 15, 5)
    with services() as svc:
        for function, handler in handlers.items():
            mem = memory[function]
            try:
                out["runs"][function] = {
                    "idle_s": median(timed_runs(svc, handler, function, mem, messages=0, repeat=idle_repeat)),
                    "one_s": median(timed_runs(svc, handler, function, mem, messages=1, repeat=one_repeat)),
                    "hundred_s": median(
                        timed_runs(svc, handler, function, mem, messages=100, repeat=many_repeat)
                    ),
                }
            except Exception as exc:  # see above
                out["broken"][function] = _broken(exc)
        count, window, bursts = (150, 1800.0, 1) if quick else (1500, 6 * 3600.0, 4)
        publish = arrivals(seed=20261129, count=count, window_s=window, bursts=bursts, burst_size=100)
        out["workload"] = {"messages": len(publish), "window_s": window, "bursts": bursts, "burst_size": 100}
        alert = handlers.get("alert_failures")
        if alert is not None and "alert_failures" not in out["broken"]:
            mem = memory["alert_failures"]
            current = Schedule(period_s=float(POLL_PERIOD_S), wait_s=float(poll_default("wait_s")))
            previous = Schedule(period_s=PREVIOUS["period_s"], wait_s=PREVIOUS["wait_s"])
            out["latency"] = distribution(latency(svc, alert, mem, publish, current))
            out["latency_previous"] = distribution(latency(svc, alert, mem, publish, previous))
            out["alert_fanout"] = alert_fanout(svc, 200 if quick else 1000, load=lambda f: alert)
    return out


def queue_figures(q: dict[str, Any]) -> list[Figure]:
    """Target 1: latency and idle GB-s, beside the previous default."""
    section = "1 queue path"
    w = q["workload"]
    workload = (
        f"{w['messages']:,} messages over {w['window_s'] / 3600:g} h, "
        f"{w['bursts']} bursts of {w['burst_size']} among them"
    )
    nothing = dict.fromkeys(("p50", "p90", "p99", "max"), None)
    lat, old = q.get("latency", nothing), q.get("latency_previous", nothing)
    if "latency" not in q:
        workload = f"could not run alert_failures: {q['broken'].get('alert_failures')}"
    rows = []
    for k in ("p50", "p90", "p99", "max"):
        name = f"publish-to-send {k}, default ({POLL_PERIOD_S} s timer)"
        if k == "p99":
            rows.append(figure(section, name, lat[k], "s", at_most=LATENCY_P99_S, note=workload))
        else:
            rows.append(figure(section, name, lat[k], "s"))
    for k in ("p99", "max"):
        rows.append(
            figure(section, f"publish-to-send {k}, previous default (60 s timer, 5 s long poll)", old[k], "s")
        )
    memory, runs = q["memory_mb"], q["runs"]
    for function, error in q.get("broken", {}).items():
        rows.append(
            figure(section, f"{function}: idle timer run", None, "ms", note=f"could not run: {error}")
        )
    for function, r in runs.items():
        note = f"1 message {r['one_s'] * 1000:.1f} ms, 100 messages {r['hundred_s'] * 1000:.0f} ms"
        rows.append(figure(section, f"{function}: idle timer run", r["idle_s"] * 1000, "ms", note=note))
    per_month = runs_per_month(POLL_PERIOD_S)
    idle: Optional[float] = sum(gb_s(per_month, r["idle_s"], memory[f]) for f, r in runs.items())
    if len(runs) < len(memory):
        idle = None  # not all three measured
    mems = "/".join(map(str, sorted(set(memory.values()))))
    note = f"{per_month:,.0f} runs each x billed ms (rounded up) x {mems} MB"
    rows.append(
        figure(section, "three idle functions, GB-s a month", idle, "GB-s", below=IDLE_GB_S_MONTH, note=note)
    )
    budget = idle_budget_s(IDLE_GB_S_MONTH, len(memory), POLL_PERIOD_S, max(memory.values()))
    rows.append(figure(section, "idle run at which three reach 1,000 GB-s a month", budget * 1000, "ms"))
    old_runs = runs_per_month(PREVIOUS["period_s"])
    old_mb = int(PREVIOUS["memory_mb"])
    previous: Optional[float] = sum(
        gb_s(old_runs, PREVIOUS["wait_s"] + r["idle_s"], old_mb) for r in runs.values()
    )
    if len(runs) < len(memory):
        previous = None
    note = f"{old_runs:,.0f} runs each x (5 s long poll + idle run) x {old_mb} MB"
    rows.append(
        figure(section, "three idle functions, GB-s a month, previous default", previous, "GB-s", note=note)
    )
    for function, r in runs.items():
        gb = memory[function] / 1024
        one = max(0.0, r["one_s"] - r["idle_s"]) * gb * 1000
        batched = max(0.0, r["hundred_s"] - r["idle_s"]) / 100 * gb * 1000
        note = f"in runs of 100: {batched:.3f} GB-s (time above the idle run x memory)"
        rows.append(
            figure(section, f"{function}: GB-s per 1,000 events, one per run", one, "GB-s", note=note)
        )
    if "alert_fanout" not in q:
        note = f"could not run alert_failures: {q['broken'].get('alert_failures')}"
        rows.append(figure("5 kept", "alert fan-out, requests per channel", None, "", note=note))
    for row in q.get("alert_fanout", []):
        name = f"alert fan-out: {row['events']:,} failures over {row['jobs']} jobs, requests per channel"
        rows.append(figure("5 kept", name, max(row["requests_per_channel"]), "", at_most=row["jobs"]))
    return rows


# --- 2 and 3. the package under Python 3.9 ----------------------------------------------------


def package_checks(quick: bool) -> dict[str, Any]:
    """Cold start and peak memory of the built package, and its size."""
    from .coldstart import (
        built_package,
        cases,
        cold_start,
        deployed_memory_mb,
        monolithic_sdk_mb,
        peak_memory,
    )
    from .events import records_within
    from .scenarios import FUNCTIONS, WORKLOAD, services

    python = package.find_python(RUNTIME)
    memory = deployed_memory_mb("queue")
    out: dict[str, Any] = {"python": python, "memory_mb": memory}
    with built_package() as (root, sizes), services() as svc, tempfile.TemporaryDirectory() as tmp:
        out["package_mb"] = {k: v / 1e6 for k, v in sizes.items()}
        if python is None:
            out["cold_start"] = None
        else:
            out["cold_start"] = cold_start(
                python, root, cases(svc, Path(tmp), memory), 5 if quick else 31, 1 if quick else 3
            )
        max_messages = int(poll_default("max_messages"))
        trigger = {f: records_within(WORKLOAD[f], TRIGGER_EVENT_LIMIT) for f in FUNCTIONS}
        sizes_of = {
            f: {"trigger": trigger[f], "queue": max_messages, "push": 1, "trigger@10000": 10000}
            for f in FUNCTIONS
        }
        memory_python = python or sys.executable
        out["memory"] = {
            "python": memory_python,
            "records": sizes_of,
            "peak_mb": peak_memory(
                memory_python, root, cases(svc, Path(tmp), memory, sizes_of), 1 if quick else 3
            ),
        }
    out["monolithic_sdk_mb"] = None if quick else monolithic_sdk_mb()
    return out


def cold_figures(p: dict[str, Any]) -> list[Figure]:
    """Target 2: each function's cold start on each path, as a ratio to the bare interpreter."""
    section = "2 cold start (3.9)"
    cold = p["cold_start"]
    if cold is None:
        return [figure(section, "cold start", None, "x", note=f"no python{RUNTIME} on this machine")]
    name = 'baseline `python3.9 -I -S -B -c "import json, base64"`'
    rows = [figure(section, name, cold["baseline_s"] * 1000, "ms", note=f"median of {cold['repeat']}")]
    for key, c in cold["cases"].items():
        function, path = key.split("/")
        heavy = ", ".join(c["heavy"]) or "none"
        note = (
            f"{c['median_s'] * 1000:.0f} ms (import {c['import_ms']:.0f}, invocation {c['invoke_ms']:.1f}); "
            f"{c['modules']} modules; requests/SDK loaded: {heavy}"
        )
        value: Optional[float] = c["ratio"]
        if c["problems"]:  # a run that did not do its work is no figure of it
            value, note = None, f"{c['ratio']:.2f}x, but the invocation failed: {'; '.join(c['problems'])}"
        name = f"{function}, {'trigger' if path == 'trigger' else 'timer'} path"
        rows.append(figure(section, name, value, "x", at_most=COLD_RATIO[path], note=note))
    refs = cold.get("references", {})
    if "sdk_import" in refs:
        r = refs["sdk_import"]
        rows.append(
            figure(
                section,
                "peer: the Tencent SDK's clients' import alone (credential, batch_client)",
                r["ratio"],
                "x",
                note=f"{r['median_s'] * 1000:.0f} ms before any work, which shared/tcapi.py avoids",
            )
        )
    if "tls_setup" in refs and "http_import" in refs:
        extra = (refs["tls_setup"]["median_s"] - refs["http_import"]["median_s"]) * 1000
        rows.append(
            figure(
                section,
                "not in the figures: https (import ssl, shared.http's verifying context, hashed CAs)",
                extra,
                "ms",
                note="added once per instance on the real https endpoints; the cases talk http to loopback",
            )
        )
    for key, error in cold.get("broken", {}).items():
        function, path = key.split("/")
        name = f"{function}, {'trigger' if path == 'trigger' else 'timer'} path"
        rows.append(
            figure(section, name, None, "x", at_most=COLD_RATIO[path], note=f"could not run: {error}")
        )
    return rows


def memory_figures(p: dict[str, Any]) -> list[Figure]:
    """Target 3: headroom of serverless.yml's memorySize over the peak RSS of the largest batch."""
    section = "3 memory"
    m = p["memory"]
    under = "" if m["python"] == p["python"] else f" (under {m['python']}: no python{RUNTIME})"
    rows = []
    for key, measured in m["peak_mb"].items():
        function, path = key.split("/")
        peak = measured["peak_mb"]
        size = p["memory_mb"][function]
        headroom = size / peak if peak and not measured["problems"] else None
        records = m["records"][function][path]
        what = {
            "trigger": f"trigger event of 128 KB ({records:,} records)",
            "queue": f"timer run of {records} messages (POLL_MAX_MESSAGES)",
            "push": "push of one message",
            "trigger@10000": "10,000-record trigger event (no path delivers it now)",
        }[path]
        trouble = (
            f"; the invocation failed: {'; '.join(measured['problems'])}" if measured["problems"] else ""
        )
        note = f"peak {peak:.1f} MB of {size} MB{under}{trouble}" if peak else "; ".join(measured["problems"])
        bound = None if path == "trigger@10000" else HEADROOM
        rows.append(
            figure(section, f"{function}: {what}, headroom", headroom, "x", at_least=bound, note=note)
        )
    return rows


def package_figures(p: dict[str, Any]) -> list[Figure]:
    """What `make package` builds, beside the monolithic SDK."""
    rows = [figure("5 kept", f"package size: {k}", v, "MB") for k, v in p["package_mb"].items()]
    mono = p["monolithic_sdk_mb"]
    note = "" if mono else "not downloaded in --quick"
    rows.append(figure("5 kept", "monolithic tencentcloud-sdk-python, unpacked", mono, "MB", note=note))
    return rows


# --- 4. throughput ----------------------------------------------------------------------------


def throughput_checks(quick: bool) -> dict[str, Any]:
    """log_node_churn beside its peers here, and (stdlib contenders) under Python 3.9."""
    from .throughput import churn_steps, throughput

    sizes = (1, 100, 1000) if quick else (1, 100, 1000, 10000)
    scale = 0.3 if quick else 2.0
    out: dict[str, Any] = {"here": throughput(sizes, scale)}
    out["steps"] = churn_steps(1000, scale=scale)
    python = package.find_python(RUNTIME)
    out["runtime"] = None
    if python is not None:
        paths = [str(ROOT), str(ROOT / "functions" / "log_node_churn")]
        code = f"import sys; sys.path[:0] = {paths!r}; from bench.throughput import cli; cli()"
        command = [python, "-c", code, ",".join(map(str, sizes)), str(scale)]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        out["runtime"] = json.loads(done.stdout.splitlines()[-1])
    return out


def _worst(rows: list[dict[str, Any]], mine: str, other: str) -> float:
    return max(ratio(r["us_per_event"][mine], r["us_per_event"][other]) for r in rows)


def _each(rows: list[dict[str, Any]], mine: str, other: str) -> str:
    return ", ".join(
        f"{r['records']:,}: {ratio(r['us_per_event'][mine], r['us_per_event'][other]):.2f}x" for r in rows
    )


def throughput_figures(t: dict[str, Any]) -> list[Figure]:
    """Target 4: per event within 1.2x the hand-written handler and 3x the baseline from 100 records
    on (the worst size counts), fixed cost of a one-record invocation within 3x the hand-written."""
    rows: list[Figure] = []
    fn = "log_node_churn"
    for result in (t["here"], t["runtime"]):
        if result is None:
            note = f"no python{RUNTIME} on this machine"
            rows.append(figure("4 throughput", f"{fn} under Python {RUNTIME}", None, "x", note=note))
            continue
        section = f"4 throughput ({result['python'].rsplit('.', 1)[0]})"
        for body in ("raw", "base64"):
            big = [r for r in result["rows"] if r["body"] == body and r["records"] >= 100]
            one = next(r for r in result["rows"] if r["body"] == body and r["records"] == 1)["us_per_event"]
            last = big[-1]["us_per_event"]
            note = _each(big, fn, "handwritten") + f"; at {big[-1]['records']:,}: "
            note += f"{last[fn]:.1f} vs {last['handwritten']:.1f} us per event"
            name = f"{body}: per event / hand-written, worst of 100+ records"
            rows.append(
                figure(
                    section,
                    name,
                    _worst(big, fn, "handwritten"),
                    "x",
                    at_most=PER_EVENT_VS_HANDWRITTEN,
                    note=note,
                )
            )
            name = f"{body}: per event / baseline, worst of 100+ records"
            note = _each(big, fn, "baseline")
            rows.append(
                figure(
                    section, name, _worst(big, fn, "baseline"), "x", at_most=PER_EVENT_VS_BASELINE, note=note
                )
            )
            name = f"{body}: fixed cost (1 record) / hand-written"
            note = f"{one[fn]:.0f} vs {one['handwritten']:.0f} us per invocation"
            value = ratio(one[fn], one["handwritten"])
            rows.append(figure(section, name, value, "x", at_most=FIXED_VS_HANDWRITTEN, note=note))
            if "pydantic" in last:
                name = f"{body}: pydantic-model peer / hand-written, worst of 100+ records"
                note = f"{fn} / pydantic: {_each(big, fn, 'pydantic')}"
                rows.append(figure(section, name, _worst(big, "pydantic", "handwritten"), "x", note=note))
        if result.get("pydantic_missing") and result is t["here"]:
            rows.append(figure(section, "pydantic-model peer", None, "x", note=result["pydantic_missing"]))
    return rows


def steps_table(steps: dict[str, Any]) -> str:
    """Where log_node_churn's time goes, step by step."""
    lines = [
        f"| log_node_churn step by step ({steps['records']:,} raw records) | us per event | x hand-written |",
        "|---|---|---|",
    ]
    for key, label in STEP_LABELS.items():
        step = steps["steps"][key]
        lines.append(f"| {label} | {step['us_per_event']:.1f} | {step['x_handwritten']:.2f}x |")
    return "\n".join(lines)


def imports_table(cold: Optional[dict[str, Any]]) -> str:
    """Import time beyond the baseline's modules, by kind, and the heaviest imports the project makes."""
    if not cold:
        return ""
    lines = [
        "| cold start, own import time beyond the baseline's (ms, under -X importtime) | project "
        "| third-party | stdlib | heaviest imports made by project modules (cumulative ms) |",
        "|---|---|---|---|---|",
    ]
    for key, c in cold["cases"].items():
        i = c["imports"]
        chains = ", ".join(f"{parent} -> {name} {ms:.1f}" for parent, name, ms in c["pulled_in"])
        lines.append(
            f"| {key} | {i['project_ms']:.1f} | {i['third_party_ms']:.1f} | {i['stdlib_ms']:.1f} | {chains} |"
        )
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------


def machine(quick: bool) -> dict[str, Any]:
    """Where and when the figures were measured."""
    runtimes = {}
    for version in ("3.9", "3.10"):
        python = package.find_python(version)
        if python:
            text = subprocess.run([python, "--version"], capture_output=True, text=True, check=False).stdout
            runtimes[version] = text.split()[-1] if text else python
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d"),
        "runtimes": runtimes,
        "quick": quick,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Measure everything, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer repeats, smaller workloads")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(args.quick), "errors": {}}
    figures: list[Figure] = []
    steps: list[tuple[str, Any, Any]] = [
        ("queue_path", queue_path, queue_figures),
        ("package", package_checks, lambda p: cold_figures(p) + memory_figures(p) + package_figures(p)),
        ("throughput", throughput_checks, throughput_figures),
    ]
    for name, measure, report in steps:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        step_started = time.monotonic()
        try:
            results[name] = measure(args.quick)
            results.setdefault("elapsed_by_step_s", {})[name] = time.monotonic() - step_started
        except Exception as exc:  # code mid-change elsewhere: report it, measure the rest
            results["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
            print(f"bench: {name} failed: {results['errors'][name]}", file=sys.stderr)
            continue
        figures += report(results[name])
    figures.sort(key=lambda f: f["section"][0])
    results["figures"] = figures
    results["tally"] = tally(figures)
    results["elapsed_s"] = time.monotonic() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(render_report(results))
    print(f"\nJSON: {args.out} ({results['elapsed_s']:.0f} s)", file=sys.stderr)
    return 0


def render_report(results: dict[str, Any]) -> str:
    """The Markdown: the machine, the table of every figure, the breakdowns, any step that failed."""
    parts = [machine_line(results["machine"]), "", render_table(results["figures"])]
    t = results["tally"]
    parts += ["", f"{t['PASS']} PASS, {t['MISS']} MISS, {t['SKIP']} not measured here."]
    if "throughput" in results:
        parts += ["", steps_table(results["throughput"]["steps"])]
    if "package" in results:
        table = imports_table(results["package"].get("cold_start"))
        if table:
            parts += ["", table]
    for name, error in results.get("errors", {}).items():
        parts += ["", f"**{name} could not be measured**: {error}"]
    return "\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
