"""The operators' churn report (tools.churn_report) on a generated CLS export, and its chart."""

from __future__ import annotations

import json
import struct
import sys
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from shared.catalogue import EventName
from tests.helpers import json_lines, load_event, load_handler
from tools import churn_report
from tools.generate_event import BASE_TIME, trigger_event

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The generated export spans 2026-11-20 to 2026-11-22: this window holds all of it.
WHOLE = ["--since", "2026-11-19T00:00:00Z", "--until", "2026-11-23T00:00:00Z"]
WHOLE_SINCE = datetime(2026, 11, 19, tzinfo=timezone.utc)


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
    code = churn_report.main([str(export), *WHOLE])
    out = capsys.readouterr().out
    # THEN it succeeds, counts and lists the bad lines, and prints each environment's churn
    assert code == 0
    assert "window: 2026-11-19T00:00:00Z to 2026-11-23T00:00:00Z (--since / --until)" in out
    assert "outside the window" not in out
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
        churn_report.read_export(export.read_text(encoding="utf-8").splitlines()), since=WHOLE_SINCE
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
    assert report.duplicates == 1
    assert len(report.timeline) == 8 + 31 and not report.outside


def test_chart_is_a_real_png_of_readable_size(export, tmp_path, capsys):
    # GIVEN the generated export WHEN the report writes a chart (with matplotlib warnings as errors:
    # a CJK name drawn in a font without its glyphs would warn)
    chart = tmp_path / "churn.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = churn_report.main([str(export), "--chart", str(chart), *WHOLE])
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
    assert "window: none (no event has a time)" in churn_report.format_report(report)
    assert report.untimed == 1 and report.summaries[0]["events"] == 1
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


# -- the window ------------------------------------------------------------------------------------


def _seed_sample_lines(capsys):
    """The seed's own 2018 example, as log_node_churn logs it."""
    return _logs_of(load_event("batch_message_compute_node_created.json"), capsys)


def _report(lines, **window):
    return churn_report.build_report(churn_report.read_export(lines), **window)


def test_default_window_is_the_last_24_hours_and_says_what_fell_outside(capsys):
    # GIVEN the seed's 2018 sample and an environment's events of 2026-11-20 (8:00 to 11:00)
    old = _seed_sample_lines(capsys)
    lines = old + _logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    # WHEN reported without --since / --until
    report = _report(lines)
    text = churn_report.format_report(report)
    # THEN the window is the 24 h before the newest event, and the 2018 event is counted out, and said
    assert report.window.until == datetime(2026, 11, 20, 11, 0, tzinfo=timezone.utc)
    assert report.window.since == report.window.until - timedelta(hours=24)
    assert "window: 2026-11-19T11:00:00Z to 2026-11-20T11:00:00Z (the last 24 h of the data" in text
    assert "1 events outside the window, from 2018-06-15T14:43:17Z to 2018-06-15T14:43:17Z" in text
    assert [s["env_id"] for s in report.summaries] == ["env-churn001"]
    assert "environments with events only outside the window: env-ptoxdb1t" in text


def test_since_and_until_bound_the_figures_and_count_the_rest(tmp_path, capsys):
    # GIVEN the environment's events from 8:00 to 11:00
    path = tmp_path / "export.jsonl"
    lines = _logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # WHEN the window is 8:30 to 10:00 (10:00 given as 18:00 at UTC+8)
    window = ["--since", "2026-11-20T08:30:00Z", "--until", "2026-11-20T18:00:00+08:00"]
    code = churn_report.main([str(path), *window])
    out = capsys.readouterr().out
    # THEN only the two events of 9:05 and 9:10 count , the rest are said
    assert code == 0
    assert "events        2: ABNORMAL 1  DELETING 1" in out
    assert "6 events outside the window, from 2026-11-20T08:00:00Z to 2026-11-20T11:00:00Z" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not an ISO 8601 time"),
        (["--since", "2026-11-21T00:00:00Z", "--until", "2026-11-20T00:00:00Z"], "is after --until"),
    ],
)
def test_bad_window_is_a_clear_error(argv, message, tmp_path, capsys):
    path = tmp_path / "export.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        churn_report.main([str(path), *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_window_without_events_exits_1_and_writes_no_chart(tmp_path, capsys):
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(_seed_sample_lines(capsys)) + "\n", encoding="utf-8")
    chart = tmp_path / "c.png"
    assert churn_report.main([str(path), "--since", "2026-01-01T00:00:00Z", "--chart", str(chart)]) == 1
    captured = capsys.readouterr()
    assert "no node events in the window" in captured.err and "1 events outside the window" in captured.out
    assert not chart.exists()


# -- the chart's artists -----------------------------------------------------------------------------


def _lines_by_event(fig):
    timeline = fig.axes[1]
    return {line.get_gid(): line for line in timeline.get_lines()}


def test_an_old_sample_no_longer_stretches_the_time_axis(tmp_path, capsys):
    # GIVEN the 2018 sample beside a day of 2026 events
    lines = _seed_sample_lines(capsys) + _logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys)
    report = _report(lines)
    # WHEN charted (and rendered to a PNG)
    fig = churn_report.draw_chart(report)
    fig.savefig(tmp_path / "c.png")
    # THEN the time axis is the window, not 8 years
    from matplotlib.dates import date2num

    low, high = fig.axes[1].get_xlim()
    assert (low, high) == (date2num(report.window.since), date2num(report.window.until))
    assert high - low == pytest.approx(1.0)  # days
    assert "2026-11-19T11:00:00Z to 2026-11-20T11:00:00Z" in fig.axes[1].get_title()


def test_each_event_name_keeps_its_colour_and_failures_stand_out(tmp_path, capsys):
    # GIVEN two exports with different event names
    full = _report(_logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys))
    only_nodes = _report(_logs_of(trigger_event(EventName.COMPUTE_NODE_ABNORMAL, records=2), capsys))
    # WHEN both are charted
    first, second = churn_report.draw_chart(full), churn_report.draw_chart(only_nodes)
    first.savefig(tmp_path / "a.png")
    second.savefig(tmp_path / "b.png")
    lines, others = _lines_by_event(first), _lines_by_event(second)
    # THEN every event name has its fixed colour in both (not the colour cycle's next one)
    assert set(lines) == {
        "COMPUTE_ENV_CREATED",
        "COMPUTE_NODE_CREATED",
        "COMPUTE_NODE_CREATION_FAILED",
        "COMPUTE_NODE_RUNNING",
        "COMPUTE_NODE_ABNORMAL",
        "COMPUTE_NODE_DELETING",
    }
    for event, line in (*lines.items(), *others.items()):
        assert line.get_color() == churn_report.EVENT_COLOURS[event], event
    assert churn_report.EVENT_COLOURS["COMPUTE_NODE_CREATION_FAILED"] == "#d62728"  # red
    assert churn_report.EVENT_COLOURS["COMPUTE_NODE_ABNORMAL"] == "#ff7f0e"  # orange
    assert len(set(churn_report.EVENT_COLOURS.values())) == len(churn_report.EVENT_COLOURS)
    # AND the failures are thicker and drawn on top of the others
    failures = [lines["COMPUTE_NODE_CREATION_FAILED"], lines["COMPUTE_NODE_ABNORMAL"]]
    rest = [line for event, line in lines.items() if event not in churn_report.FAILURES]
    assert min(f.get_linewidth() for f in failures) > max(r.get_linewidth() for r in rest)
    assert min(f.get_zorder() for f in failures) > max(r.get_zorder() for r in rest)
    # AND the lifetime dots are COMPUTE_NODE_DELETING's colour
    from matplotlib.colors import to_hex

    dots = first.axes[0].collections
    assert dots and all(to_hex(d.get_facecolor()[0]) == "#9467bd" for d in dots)


def _many_environments(capsys, count):
    """`count` environments with node lifetimes (env-00 busiest), and one with none."""
    lines = []
    for n in range(count):
        for name in (EventName.COMPUTE_NODE_CREATED, EventName.COMPUTE_NODE_DELETING):
            event = trigger_event(
                name,
                records=count - n,
                env_id=f"env-{n:02d}",
                env_name=f"env {n}",
                when=BASE_TIME + timedelta(hours=n + (2 if name is EventName.COMPUTE_NODE_DELETING else 0)),
                created=BASE_TIME,
                msg_id_prefix=f"{n}-{name.value}-",
            )
            lines += _logs_of(event, capsys)
    lines += _logs_of(trigger_event(EventName.COMPUTE_NODE_RUNNING, env_id="env-idle"), capsys)
    return lines


def test_every_environment_is_drawn_or_named_as_left_out(tmp_path, capsys):
    # GIVEN 11 environments with node lifetimes and one without
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(_many_environments(capsys, 11)) + "\n", encoding="utf-8")
    report = churn_report.build_report(
        churn_report.read_export(path.read_text(encoding="utf-8").splitlines()), since=BASE_TIME
    )
    # WHEN charted
    fig = churn_report.draw_chart(report)
    fig.savefig(tmp_path / "c.png")
    # THEN the 8 with most lifetimes are drawn, and the chart's note names the 4 others
    ticks = [t.get_text().splitlines()[-1] for t in fig.axes[0].get_yticklabels()]
    assert ticks == [f"env-{n:02d}" for n in range(8)]
    (note,) = [t for t in fig.texts if t.get_gid() == "left-out"]
    assert note.get_text() == (
        "3 more environment(s) not drawn: env-08, env-09, env-10; no lifetime known: env-idle"
        " (all in the text report)"
    )
    # AND the text output names them too
    code = churn_report.main(
        [str(path), "--since", "2026-11-20T00:00:00Z", "--chart", str(tmp_path / "d.png")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "lifetime panel: 8 environment(s) drawn" in out
    assert "left out, beyond the 8 with most lifetimes: env-08, env-09, env-10" in out
    assert "left out, no node lifetime known: env-idle" in out


def test_the_note_names_at_most_a_few_ids_and_counts_the_rest():
    plan = churn_report.ChartPlan([], [f"env-{n}" for n in range(10)], [])
    note = churn_report._note(plan)
    assert note is not None
    assert "10 more environment(s) not drawn: env-0, env-1, env-2, env-3, env-4, env-5 and 4 more" in note


def test_no_note_when_every_environment_is_drawn(export, tmp_path):
    report = churn_report.build_report(
        churn_report.read_export(export.read_text(encoding="utf-8").splitlines()), since=WHOLE_SINCE
    )
    fig = churn_report.draw_chart(report)
    fig.savefig(tmp_path / "c.png")
    assert not [t for t in fig.texts if t.get_gid() == "left-out"]


def _chinese_env_report(capsys):
    return _report(_logs_of(load_event("cmq_topic_churn_env_lifecycle.json"), capsys))


def test_environment_names_are_drawn_with_an_installed_cjk_font(tmp_path, capsys):
    # GIVEN a CJK font on this machine (fonts-noto-cjk, say), else nothing to check
    family = churn_report.cjk_font()
    if family is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    # WHEN an environment with a Chinese name is charted (a missing glyph would warn: an error here)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = churn_report.draw_chart(_chinese_env_report(capsys))
        fig.savefig(tmp_path / "c.png")
    # THEN its label is the name above the id
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["渲染集群-华南\nenv-churn001"]


def test_without_a_cjk_font_the_id_stands_in_for_the_name(tmp_path, monkeypatch, capsys):
    # GIVEN no CJK font WHEN charted THEN the id alone, and no missing-glyph warning
    monkeypatch.setattr(churn_report, "cjk_font", lambda: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = churn_report.draw_chart(_chinese_env_report(capsys))
        fig.savefig(tmp_path / "c.png")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["env-churn001"]


def test_ascii_names_are_drawn_with_any_font():
    assert churn_report.drawable("render-west", ["DejaVu Sans"])
    assert not churn_report.drawable("渲染", ["DejaVu Sans"])


def test_the_report_writes_only_the_chart_it_is_given(export, tmp_path, monkeypatch):
    # GIVEN an empty working directory WHEN the report runs with a chart elsewhere
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    chart = tmp_path / "out" / "churn.png"
    chart.parent.mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert churn_report.main([str(export), "--chart", str(chart), *WHOLE]) == 0
    # THEN the chart is the only new file
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert sorted(set(after) - set(before)) == ["churn.png"] and not list(work.iterdir())
