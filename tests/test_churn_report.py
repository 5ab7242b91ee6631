"""The operators' churn report (tools.churn_report) on a generated CLS export, and its chart."""

from __future__ import annotations

import json
import struct
import sys
import warnings
from datetime import timedelta

import pytest

from shared.catalogue import EventName
from tests.helpers import json_lines, load_event, load_handler
from tools import churn_report
from tools.generate_event import BASE_TIME, trigger_event

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _logs_of(event, capsys):
    load_handler("log_node_churn").main_handler(event, {"request_id": "export"})
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def _generated_lines(capsys):
    """Three invocations over three days: two environments (one with a Chinese name)."""
    lines = _logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    for day in range(3):
        for name, count in ((EventName.COMPUTE_NODE_CREATED, 6), (EventName.COMPUTE_NODE_DELETING, 4)):
            when = BASE_TIME + timedelta(days=day, hours=2 * count)
            event = trigger_event(
                name,
                records=count,
                env_id="env-render02",
                env_name="render-west",
                node_id=f"node-d{day}",
                when=when,
                created=BASE_TIME + timedelta(days=day),
                msg_id_prefix=f"d{day}-{name.value}-",
            )
            lines += _logs_of(event, capsys)
    failed = trigger_event(
        EventName.COMPUTE_NODE_CREATION_FAILED, env_id="env-render02", env_name="render-west"
    )
    lines += _logs_of(failed, capsys)
    return lines


@pytest.fixture
def export(tmp_path, capsys):
    lines = _generated_lines(capsys)
    # A CLS download carries each line in SCF_Message (here with SCF's timestamp / request-id prefix).
    wrapped = [
        json.dumps(
            {"SCF_FunctionName": "log_node_churn", "SCF_Message": f"2026-11-20T08:00:00Z\treq\t{line}"}
        )
        for line in lines[:5]
    ]
    body = wrapped + lines[5:]
    body.insert(3, "this is not json")
    body.insert(7, "[1, 2, 3]")
    body.insert(9, json.dumps({"kind": "node_event", "env_id": "env-x"}))  # no event name
    body.append(lines[1])  # the same node event exported twice
    body.append("")
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path


def test_report_prints_churn_per_environment_and_reports_bad_lines(export, capsys):
    # GIVEN a generated export with 3 bad lines, a duplicate and CLS-wrapped lines
    # WHEN the report runs without a chart
    code = churn_report.main([str(export)])
    out = capsys.readouterr().out
    # THEN it succeeds, counts and lists the bad lines, and prints each environment's churn
    assert code == 0
    assert "3 bad" in out and "1 duplicates" in out
    assert (
        "(not JSON)" in out and "(not a JSON object)" in out and "(node_event without an event name)" in out
    )
    assert "env-churn001  渲染集群-华南  ap-guangzhou" in out
    assert "env-render02  render-west" in out
    assert "creation      1 failed of 3 (33.3%)" in out
    assert "lifetime      min 1h 9m  median 2h 4m  max 3h 0m  (2 nodes deleted)" in out


def test_report_figures_agree_with_the_functions_own_summary(capsys):
    # GIVEN the logs of one invocation
    lines = _logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    (from_function,) = [x for x in json_lines("\n".join(lines)) if x.get("kind") == "churn_summary"]
    # WHEN the report reads them THEN its figures are the function's
    report = churn_report.build_report(churn_report.read_export(lines))
    (from_report,) = report.summaries
    assert from_report == {k: v for k, v in from_function.items() if k in from_report}
    assert report.export.ignored == len(lines) - 8  # the summary lines are not counted twice


def test_export_figures_add_up_across_invocations(export):
    # GIVEN the generated export WHEN reported
    report = churn_report.build_report(
        churn_report.read_export(export.read_text(encoding="utf-8").splitlines())
    )
    # THEN env-render02 holds 3 days x (6 created + 4 deleting) + 1 creation failure, each counted once
    west = next(s for s in report.summaries if s["env_id"] == "env-render02")
    assert west["counts"] == {
        "COMPUTE_NODE_CREATED": 18,
        "COMPUTE_NODE_CREATION_FAILED": 1,
        "COMPUTE_NODE_DELETING": 12,
    }
    assert west["nodes_seen"] == 19
    assert (west["creation_attempts"], west["creation_failures"]) == (19, 1)
    assert west["lifetime_s"] == {"min": 28800, "median": 28800, "max": 28800, "known": 12}
    assert report.churn.duplicates == 1
    assert len(report.timeline) == 8 + 31


def test_chart_is_a_real_png_of_readable_size(export, tmp_path, capsys):
    # GIVEN the generated export WHEN the report writes a chart (with matplotlib warnings as errors:
    # a CJK name drawn in a font without its glyphs would warn)
    chart = tmp_path / "churn.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = churn_report.main([str(export), "--chart", str(chart)])
    # THEN a real, non-trivial PNG exists
    assert code == 0
    data = chart.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1210, 935)
    assert len(data) > 30_000
    assert f"chart written to {chart}" in capsys.readouterr().out


def test_chart_without_lifetimes_or_times_still_renders(tmp_path):
    # GIVEN node events with no ages and no times WHEN charted THEN a PNG with placeholder panels
    lines = [
        json.dumps({"kind": "node_event", "event": "COMPUTE_NODE_RUNNING", "env_id": "e", "fingerprint": "f"})
    ]
    report = churn_report.build_report(churn_report.read_export(lines))
    chart = tmp_path / "empty.png"
    churn_report.write_chart(report, chart)
    assert chart.read_bytes()[:8] == PNG_SIGNATURE


def test_export_without_node_events_exits_1(tmp_path, capsys):
    # GIVEN an export of another function's logs WHEN reported THEN exit 1 with a hint
    path = tmp_path / "other.jsonl"
    path.write_text('{"msg": "summary", "function": "alert_failures"}\n', encoding="utf-8")
    assert churn_report.main([str(path), "--chart", str(tmp_path / "x.png")]) == 1
    assert "no node_event lines" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_missing_export_exits_2(tmp_path, capsys):
    assert churn_report.main([str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_chart_without_matplotlib_says_how_to_install_it(export, tmp_path, monkeypatch, capsys):
    # GIVEN matplotlib not installed WHEN a chart is asked for THEN the text report still prints, exit 3
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert churn_report.main([str(export), "--chart", str(tmp_path / "c.png")]) == 3
    captured = capsys.readouterr()
    assert "requirements-report.txt" in captured.err
    assert "env-render02" in captured.out


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0s"), (59.6, "1m 0s"), (3725, "1h 2m"), (2 * 86400 + 7200, "2d 2h")],
)
def test_durations_are_short_and_human(seconds, text):
    assert churn_report.duration(seconds) == text
