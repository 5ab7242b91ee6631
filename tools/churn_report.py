"""The operators' churn report: from a JSON-lines export of log_node_churn's logs (a CLS download).

    python -m tools.churn_report export.jsonl --chart churn.png

Prints, per environment, the events by name, nodes seen, abnormal and creation-failure rates
and node ages and lifetimes; with --chart, writes a PNG of node lifetimes and of events over
time (matplotlib, from requirements-report.txt: an optional extra, never deployed).

A line may be the log line itself or a CLS record that carries it in a text field such as
`SCF_Message` (possibly after a timestamp / request-id prefix). Lines that are not JSON, or
node_event lines without an event name, are counted and listed, never fatal. The figures come
from the node_event lines (each event counted once, by its name, environment, node and time), so
an export that also holds churn_summary lines is not counted twice.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from shared.envelope import parse_time

# The summary arithmetic is the function's own (functions/log_node_churn/churn/summary.py),
# so the report and the churn_summary lines always agree.
_FUNCTION_DIR = Path(__file__).resolve().parent.parent / "functions" / "log_node_churn"
if str(_FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(_FUNCTION_DIR))

from churn.records import NODE_EVENT  # noqa: E402
from churn.summary import Churn, text  # noqa: E402

MESSAGE_FIELDS = ("SCF_Message", "message", "content", "__CONTENT__", "log")
MAX_BAD_SHOWN = 10
MAX_ENVS_CHARTED = 8


@dataclass
class Export:
    """What an export held: node_event records, and the lines that could not be used."""

    lines: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    ignored: int = 0


@dataclass
class Report:
    """The churn of a whole export, per environment, with the events' times for the chart."""

    export: Export
    churn: Churn
    summaries: list[dict[str, Any]]
    timeline: list[tuple[datetime, str]]
    lifetimes: dict[Optional[str], list[float]]


def _object_in(value: str) -> Optional[dict[str, Any]]:
    start = value.find("{")
    if start < 0:
        return None
    try:
        found = json.loads(value[start:])
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def unwrap(obj: dict[str, Any]) -> dict[str, Any]:
    """The function's own log object: the line itself, or the one inside a CLS record's text field."""
    if "kind" in obj or "msg" in obj:
        return obj
    for key in (*MESSAGE_FIELDS, *obj.keys()):
        value = obj.get(key)
        if isinstance(value, str):
            inner = _object_in(value)
            if inner is not None:
                return inner
    return obj


def read_export(lines: Iterable[str]) -> Export:
    """Sort an export's lines into node_event records, bad lines and other (ignored) lines."""
    export = Export()
    for number, raw in enumerate(lines, 1):
        export.lines += 1
        line = raw.strip()
        if not line:
            export.ignored += 1
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            export.bad.append((number, "not JSON"))
            continue
        if not isinstance(obj, dict):
            export.bad.append((number, "not a JSON object"))
            continue
        record = unwrap(obj)
        if record.get("kind") != NODE_EVENT:
            export.ignored += 1  # other log lines (summaries, rejections, other functions)
            continue
        if text(record.get("event")) is None:
            export.bad.append((number, "node_event without an event name"))
            continue
        export.records.append(record)
    return export


def build_report(export: Export) -> Report:
    """Add the export's node events up per environment."""
    churn = Churn()
    timeline: list[tuple[datetime, str]] = []
    lifetimes: dict[Optional[str], list[float]] = {}
    for record in export.records:
        if not churn.add(record):
            continue
        moment = parse_time(record.get("event_time"))
        if moment is not None:
            timeline.append((moment, str(record["event"])))
    for env_id, env in churn.envs.items():
        lifetimes[env_id] = list(env.lifetimes)
    return Report(export, churn, churn.summaries(), sorted(timeline), lifetimes)


def duration(seconds: Optional[float]) -> str:
    """Seconds as a short human duration: 45s, 12m 5s, 3h 10m, 2d 4h."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _short(event: str) -> str:
    return event.replace("COMPUTE_NODE_", "").replace("COMPUTE_", "")


def format_report(report: Report) -> str:
    """The report as text, one block per environment."""
    export = report.export
    out = [
        f"churn report: {len(export.records)} node events from {export.lines} lines "
        f"({len(export.bad)} bad, {export.ignored} other, {report.churn.duplicates} duplicates), "
        f"{len(report.summaries)} environment(s)"
    ]
    if export.bad:
        shown = ", ".join(f"{n} ({why})" for n, why in export.bad[:MAX_BAD_SHOWN])
        more = f" and {len(export.bad) - MAX_BAD_SHOWN} more" if len(export.bad) > MAX_BAD_SHOWN else ""
        out.append(f"bad lines: {shown}{more}")
    if report.timeline:
        out.append(f"from {report.timeline[0][0].isoformat()} to {report.timeline[-1][0].isoformat()}")
    for s in report.summaries:
        ages, life = s["node_age_s"], s["lifetime_s"]
        counts = "  ".join(f"{_short(k)} {v}" for k, v in s["counts"].items())
        out += [
            "",
            f"{s['env_id'] or '(no env id)'}  {s['env_name'] or ''}  {s['region'] or ''}".rstrip(),
            f"  events        {s['events']}: {counts}",
            f"  nodes seen    {s['nodes_seen']}",
            f"  abnormal      {s['abnormal_nodes']} nodes ({_pct(s['abnormal_rate'])})",
            f"  creation      {s['creation_failures']} failed of {s['creation_attempts']} "
            f"({_pct(s['creation_failure_rate'])})",
            f"  node age      min {duration(ages['min'])}  median {duration(ages['median'])}  "
            f"max {duration(ages['max'])}  ({ages['known']} known)",
            f"  lifetime      min {duration(life['min'])}  median {duration(life['median'])}  "
            f"max {duration(life['max'])}  ({life['known']} nodes deleted)",
        ]
    return "\n".join(out) + "\n"


def _label(summary: dict[str, Any]) -> str:
    # The default font has no CJK glyphs: a non-ASCII name would draw as boxes, so the id stands in.
    name = summary.get("env_name") or ""
    env_id = summary.get("env_id") or "(no env id)"
    return f"{name}\n{env_id}" if name and name.isascii() else str(env_id)


def _bucket(span: timedelta) -> timedelta:
    for step in (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)):
        if span / step <= 60:
            return step
    return timedelta(days=1)


def _step_label(step: timedelta) -> str:
    minutes = int(step.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def write_chart(report: Report, path: Path) -> None:
    """A PNG with node lifetimes per environment (top) and events per time bucket (bottom)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8.5), constrained_layout=True)
    charted = sorted(report.summaries, key=lambda s: -s["events"])[:MAX_ENVS_CHARTED]
    kept = [(s, [v / 3600 for v in report.lifetimes.get(s["env_id"], [])]) for s in charted]
    kept = [(s, d) for s, d in kept if d]
    if kept:
        top.boxplot([d for _, d in kept], orientation="horizontal", showfliers=False)
        for row, (_, hours) in enumerate(kept, 1):
            # Every lifetime as a dot too: a box of two values says little on its own.
            top.scatter(hours, [row] * len(hours), s=12, alpha=0.5, color="tab:blue", zorder=3)
        top.set_yticks(range(1, len(kept) + 1), [_label(s) for s, _ in kept], fontsize=8)
        top.set_xlabel("hours from creation to COMPUTE_NODE_DELETING")
        top.set_xlim(left=0)
        top.grid(axis="x", alpha=0.3)
    else:
        top.text(0.5, 0.5, "no node lifetimes known (no COMPUTE_NODE_DELETING with ages)", ha="center")
        top.set_axis_off()
    top.set_title("Node lifetimes per environment")

    if report.timeline:
        start, end = report.timeline[0][0], report.timeline[-1][0]
        step = _bucket(end - start)
        per_event: dict[str, Counter[int]] = {}
        for moment, event in report.timeline:
            per_event.setdefault(event, Counter())[int((moment - start) / step)] += 1
        slots = int((end - start) / step) + 1
        times = [start + step * i for i in range(slots)]
        base = [0] * slots
        for event in sorted(per_event):
            heights = [per_event[event].get(i, 0) for i in range(slots)]
            bottom.bar(times, heights, width=step * 0.9, bottom=base, align="edge", label=_short(event))
            base = [b + h for b, h in zip(base, heights)]
        bottom.set_ylabel(f"events per {_step_label(step)}")
        bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
        bottom.set_ylim(0, max(base) * 1.3 + 1)  # headroom: the legend must not hide a bar
        bottom.legend(fontsize=8, ncol=4)
        bottom.grid(axis="y", alpha=0.3)
        bottom.tick_params(axis="x", labelrotation=20)
    else:
        bottom.text(0.5, 0.5, "no event times", ha="center")
        bottom.set_axis_off()
    bottom.set_title("Node and environment events over time (UTC)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print the report, and write the chart when asked."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("export", type=Path, help="JSON-lines export of log_node_churn's logs")
    parser.add_argument("--chart", type=Path, help="write a PNG chart here")
    args = parser.parse_args(argv)
    try:
        with args.export.open(encoding="utf-8", errors="replace") as handle:
            export = read_export(handle)
    except OSError as exc:
        print(f"cannot read {args.export}: {exc.strerror}", file=sys.stderr)
        return 2
    report = build_report(export)
    sys.stdout.write(format_report(report))
    if not export.records:
        print("no node_event lines in this export: is it log_node_churn's log?", file=sys.stderr)
        return 1
    if args.chart:
        try:
            write_chart(report, args.chart)
        except ImportError:
            print("the chart needs matplotlib: pip install -r requirements-report.txt", file=sys.stderr)
            return 3
        print(f"chart written to {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
