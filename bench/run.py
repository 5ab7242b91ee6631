"""`make bench`: cold start, throughput, memory, alert fan-out and package size, each as a ratio to a
baseline measured in the same run. Prints a table and writes bench/results/latest.json.

Never part of `make test`: timings depend on the machine; only the ratios are comparable.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)] + [
    str(ROOT / "functions" / f) for f in ("alert_failures", "retry_interrupted", "log_node_churn")
]

from shared.catalogue import EventName  # noqa: E402
from shared.envelope import parse_trigger_event  # noqa: E402
from tools.generate_event import trigger_event  # noqa: E402
from tools.invoke import load_handler  # noqa: E402

FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
HEAVY = ("tencentcloud", "requests", "urllib3", "charset_normalizer", "idna", "certifi")
# What each handler is measured on: the events its concern acts on.
WORKLOAD = {
    "alert_failures": EventName.TASK_INSTANCE_FAILED,
    "retry_interrupted": EventName.TASK_INSTANCE_FAILED_INTERRUPTED,
    "log_node_churn": EventName.COMPUTE_NODE_RUNNING,
}
SIZES = (1, 100, 1000, 10000)


def _median_time(fn: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _best_time(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of `repeat` runs: for deterministic CPU-bound work the least disturbed by the rest
    of the machine (timeit's advice), so that two runs' ratios differ by the code, not the noise."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _repeat_for(n: int) -> int:
    return 30 if n <= 100 else 10 if n <= 1000 else 5


# --- cold start -------------------------------------------------------------------------------

_IMPORT_PROBE = """
import sys, time
sys.path[:0] = [{root!r}, {folder!r}]
t = time.perf_counter()
import importlib.util as u
s = u.spec_from_file_location("index", {index!r}); m = u.module_from_spec(s); s.loader.exec_module(m)
print(time.perf_counter() - t)
print(",".join(sorted({{k.split(".")[0] for k in sys.modules}})))
"""


def cold_start(repeat: int = 15) -> dict[str, Any]:
    """Wall time of a fresh interpreter importing each handler, as a ratio to `python -c pass`."""

    def wall(args: list[str]) -> float:
        return _median_time(lambda: subprocess.run(args, check=True, capture_output=True), repeat)

    bare = wall([sys.executable, "-c", "pass"])
    out: dict[str, Any] = {"bare_python_s": bare, "functions": {}}
    for function in FUNCTIONS:
        folder = ROOT / "functions" / function
        probe = _IMPORT_PROBE.format(root=str(ROOT), folder=str(folder), index=str(folder / "index.py"))
        total = wall([sys.executable, "-c", probe])
        lines = subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout.split()
        heavy = sorted(set(lines[1].split(",")) & set(HEAVY))
        out["functions"][function] = {"wall_s": total, "ratio_to_bare": total / bare, "heavy_modules": heavy}
    return out


# --- throughput -------------------------------------------------------------------------------


def _event(name: EventName, n: int, encode_base64: bool) -> dict[str, Any]:
    # Spread over 10 jobs / environments so grouping has real work.
    event = trigger_event(name, records=n, encode_base64=encode_base64)
    for i, record in enumerate(event["Records"]):
        body = record["CMQ"]["msgBody"]
        text = base64.b64decode(body).decode() if encode_base64 else body
        text = text.replace("job-5ik2gmv8", f"job-{i % 10:08d}").replace("env-ptoxdb1t", f"env-{i % 10:08d}")
        record["CMQ"]["msgBody"] = base64.b64encode(text.encode()).decode() if encode_base64 else text
    return event


def baseline(event: dict[str, Any]) -> None:
    """The minimum any consumer does: decode, json.loads, one json.dumps per event."""
    for record in event["Records"]:
        body = record["CMQ"]["msgBody"]
        if not body.startswith("{"):
            body = base64.b64decode(body).decode("utf-8")
        for entry in json.loads(body)["Events"]:
            json.dumps(entry)


def churn_floor(event: dict[str, Any]) -> None:
    """The least log_node_churn's contract allows: the baseline, plus a content fingerprint per event
    (sorted JSON, sha256), with the one json.dumps writing the node_event line instead of the event."""
    for record in event["Records"]:
        body = record["CMQ"]["msgBody"]
        if not body.startswith("{"):
            body = base64.b64decode(body).decode("utf-8")
        for position, entry in enumerate(json.loads(body)["Events"]):
            canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
            batch = entry.get("Batch") or {}
            line = {
                "ts": time.time(),
                "level": "INFO",
                "msg": "node event",
                "function": "log_node_churn",
                "request_id": None,
                "kind": "node_event",
                "event": entry.get("EventName"),
                "region": entry.get("Region"),
                "env_id": batch.get("EnvId"),
                "env_name": batch.get("EnvName"),
                "node_id": batch.get("ComputeNodeId"),
                "instance_id": batch.get("ComputeNodeInstanceId"),
                "node_state": batch.get("ComputeNodeState"),
                "cpu": batch.get("Cpu"),
                "mem": batch.get("Mem"),
                "event_time": entry.get("EventTime"),
                "resource_created_time": batch.get("ResourceCreatedTime"),
                "node_age_s": None,
                "state_reason": batch.get("StateReason"),
                "event_vars": {},
                "msg_id": record["CMQ"].get("msgId"),
                "position": position,
                "fingerprint": digest,
            }
            json.dumps(line)


def throughput(environment: Callable[[str], contextlib.AbstractContextManager[Any]]) -> list[dict[str, Any]]:
    """Events per second of the baseline, the envelope and each handler; ratios to the baseline."""
    rows = []
    handlers = {f: load_handler(f) for f in FUNCTIONS}
    for encode in (False, True):
        for n in SIZES:
            repeat = _repeat_for(n)
            generic = _event(EventName.TASK_INSTANCE_FAILED, n, encode)
            base = _best_time(partial(baseline, generic), repeat)
            row: dict[str, Any] = {
                "records": n,
                "body": "base64" if encode else "raw",
                "baseline_eps": n / base,
            }
            envelope = _best_time(partial(parse_trigger_event, generic), repeat)
            row["envelope"] = {"eps": n / envelope, "ratio": envelope / base}
            for function in FUNCTIONS:
                event = _event(WORKLOAD[function], n, encode)
                fn_base = _best_time(partial(baseline, event), repeat)
                with environment(function), contextlib.redirect_stdout(io.StringIO()):
                    spent = _best_time(partial(handlers[function].main_handler, event, None), repeat)
                row[function] = {"eps": n / spent, "ratio": spent / fn_base}
                if function == "log_node_churn":
                    floor = _best_time(partial(churn_floor, event), repeat)
                    row["churn_floor"] = {"eps": n / floor, "ratio": floor / fn_base}
            rows.append(row)
    return rows


def churn_steps(
    n: int = 1000, timer: Callable[[Callable[[], Any], int], float] = _best_time
) -> dict[str, Any]:
    """Where log_node_churn's time goes: each step timed alone on the same `n` raw node-event records,
    in microseconds per event and as a ratio to the baseline's time per event."""
    from churn.records import node_event_record
    from churn.summary import Churn

    from shared.log import _ENCODER, JsonLogger
    from shared.models import fingerprint

    event = _event(EventName.COMPUTE_NODE_RUNNING, n, False)
    repeat = _repeat_for(n)
    parsed = parse_trigger_event(event)
    records = [node_event_record(e) for e in parsed.events]  # also caches each event's fingerprint
    logger = JsonLogger("log_node_churn", None, stream=io.StringIO(), env={})
    lines = [{"ts": time.time(), "level": "INFO", "msg": "node event", "function": "log_node_churn", **r}
             for r in records]  # fmt: skip

    def figures() -> None:
        churn = Churn()
        for record in records:
            churn.add(record)
        churn.summaries()

    def write() -> None:
        for record in records:
            logger.write("INFO", "node event", record)

    handler = load_handler("log_node_churn")
    timed: dict[str, Callable[[], Any]] = {
        "baseline": partial(baseline, event),
        "envelope": partial(parse_trigger_event, event),
        "fingerprint": lambda: [fingerprint(e.raw) for e in parsed.events],
        "node_event_record": lambda: [node_event_record(e) for e in parsed.events],
        "churn_figures": figures,
        "line_json": lambda: [_ENCODER.encode(line) for line in lines],
        "line_write": write,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        timed["handler"] = partial(handler.main_handler, event, None)
        us = {name: timer(fn, repeat) * 1e6 / n for name, fn in timed.items()}
    # The write includes the encoding: what it adds is the header, the scrubbing and the write itself.
    us["line_header_scrub_write"] = us.pop("line_write") - us["line_json"]
    parts = (
        "envelope",
        "fingerprint",
        "node_event_record",
        "churn_figures",
        "line_json",
        "line_header_scrub_write",
    )
    us["rest"] = us["handler"] - sum(us[k] for k in parts)
    base = us["baseline"]
    return {"records": n, "steps": {k: {"us_per_event": v, "ratio": v / base} for k, v in us.items()}}


_RUNTIME_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
from bench.run import churn_ratios
print(json.dumps(churn_ratios({sizes!r})))
"""
# SCF's Python runtimes, found where the Makefile's compat check looks for them.
RUNTIMES = ("3.9", "3.10")


def churn_ratios(sizes: tuple[int, ...] = (1000, 10000)) -> list[dict[str, Any]]:
    """log_node_churn's ratio to the baseline on raw and base64 bodies (stdlib only: runs on any runtime)."""
    handler = load_handler("log_node_churn")
    rows = []
    for encode in (False, True):
        for n in sizes:
            event = _event(EventName.COMPUTE_NODE_RUNNING, n, encode)
            repeat = _repeat_for(n)
            base = _best_time(partial(baseline, event), repeat)
            with contextlib.redirect_stdout(io.StringIO()):
                spent = _best_time(partial(handler.main_handler, event, None), repeat)
            rows.append({"records": n, "body": "base64" if encode else "raw", "ratio": spent / base})
    return rows


def find_runtime(version: str) -> str | None:
    """An interpreter of this Python version on the machine (pyenv's or the system's), if any."""
    candidates = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    candidates += [Path(f"/usr/bin/python{version}"), Path(f"/usr/local/bin/python{version}")]
    found = next((c for c in candidates if c.is_file()), None)
    return str(found) if found else shutil.which(f"python{version}")


def deployed_runtimes(sizes: tuple[int, ...] = (1000, 10000)) -> dict[str, Any]:
    """The churn ratios again under each SCF runtime this machine has: the code runs there, not here."""
    out: dict[str, Any] = {}
    paths = [str(ROOT), str(ROOT / "functions" / "log_node_churn")]
    for version in RUNTIMES:
        python = find_runtime(version)
        if python is None:
            out[version] = None
            continue
        probe = _RUNTIME_PROBE.format(paths=paths, sizes=sizes)
        text = subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT)
        out[version] = json.loads(text.stdout.splitlines()[-1])
    return out


# --- memory -----------------------------------------------------------------------------------

_MEMORY_PROBE = """
import json, sys, io, contextlib
def peak_mb():
    # VmHWM starts afresh at exec; ru_maxrss would carry over the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
sys.path[:0] = {paths!r}
from shared.catalogue import EventName
from tools.generate_event import trigger_event
event = trigger_event(EventName[{name!r}], records={n})
if {run!r}:
    from bench.scenarios import environment
    from tools.invoke import load_handler
    handler = load_handler({function!r})
    with environment({function!r}), contextlib.redirect_stdout(io.StringIO()):
        handler.main_handler(event, None)
print(peak_mb())
"""


def memory(env_for: Callable[[str], dict[str, str]]) -> dict[str, Any]:
    """Peak RSS (MB) of a fresh process handling 1,000 and 10,000 records, and of one only building them."""
    out: dict[str, Any] = {}
    paths = [str(ROOT)] + [str(ROOT / "functions" / f) for f in FUNCTIONS]
    for function in FUNCTIONS:
        for n in (1000, 10000):
            results = []
            for run in (False, True):
                probe = _MEMORY_PROBE.format(
                    paths=paths, name=WORKLOAD[function].name, n=n, run=run, function=function
                )
                env = {**os.environ, **env_for(function)}
                text = subprocess.run(
                    [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env
                )
                results.append(float(text.stdout.split()[-1]))
            out[f"{function}@{n}"] = {"peak_rss_mb": results[1], "input_only_mb": results[0]}
    return out


# --- package size -----------------------------------------------------------------------------


def package_sizes() -> dict[str, Any]:
    """What `make package` builds, beside the unpacked size of the monolithic SDK wheel."""
    from tools import package

    with tempfile.TemporaryDirectory() as tmp:
        sizes = package.build(Path(tmp) / "build")
        mono = Path(tmp) / "mono"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
             "--target", str(mono),
             "tencentcloud-sdk-python==3.1.195"],
            check=True, capture_output=True,
        )  # fmt: skip
        monolith = package.size_of(mono)
    return {"functions_mb": {k: v / 1e6 for k, v in sizes.items()}, "monolithic_sdk_mb": monolith / 1e6}


# --- report -----------------------------------------------------------------------------------


def main() -> int:
    """Run everything, print the table, write the JSON."""
    from bench.scenarios import alert_fanout, environment, memory_env

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d"),
        }
    }
    results["cold_start"] = cold_start()
    results["throughput"] = throughput(environment)
    results["churn_steps"] = churn_steps()
    results["runtimes"] = deployed_runtimes()
    results["memory"] = memory(memory_env)
    results["alert_fanout"] = alert_fanout()
    results["package"] = package_sizes()
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(render_table(results))
    return 0


def render_table(r: dict[str, Any]) -> str:
    """The Markdown the README shows."""
    m = r["machine"]
    lines = [f"Measured {m['when']} on {m['platform']}, {m['cpus']} CPUs, Python {m['python']}.", ""]
    lines += [
        "| cold start | import wall time | ratio to `python -c pass` | heavy modules loaded |",
        "|---|---|---|---|",
    ]
    for f, v in r["cold_start"]["functions"].items():
        lines.append(
            f"| {f} | {v['wall_s'] * 1000:.0f} ms | {v['ratio_to_bare']:.2f}x "
            f"| {', '.join(v['heavy_modules']) or 'none'} |"
        )
    lines += [
        "",
        "| records | body | baseline ev/s | envelope | " + " | ".join(FUNCTIONS) + " | churn floor |",
        "|---" * (5 + len(FUNCTIONS)) + "|",
    ]
    for row in r["throughput"]:
        columns = ("envelope", *FUNCTIONS, "churn_floor")
        cells = [f"{row[k]['eps']:,.0f} ev/s ({row[k]['ratio']:.1f}x)" for k in columns]
        lines.append(
            f"| {row['records']:,} | {row['body']} | {row['baseline_eps']:,.0f} | " + " | ".join(cells) + " |"
        )
    lines += _render_churn(r)
    lines += ["", "| memory | peak RSS handling | RSS of the input alone |", "|---|---|---|"]
    for k, v in r["memory"].items():
        lines.append(f"| {k} records | {v['peak_rss_mb']:.1f} MB | {v['input_only_mb']:.1f} MB |")
    lines += [
        "",
        "| alert fan-out: 1,000 failure events over | jobs | outbound requests per channel |",
        "|---|---|---|",
    ]
    for row in r["alert_fanout"]:
        lines.append(f"| | {row['jobs']} | {row['requests_per_channel']} |")
    p = r["package"]
    sizes = ", ".join(f"{k} {v:.1f} MB" for k, v in p["functions_mb"].items())
    lines += [
        "",
        f"Package: {sizes}; the monolithic `tencentcloud-sdk-python` alone unpacks to "
        f"{p['monolithic_sdk_mb']:.0f} MB.",
    ]
    return "\n".join(lines)


STEP_LABELS = {
    "baseline": "baseline: decode, `json.loads`, one `json.dumps`",
    "envelope": "envelope: decode, JSON, typed event, source record",
    "fingerprint": "content fingerprint (sorted JSON, sha256)",
    "node_event_record": "node_event fields: times, node age, variables",
    "churn_figures": "dedupe and churn figures",
    "line_json": "node_event line: JSON encoding",
    "line_header_scrub_write": "node_event line: header, scrubbing, write",
    "rest": "the rest: loop, summary lines, garbage collection",
    "handler": "log_node_churn, whole invocation",
}


def _render_churn(r: dict[str, Any]) -> list[str]:
    steps = r["churn_steps"]
    lines = [
        "",
        f"| log_node_churn, step by step ({steps['records']:,} raw records) | us per event | x baseline |",
        "|---|---|---|",
    ]
    for key, label in STEP_LABELS.items():
        step = steps["steps"][key]
        lines.append(f"| {label} | {step['us_per_event']:.1f} | {step['ratio']:.2f}x |")
    runtimes = r["runtimes"]
    columns = [(row["records"], row["body"]) for row in next((v for v in runtimes.values() if v), [])]
    heads = [f"{n:,} {body}" for n, body in columns] or ["ratio to the baseline"]
    lines += ["", "| log_node_churn on SCF's runtimes | " + " | ".join(heads) + " |"]
    lines.append("|---" * (1 + len(heads)) + "|")
    for version, rows in runtimes.items():
        cells = [f"{row['ratio']:.1f}x" for row in rows] if rows else ["not on this machine"]
        lines.append(f"| Python {version} | " + " | ".join(cells) + " |")
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
