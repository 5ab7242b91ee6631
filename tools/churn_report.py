"""The operators' churn report: from a JSON-lines export of log_node_churn's logs (a CLS download).

    python -m tools.churn_report export.jsonl --chart churn.png
    python -m tools.churn_report export.jsonl --since 2026-11-20T00:00:00Z --until 2026-11-21T00:00:00Z

Prints, per environment, the events by name, nodes seen, abnormal and creation-failure rates
and node ages and lifetimes; with --chart, writes a PNG of node lifetimes and of events over
time (matplotlib, from requirements-report.txt: an optional extra, never deployed) to that
path, the only file it writes.

Only events in the window count: --since to --until (ISO 8601; by default the last 24 h of the
data, ending at the newest event time in the export). Events outside it are counted and said,
events without a time are kept. Each event name has one colour in every chart; the failure
events (CREATION_FAILED, ABNORMAL) are red and orange, thicker and on top. The lifetime panel
draws at most 8 environments and names every one it leaves out, on the chart and in the text.
Environment names are drawn where an installed font has their glyphs (a CJK font such as
fonts-noto-cjk), else the ids.

A line may be the log line itself or a CLS record that carries it in a text field such as
`SCF_Message` (possibly after a timestamp / request-id prefix). Lines that are not JSON, or
node_event lines without an event name, are counted and listed, never fatal. The figures come
from the node_event lines (each event counted once, by its name, environment, node and time), so
an export that also holds churn_summary lines is not counted twice.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from shared.envelope import parse_time

# The summary arithmetic is the function's own (functions/log_node_churn/churn/summary.py),
# so the report and the churn_summary lines always agree.
_FUNCTION_DIR = Path(__file__).resolve().parent.parent / "functions" / "log_node_churn"
if str(_FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(_FUNCTION_DIR))

from churn.records import NODE_EVENT  # noqa: E402
from churn.summary import Churn, event_key, text  # noqa: E402

MESSAGE_FIELDS = ("SCF_Message", "message", "content", "__CONTENT__", "log")
MAX_BAD_SHOWN = 10
MAX_ENVS_CHARTED = 8
MAX_NOTE_IDS = 6  # environment ids named in the chart's note; the text output lists them all
DEFAULT_SPAN = timedelta(hours=24)

# One colour per event name in every panel and every chart (not matplotlib's cycle, which
# depends on what is drawn). Failures are red and orange, and drawn thicker, on top.
EVENT_COLOURS: dict[str, str] = {
    "COMPUTE_ENV_CREATED": "#17becf",
    "COMPUTE_ENV_DELETED": "#8c564b",
    "COMPUTE_NODE_CREATED": "#1f77b4",
    "COMPUTE_NODE_RUNNING": "#2ca02c",
    "COMPUTE_NODE_DELETING": "#9467bd",
    "COMPUTE_NODE_CREATION_FAILED": "#d62728",
    "COMPUTE_NODE_ABNORMAL": "#ff7f0e",
}
UNKNOWN_COLOUR = "#7f7f7f"  # a name outside the catalogue (a hand-edited export)
FAILURES = ("COMPUTE_NODE_CREATION_FAILED", "COMPUTE_NODE_ABNORMAL")
# Families with CJK glyphs, as fonts-noto-cjk, fonts-wqy-* and others name them.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
_CJK_FILES = re.compile(r"cjk|wqy|wenquanyi|droidsansfallback|sourcehan|uming|ukai", re.IGNORECASE)


@dataclass
class Export:
    """What an export held: node_event records, and the lines that could not be used."""

    lines: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    ignored: int = 0


@dataclass(frozen=True)
class Window:
    """The span of event times the report counts (ends included); None is open."""

    since: Optional[datetime]
    until: Optional[datetime]
    default: bool = False  # True: the last 24 h of the data, not asked for

    def __contains__(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment <= self.until)


@dataclass
class Report:
    """The churn of an export's window, per environment, with the events' times for the chart."""

    export: Export
    churn: Churn
    summaries: list[dict[str, Any]]
    timeline: list[tuple[datetime, str]]
    lifetimes: dict[Optional[str], list[float]]
    window: Window = field(default_factory=lambda: Window(None, None))
    outside: list[datetime] = field(default_factory=list)  # times of the events outside the window
    outside_envs: list[str] = field(default_factory=list)  # environments seen only outside it
    untimed: int = 0  # events without a time: counted (a window cannot place them)
    duplicates: int = 0


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


def default_window(
    times: Sequence[datetime], since: Optional[datetime] = None, until: Optional[datetime] = None
) -> Window:
    """The window asked for; what is not given is the last DEFAULT_SPAN of the data (ending at its
    newest event time), or open when the export holds no times."""
    end = until or (max(times) if times else None)
    start = since or (end - DEFAULT_SPAN if end is not None else None)
    return Window(start, end, default=since is None and until is None)


def build_report(
    export: Export, since: Optional[datetime] = None, until: Optional[datetime] = None
) -> Report:
    """Add up the export's node events in the window, per environment; count those outside it."""
    seen: set[str] = set()
    unique: list[tuple[dict[str, Any], Optional[datetime]]] = []
    duplicates = 0
    for record in export.records:
        key = event_key(record)  # one event logged by several deliveries or invocations is one
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        unique.append((record, parse_time(record.get("event_time"))))
    window = default_window([m for _, m in unique if m is not None], since, until)
    churn = Churn()
    timeline: list[tuple[datetime, str]] = []
    outside: list[datetime] = []
    outside_envs: set[str] = set()
    untimed = 0
    for record, moment in unique:
        if moment is None:
            untimed += 1
        elif moment not in window:
            outside.append(moment)
            outside_envs.add(text(record.get("env_id")) or "(no env id)")
            continue
        else:
            timeline.append((moment, str(record["event"])))
        churn.add(record)
    lifetimes = {env_id: list(env.lifetimes) for env_id, env in churn.envs.items()}
    shown = {text(s) or "(no env id)" for s in churn.envs}
    return Report(
        export,
        churn,
        churn.summaries(),
        sorted(timeline),
        lifetimes,
        window,
        sorted(outside),
        sorted(outside_envs - shown),
        untimed,
        duplicates,
    )


def _iso(moment: Optional[datetime]) -> str:
    return "(open)" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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


def format_window(report: Report) -> list[str]:
    """What the window is, and what fell outside it."""
    window = report.window
    how = "the last 24 h of the data; --since / --until to change" if window.default else "--since / --until"
    if window.since is None and window.until is None:
        out = ["window: none (no event has a time)"]
    else:
        out = [f"window: {_iso(window.since)} to {_iso(window.until)} ({how})"]
    if report.outside:
        out.append(
            f"{len(report.outside)} events outside the window, from {_iso(report.outside[0])} "
            f"to {_iso(report.outside[-1])}: not counted"
        )
    if report.outside_envs:
        out.append("environments with events only outside the window: " + ", ".join(report.outside_envs))
    if report.untimed:
        out.append(f"{report.untimed} events without a time: counted")
    return out


def format_report(report: Report) -> str:
    """The report as text, one block per environment."""
    export = report.export
    counted = sum(s["events"] for s in report.summaries)
    out = [
        f"churn report: {counted} node events from {export.lines} lines "
        f"({len(export.bad)} bad, {export.ignored} other, {report.duplicates} duplicates), "
        f"{len(report.summaries)} environment(s)"
    ]
    if export.bad:
        shown = ", ".join(f"{n} ({why})" for n, why in export.bad[:MAX_BAD_SHOWN])
        more = f" and {len(export.bad) - MAX_BAD_SHOWN} more" if len(export.bad) > MAX_BAD_SHOWN else ""
        out.append(f"bad lines: {shown}{more}")
    out += format_window(report)
    if report.timeline:
        out.append(f"events from {_iso(report.timeline[0][0])} to {_iso(report.timeline[-1][0])}")
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


def colour_of(event: str) -> str:
    """The event name's fixed colour."""
    return EVENT_COLOURS.get(event, UNKNOWN_COLOUR)


@dataclass(frozen=True)
class ChartPlan:
    """Which environments the lifetime panel draws, and which it leaves out and why."""

    drawn: list[dict[str, Any]]
    beyond_limit: list[str]  # had lifetimes, but more than MAX_ENVS_CHARTED environments did
    without_lifetimes: list[str]  # no node deleted (with a known age) in the window


def _env(summary: dict[str, Any]) -> str:
    return str(summary.get("env_id") or "(no env id)")


def chart_plan(report: Report) -> ChartPlan:
    """The environments with the most lifetimes known are drawn; every other one is named."""
    with_lifetimes = [s for s in report.summaries if report.lifetimes.get(s["env_id"])]
    ranked = sorted(
        with_lifetimes, key=lambda s: (-len(report.lifetimes[s["env_id"]]), -s["events"], _env(s))
    )
    return ChartPlan(
        drawn=ranked[:MAX_ENVS_CHARTED],
        beyond_limit=[_env(s) for s in ranked[MAX_ENVS_CHARTED:]],
        without_lifetimes=[_env(s) for s in report.summaries if not report.lifetimes.get(s["env_id"])],
    )


def format_plan(plan: ChartPlan) -> list[str]:
    """The chart's left-out environments, for the text output (all of them)."""
    out = [f"lifetime panel: {len(plan.drawn)} environment(s) drawn"]
    if plan.beyond_limit:
        out.append(
            f"  left out, beyond the {MAX_ENVS_CHARTED} with most lifetimes: " + ", ".join(plan.beyond_limit)
        )
    if plan.without_lifetimes:
        out.append("  left out, no node lifetime known: " + ", ".join(plan.without_lifetimes))
    return out


def _note(plan: ChartPlan) -> Optional[str]:
    """The chart's note naming what the lifetime panel leaves out (at most MAX_NOTE_IDS ids each)."""

    def ids(items: list[str]) -> str:
        more = f" and {len(items) - MAX_NOTE_IDS} more" if len(items) > MAX_NOTE_IDS else ""
        return ", ".join(items[:MAX_NOTE_IDS]) + more

    parts = []
    if plan.beyond_limit:
        parts.append(f"{len(plan.beyond_limit)} more environment(s) not drawn: {ids(plan.beyond_limit)}")
    if plan.without_lifetimes:
        parts.append(f"no lifetime known: {ids(plan.without_lifetimes)}")
    return "; ".join(parts) + " (all in the text report)" if parts else None


@lru_cache(maxsize=1)
def cjk_font() -> Optional[str]:
    """A font family with CJK glyphs installed on this system (e.g. fonts-noto-cjk), else None.

    matplotlib's font cache predates fonts installed after it was built, so the system's font
    files are looked at too and registered."""
    from matplotlib import font_manager

    def known() -> Optional[str]:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((family for family in CJK_FAMILIES if family in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # an unreadable font file is no reason to fail the chart
        found = known()
    return found


@lru_cache(maxsize=8)
def _charmap(family: str) -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


def drawable(value: str, families: Sequence[str]) -> bool:
    """True when every character of `value` has a glyph in one of these font families."""
    maps = [_charmap(family) for family in families]
    return all(any(ord(ch) in m for m in maps) for ch in value)


def _label(summary: dict[str, Any], families: Sequence[str]) -> str:
    # A name the fonts cannot draw would show as boxes: then the id stands alone.
    name = str(summary.get("env_name") or "")
    env_id = _env(summary)
    return f"{name}\n{env_id}" if name and drawable(name, families) else env_id


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


def _event_order(event: str) -> tuple[int, str]:
    names = list(EVENT_COLOURS)
    return (names.index(event) if event in names else len(names), event)


def draw_chart(report: Report) -> Any:
    """The chart as a matplotlib Figure: node lifetimes per environment (top), events per time
    bucket over the window (bottom), and a note naming the environments left out."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine
    from matplotlib.ticker import MaxNLocator

    cjk = cjk_font()
    families = ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]
    plan = chart_plan(report)
    with plt.rc_context({"font.family": families}):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8.5), constrained_layout=True)
        _draw_lifetimes(top, report, plan, families)
        _draw_timeline(bottom, report, MaxNLocator)
        note = _note(plan)
        if note:
            fig.text(0.01, 0.005, note, fontsize=8, color="#444444", ha="left", va="bottom", gid="left-out")
            engine = fig.get_layout_engine()
            if isinstance(engine, ConstrainedLayoutEngine):
                engine.set(rect=(0, 0.03, 1, 0.97))  # room for the note under the panels
    return fig


def _draw_lifetimes(top: Any, report: Report, plan: ChartPlan, families: Sequence[str]) -> None:
    if plan.drawn:
        rows = [[v / 3600 for v in report.lifetimes[s["env_id"]]] for s in plan.drawn]
        # Black medians: orange and red belong to the failure events in every chart.
        top.boxplot(rows, orientation="horizontal", showfliers=False, medianprops={"color": "black"})
        for row, hours in enumerate(rows, 1):
            # Every lifetime as a dot too (a lifetime is a node's age at DELETING: that colour).
            top.scatter(
                hours, [row] * len(hours), s=12, alpha=0.6, color=colour_of("COMPUTE_NODE_DELETING"), zorder=3
            )
        top.set_yticks(range(1, len(rows) + 1), [_label(s, families) for s in plan.drawn], fontsize=8)
        top.set_xlabel("hours from creation to COMPUTE_NODE_DELETING")
        top.set_xlim(left=0)
        top.invert_yaxis()  # the environment with most lifetimes on top
        top.grid(axis="x", alpha=0.3)
    else:
        top.text(0.5, 0.5, "no node lifetimes known (no COMPUTE_NODE_DELETING with ages)", ha="center")
        top.set_axis_off()
    top.set_title("Node lifetimes per environment")


def _draw_timeline(bottom: Any, report: Report, locator: Any) -> None:
    window = report.window
    if not report.timeline:
        bottom.text(0.5, 0.5, "no event times in the window", ha="center")
        bottom.set_axis_off()
        bottom.set_title("Node and environment events over time (UTC)")
        return
    start = window.since or report.timeline[0][0]
    end = window.until or report.timeline[-1][0]
    step = _bucket(end - start)
    slots = int((end - start) / step) + 1
    per_event: dict[str, Counter[int]] = {}
    for moment, event in report.timeline:
        per_event.setdefault(event, Counter())[int((moment - start) / step)] += 1
    edges = [start + step * i for i in range(slots + 1)]
    highest = 0
    for event in sorted(per_event, key=_event_order):
        counts = [per_event[event].get(i, 0) for i in range(slots)]
        highest = max(highest, *counts)
        failure = event in FAILURES
        bottom.plot(
            edges,
            [*counts, counts[-1]],
            drawstyle="steps-post",
            color=colour_of(event),
            linewidth=3.0 if failure else 1.4,
            zorder=4 if failure else 2,
            alpha=1.0 if failure else 0.85,
            label=_short(event),
            gid=event,
        )
    bottom.set_xlim(start, end)
    bottom.set_ylabel(f"events per {_step_label(step)}")
    bottom.yaxis.set_major_locator(locator(integer=True))
    bottom.set_ylim(0, highest * 1.3 + 1)  # headroom: the legend must not hide a line
    bottom.legend(fontsize=8, ncol=4, loc="upper left")
    bottom.grid(axis="y", alpha=0.3)
    bottom.tick_params(axis="x", labelrotation=20)
    bottom.set_title(f"Node and environment events over time (UTC), {_iso(start)} to {_iso(end)}")


def write_chart(report: Report, path: Path) -> ChartPlan:
    """Write the chart as a PNG at `path` (and nowhere else); what the lifetime panel drew."""
    import matplotlib.pyplot as plt

    fig = draw_chart(report)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return chart_plan(report)


def _moment(parser: argparse.ArgumentParser, option: str, value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        parser.error(f"{option} {value!r} is not an ISO 8601 time (e.g. 2026-11-20T08:00:00Z)")
    return moment


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print the report, and write the chart when asked."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.churn_report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("export", type=Path, help="JSON-lines export of log_node_churn's logs")
    parser.add_argument("--chart", type=Path, help="write a PNG chart here (the only file written)")
    parser.add_argument("--since", help="count events from this time, ISO 8601 (default: --until - 24 h)")
    parser.add_argument("--until", help="count events up to this time (default: the newest in the export)")
    args = parser.parse_args(argv)
    since = _moment(parser, "--since", args.since)
    until = _moment(parser, "--until", args.until)
    if since is not None and until is not None and since > until:
        parser.error(f"--since {args.since} is after --until {args.until}")
    try:
        with args.export.open(encoding="utf-8", errors="replace") as handle:
            export = read_export(handle)
    except OSError as exc:
        print(f"cannot read {args.export}: {exc.strerror}", file=sys.stderr)
        return 2
    report = build_report(export, since, until)
    sys.stdout.write(format_report(report))
    if not export.records:
        print("no node_event lines in this export: is it log_node_churn's log?", file=sys.stderr)
        return 1
    if not report.summaries:
        print("no node events in the window: widen it with --since / --until", file=sys.stderr)
        return 1
    if args.chart:
        try:
            plan = write_chart(report, args.chart)
        except ImportError:
            print("the chart needs matplotlib: pip install -r requirements-report.txt", file=sys.stderr)
            return 3
        except OSError as exc:
            print(f"cannot write {args.chart}: {exc.strerror}", file=sys.stderr)
            return 2
        print("\n".join(format_plan(plan)))
        print(f"chart written to {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
