"""No channel configured: the messages are printed as JSON log lines and nothing is sent."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest

from tests.fakes.chat import SECRETS, channel_env, fake_chat, invoke
from tests.helpers import ROOT, json_lines, load_event, load_handler


def _record_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every socket connection attempted from now on, whatever the HTTP client (each one fails)."""
    attempts: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError(f"a dry run connects nowhere: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_dry_run_prints_one_readable_line_per_group_and_makes_no_request(monkeypatch, capsys):
    # GIVEN no channel setting, and every connection recorded
    connections = _record_connections(monkeypatch)
    # WHEN the handler runs on a sample with three groups
    summary = load_handler("alert_failures").main_handler(load_event("cmq_topic_alert_groups.json"), None)
    # THEN no request was made
    assert connections == []
    assert summary["dry_run"] is True and summary["channels"] == {} and summary["groups"] == 3
    previews = [
        line for line in json_lines(capsys.readouterr().out) if line["msg"].startswith("alert (dry run")
    ]
    assert [p["group"] for p in previews] == [
        "ap-guangzhou/job/job-grp00001",
        "ap-shanghai/env/env-grp00001",
        "ap-shanghai/job/job-grp00002",
    ]
    interrupted = previews[2]
    assert interrupted["channel"] == "text" and interrupted["severity"] == "INTERRUPTED"
    assert interrupted["title"] == "[INTERRUPTED] Batch job render-4k (job-grp00002)"
    assert interrupted["lines"][0].startswith("!! Interrupted: the failed instances are KEPT")
    assert interrupted["lines"][-1] == (
        "Open in the Batch console: "
        "https://console.cloud.tencent.com/batch/job/detail?jobId=job-grp00002&region=ap-shanghai"
    )


def test_alert_dry_run_setting_logs_every_channel_body_without_sending(monkeypatch, capsys):
    # GIVEN all channels configured and ALERT_DRY_RUN=1
    for key, value in channel_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ALERT_DRY_RUN", "1")
    with fake_chat() as robots:
        # WHEN an event arrives
        summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN no robot got a request
    assert robots.received == []
    # AND each channel's body is logged, and no secret is
    out = capsys.readouterr().out
    bodies = {line["channel"]: line["body"] for line in json_lines(out) if line["msg"] == "alert (dry run)"}
    assert sorted(bodies) == ["dingtalk", "feishu", "slack", "webhook", "wecom"]
    assert bodies["wecom"]["msgtype"] == "markdown"
    assert summary["dry_run"] is True
    for secret in SECRETS:
        assert secret not in out


def test_local_invoke_of_the_readme_command_shows_the_message():
    # GIVEN the README's command WHEN it runs (no .env: an empty env file) THEN the preview is on stdout
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.invoke",
            "alert_failures",
            "events/cmq_topic_job_failed.json",
            "--env-file",
            "/dev/null",
            "--live",  # no local cloud: with no channel configured, the dry-run preview
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    logs = json_lines("\n".join(line for line in out.splitlines() if line.startswith('{"ts"')))
    [preview] = [line for line in logs if line.get("channel") == "text"]
    assert preview["title"] == "[FAILED] Batch job render-frames (job-5ik2gmv8)"
    assert (
        "- JOB_FAILED · 2026-11-20 08:35:00 UTC · reason job failed · vars owner=render-team"
        in preview["lines"]
    )
