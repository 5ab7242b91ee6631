from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared.catalogue import EventName
from shared.envelope import parse_trigger_event
from tests.helpers import ROOT, event_files
from tools import generate_event, invoke


def test_generator_writes_base64_multi_record_events(tmp_path):
    out = tmp_path / "e.json"
    assert (
        generate_event.main(
            [
                "JobFailedInterrupted",
                "--records",
                "3",
                "--base64",
                "--out",
                str(out),
                "--var",
                "max_retries=1",
            ]
        )
        == 0
    )
    parsed = parse_trigger_event(json.loads(out.read_text()))
    assert parsed.records == 3 and not parsed.rejections
    assert {e.name_raw for e in parsed.events} == {"JOB_FAILED_INTERRUPTED"}
    assert all(e.vars == {"max_retries": "1"} for e in parsed.events)


def test_generator_varies_instance_index_per_record():
    event = generate_event.trigger_event(EventName.TASK_INSTANCE_FAILED, records=4)
    indexes = [e.task_instance_index for e in parse_trigger_event(event).events]
    assert indexes == [0, 1, 2, 3]


def test_generator_rejects_unknown_event_names(capsys):
    with pytest.raises(SystemExit):
        generate_event.main(["JOB_EXPLODED"])
    assert "valid names are" in capsys.readouterr().err


def test_dotenv_loading_does_not_override_the_environment(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# comment\nexport A=1\nB='two'\n\nC=3\n")
    environ = {"C": "env wins"}
    assert invoke.load_dotenv(path, environ) == {"A": "1", "B": "two", "C": "3"}
    assert environ == {"C": "env wins", "A": "1", "B": "two"}


@pytest.mark.parametrize("name", event_files())
def test_readme_invoke_command_prints_a_summary_for_every_sample(name):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.invoke",
            "log_node_churn",
            f"events/{name}",
            "--env-file",
            "/nonexistent",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.split("--- return value:\n", 1)[1])
    assert isinstance(summary["records"], int)


def test_invoke_reports_a_configuration_error_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "tools.invoke", "alert_failures", "events/cmq_topic_job_failed.json",
         "--env-file", "/nonexistent"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "ALERT_EVENTS": "JOB_EXPLODED"},
    )  # fmt: skip
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "ALERT_EVENTS" in result.stderr
    assert "Traceback" not in result.stderr
