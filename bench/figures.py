"""The bench's arithmetic and its report: percentiles, GB-s, ratios against targets, the Markdown table.

Pure functions only (no timing, no I/O): tests/test_bench.py checks them on known answers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any, Optional, TypedDict

# SCF bills each run's actual duration, in milliseconds, times the configured memory
# (https://tencentcloud.com/zh/document/product/583/12284:
# 按照函数的配置内存乘以触发时的实际运行时长进行计费).
MONTH_S = 30 * 86400
PASS, MISS, SKIP = "PASS", "MISS", "SKIP"


class Figure(TypedDict):
    """One row of the report: what was measured, its target (if any) and whether it is met."""

    section: str
    name: str
    value: Optional[float]
    unit: str
    target: str
    verdict: str  # PASS, MISS, SKIP (not measured here), or "" (no target: shown for comparison)
    note: str


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated linearly between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(values: Sequence[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max (and the count) of a sample."""
    return {
        "count": float(len(values)),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def median(values: Iterable[float]) -> float:
    """The median of the values."""
    return float(statistics.median(list(values)))


def billed_ms(seconds: float) -> int:
    """A run's billed duration: its run time in whole milliseconds, rounded up (at least 1 ms)."""
    return max(1, math.ceil(seconds * 1000 - 1e-9))


def runs_per_month(period_s: float) -> float:
    """Timer runs in a 30-day month at one run every `period_s` seconds."""
    return MONTH_S / period_s


def gb_s(runs: float, run_s: float, memory_mb: int) -> float:
    """GB-seconds billed for `runs` runs of `run_s` each at `memory_mb` (memory in GB is MB / 1024)."""
    return runs * billed_ms(run_s) / 1000 * memory_mb / 1024


def idle_budget_s(limit_gb_s: float, functions: int, period_s: float, memory_mb: int) -> float:
    """The longest idle run that keeps `functions` idle functions under `limit_gb_s` a month."""
    return limit_gb_s / (functions * runs_per_month(period_s) * memory_mb / 1024)


def ratio(value: float, base: float) -> float:
    """value / base (inf when the base is zero)."""
    return value / base if base else math.inf


def figure(
    section: str,
    name: str,
    value: Optional[float],
    unit: str,
    *,
    at_most: Optional[float] = None,
    at_least: Optional[float] = None,
    below: Optional[float] = None,
    note: str = "",
) -> Figure:
    """A report row; the verdict is PASS or MISS against the one bound given, "" with none,
    SKIP when the value could not be measured here."""
    bounds = [(b, op) for b, op in ((at_most, "<="), (at_least, ">="), (below, "<")) if b is not None]
    if len(bounds) > 1:
        raise ValueError("a figure has one target at most")
    target = f"{bounds[0][1]} {format_value(bounds[0][0], unit)}" if bounds else ""
    if value is None:
        verdict = SKIP
    elif not bounds:
        verdict = ""
    else:
        bound, op = bounds[0]
        met = value <= bound if op == "<=" else value >= bound if op == ">=" else value < bound
        verdict = PASS if met else MISS
    return Figure(
        section=section, name=name, value=value, unit=unit, target=target, verdict=verdict, note=note
    )


def format_value(value: Optional[float], unit: str) -> str:
    """A value with its unit, at a precision that suits the unit."""
    if value is None:
        return "not measured"
    if math.isinf(value):
        return "inf"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("ms", "us", "s"):
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
        return f"{value:,.{digits}f} {unit}"
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
    digits = 0 if abs(value) >= 100 else 2
    return f"{value:,.{digits}f} {unit}"


def render_table(figures: Sequence[Figure]) -> str:
    """Every figure as one Markdown table, in order, with its target and verdict."""
    lines = ["| section | figure | value | target | result | note |", "|---|---|---|---|---|---|"]
    for f in figures:
        cells = (
            f["section"],
            f["name"],
            format_value(f["value"], f["unit"]),
            f["target"] or "-",
            f["verdict"] or "-",
            f["note"],
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def tally(figures: Sequence[Figure]) -> dict[str, int]:
    """How many figures passed, missed and were skipped."""
    return {v: sum(1 for f in figures if f["verdict"] == v) for v in (PASS, MISS, SKIP)}


def machine_line(machine: dict[str, Any]) -> str:
    """The sentence that says where and when a table was measured."""
    runtimes = ", ".join(f"{k} {v}" for k, v in machine.get("runtimes", {}).items()) or "none"
    return (
        f"Measured {machine['when']} on {machine['platform']}, {machine['cpus']} CPUs; bench under "
        f"Python {machine['python']}; SCF runtimes found: {runtimes}"
        + ("; --quick (smoke run, fewer repeats)." if machine.get("quick") else ".")
    )
