"""A run's messages as a person reads them, beside the JSON log lines: local cloud and live dry run."""

from __future__ import annotations

import contextlib
import io

import pytest

from localcloud.render import text_lines
from tools import invoke

TITLE = "[FAILED] Batch job render-frames (job-5ik2gmv8)"


def _stderr_of(argv: list[str]) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        invoke.main(argv)
    return err.getvalue()


def test_a_local_run_ends_with_each_message_in_plain_text():
    err = _stderr_of(["alert_failures", "events/cmq_topic_job_failed.json", "--env-file", "/dev/null"])
    assert "each message as wecom shows it, in plain text:" in err
    assert f"  | {TITLE}" in err
    assert "<font" not in err and "**" not in err


def test_a_live_dry_run_prints_the_message_beside_its_json_line(monkeypatch):
    monkeypatch.setenv("ALERT_DRY_RUN", "1")
    err = _stderr_of(
        ["alert_failures", "events/cmq_topic_job_failed.json", "--env-file", "/dev/null", "--live"]
    )
    assert "dry run, the message as a person reads it:" in err and f"  | {TITLE}" in err


@pytest.mark.parametrize("channel", ["wecom", "dingtalk", "feishu", "slack"])
def test_every_chat_body_reads_as_its_title_then_lines(channel):
    # GIVEN the message each robot received in a local run
    from localcloud import running

    with running() as cloud, contextlib.redirect_stdout(io.StringIO()):
        run = invoke.run_local("alert_failures", invoke_event(), cloud=cloud)
    [item] = [m for m in run.report.messages if m.channel == channel]
    # WHEN read as plain text THEN the title comes first, then the job line, no markup left
    lines = text_lines(channel, item.body)
    assert lines[0] == TITLE
    assert any("job-5ik2gmv8" in line for line in lines[1:])
    assert not any("<font" in line or "**" in line for line in lines)


def invoke_event():
    from tests.helpers import load_event

    return load_event("cmq_topic_job_failed.json")
