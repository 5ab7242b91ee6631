from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from alerting.grouping import group_events

from shared.catalogue import EVENT_GROUPS, Category, EventName
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


def _generated(capsys, *argv):
    """Run the generator on the command line; its output parsed by the envelope, and stderr."""
    assert generate_event.main(list(argv)) == 0
    captured = capsys.readouterr()
    return parse_trigger_event(json.loads(captured.out)), captured.err


# One event name of each kind: what varies per record differs by kind.
ONE_OF_EACH = [
    EventName.JOB_FAILED,
    EventName.TASK_FAILED_INTERRUPTED,
    EventName.TASK_INSTANCE_FAILED,
    EventName.COMPUTE_ENV_CREATED,
    EventName.COMPUTE_NODE_ABNORMAL,
]


@pytest.mark.parametrize("name", ONE_OF_EACH, ids=lambda n: n.value)
def test_records_are_distinct_events_that_alert_grouping_counts_once_each(name, capsys):
    # GIVEN five records of one event name
    parsed, _ = _generated(capsys, name.value, "--records", "5")
    # WHEN the envelope reads them and alert_failures groups them
    groups, duplicates = group_events(parsed.events, "ap-guangzhou")
    # THEN five distinct msgIds, five distinct events, and no duplicate
    assert len({s.msg_id for s in parsed.sources}) == 5 and not parsed.rejections
    assert len({e.fingerprint for e in parsed.events}) == 5
    assert not duplicates and sum(len(g.events) for g in groups) == 5


def test_each_record_is_another_resource_of_the_events_kind(capsys):
    jobs, _ = _generated(capsys, "JOB_FAILED", "--records", "3")
    tasks, _ = _generated(capsys, "TASK_FAILED", "--records", "3")
    instances, _ = _generated(capsys, "TASK_INSTANCE_FAILED", "--records", "3", "--index", "7")
    nodes, _ = _generated(capsys, "COMPUTE_NODE_CREATED", "--records", "3")
    envs, _ = _generated(capsys, "COMPUTE_ENV_DELETED", "--records", "3")
    # THEN the first record is the sample's, and the others are other jobs, tasks, instances, nodes, envs
    assert jobs.events[0].job_id == "job-5ik2gmv8"
    assert len({e.job_id for e in jobs.events}) == 3
    assert [e.task_name for e in tasks.events] == ["render", "render-1", "render-2"]
    assert {e.job_id for e in tasks.events} == {"job-5ik2gmv8"}  # one job's tasks: one alert group
    assert [e.task_instance_index for e in instances.events] == [7, 8, 9]
    assert len({e.instance_id for e in instances.events}) == 3
    assert nodes.events[0].node_id == "node-0iy7wxyo"
    assert len({e.node_id for e in nodes.events}) == len({e.instance_id for e in nodes.events}) == 3
    assert {e.env_id for e in nodes.events} == {"env-ptoxdb1t"}
    assert len({e.env_id for e in envs.events}) == 3
    # AND every derived id has Tencent's shape
    for event in (*jobs.events, *nodes.events):
        for value in (event.job_id, event.node_id, event.instance_id):
            if value:
                prefix, _, tail = value.partition("-")
                assert prefix in ("job", "node", "ins") and len(tail) == 8 and tail.isalnum(), value


def test_the_seed_decides_the_ids_and_the_same_seed_gives_the_same_file(capsys):
    def run(*argv):
        assert generate_event.main(["COMPUTE_NODE_CREATED", "--records", "4", *argv]) == 0
        return capsys.readouterr().out

    assert run("--seed", "3") == run("--seed", "3")
    first, other = (parse_trigger_event(json.loads(run("--seed", s))) for s in ("3", "4"))
    assert not {s.msg_id for s in first.sources} & {s.msg_id for s in other.sources}
    assert not {e.node_id for e in first.events} & {e.node_id for e in other.events}
    # AND with the same seed, DELETING events are about the nodes the CREATED events made (other msgIds)
    deleting, _ = _generated(capsys, "COMPUTE_NODE_DELETING", "--records", "4", "--seed", "3")
    assert [e.node_id for e in deleting.events] == [e.node_id for e in first.events]
    assert not {s.msg_id for s in deleting.sources} & {s.msg_id for s in first.sources}


def test_ids_stay_distinct_in_a_large_burst():
    event = generate_event.trigger_event(EventName.COMPUTE_NODE_RUNNING, records=3000, seed=9)
    parsed = parse_trigger_event(event)
    assert len({e.node_id for e in parsed.events}) == 3000
    assert len({s.msg_id for s in parsed.sources}) == 3000


def test_list_shows_every_event_name_with_its_meaning_and_the_groups(capsys):
    assert generate_event.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in EventName:
        line = next(x for x in out.splitlines() if x.split()[:1] == [name.value])
        assert f"{name.category.value}: {generate_event.MEANINGS[name]}" in line
    for group in EVENT_GROUPS:
        assert f"\n  {group} " in out
    assert "COMPUTE_NODE_CREATION_FAILED, COMPUTE_NODE_ABNORMAL" in out


def test_an_event_name_is_required_without_list(capsys):
    with pytest.raises(SystemExit):
        generate_event.main([])
    assert "--list shows them" in capsys.readouterr().err


def test_time_is_iso_8601_converted_to_utc(capsys):
    parsed, _ = _generated(capsys, "COMPUTE_NODE_ABNORMAL", "--time", "2026-12-01T09:30:00+08:00")
    (event,) = parsed.events
    assert event.time == datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    assert event.resource_created_time == event.time - timedelta(minutes=5)
    assert parsed.sources[0].publish_time == "2026-12-01T01:30:00Z"


def test_default_time_is_the_fixed_sample_time_and_now_is_now(capsys):
    (sample,) = _generated(capsys, "JOB_FAILED")[0].events
    assert sample.time == generate_event.SAMPLE_TIME
    before = datetime.now(timezone.utc).replace(microsecond=0)
    (now,) = _generated(capsys, "JOB_FAILED", "--now")[0].events
    assert before <= now.time <= datetime.now(timezone.utc)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["JOB_FAILED", "--time", "yesterday"], "not an ISO 8601 time"),
        (["JOB_FAILED", "--time", "2026-01-01T00:00:00Z", "--now"], "not allowed with argument"),
        (["JOB_FAILED", "--records", "0"], "--records must be at least 1"),
        (["TASK_INSTANCE_FAILED", "--index", "-1"], "--index must be 0 or more"),
        (["JOB_FAILED", "--var", "novalue"], "is not NAME=VALUE"),
    ],
)
def test_bad_options_are_clear_errors(argv, message, capsys):
    with pytest.raises(SystemExit):
        generate_event.main(argv)
    assert message in capsys.readouterr().err


def test_task_instance_options_set_their_fields(capsys):
    argv = ["TASK_INSTANCE_FAILED", "--exit-code", "1", "--reason", "OOMKilled", "--task", "merge"]
    argv += ["--index", "4", "--job-id", "job-abcdefgh", "--job-name", "shot-9", "--region", "ap-shanghai"]
    parsed, err = _generated(capsys, *argv)
    (event,) = parsed.events
    assert (event.exit_code, event.state_reason, event.task_name) == (1, "OOMKilled", "merge")
    assert (event.task_instance_index, event.job_id, event.job_name) == (4, "job-abcdefgh", "shot-9")
    assert event.region == "ap-shanghai" and not err


def test_the_old_task_name_option_still_works(capsys):
    (event,) = _generated(capsys, "TASK_FAILED", "--task-name", "merge")[0].events
    assert event.task_name == "merge"


def test_environment_options_set_node_fields(capsys):
    argv = ["COMPUTE_NODE_CREATION_FAILED", "--env-id", "env-gpu00001", "--env-name", "训练", "--node-id"]
    argv += ["node-aaaaaaaa", "--reason", "ResourceInsufficient.CvmStock"]
    (event,) = _generated(capsys, *argv)[0].events
    assert (event.env_id, event.env_name, event.node_id) == ("env-gpu00001", "训练", "node-aaaaaaaa")
    assert event.state_reason == "ResourceInsufficient.CvmStock"


def test_exit_code_is_a_task_instance_field_only(capsys):
    parsed, err = _generated(capsys, "JOB_FAILED", "--exit-code", "2", "--env-id", "env-1")
    (event,) = parsed.events
    assert event.exit_code is None and event.env_id is None
    assert "--exit-code ignored: JOB_FAILED events carry no such field" in err
    assert "--env-id ignored" in err


@pytest.mark.parametrize("name", list(EventName), ids=lambda n: n.value)
def test_every_event_name_generates_a_clean_event_of_its_kind(name):
    parsed = parse_trigger_event(generate_event.trigger_event(name, records=2))
    assert [e.name for e in parsed.events] == [name, name] and not parsed.rejections
    if name.category is Category.COMPUTE_NODE:
        assert all(e.node_id and e.env_id for e in parsed.events)


def test_the_generator_writes_only_where_it_is_told(tmp_path, monkeypatch, capsys):
    # GIVEN an empty working directory
    monkeypatch.chdir(tmp_path)
    # WHEN the generator prints, then writes --out
    assert generate_event.main(["JOB_FAILED", "--records", "2"]) == 0
    assert not list(tmp_path.iterdir())
    assert generate_event.main(["JOB_FAILED", "--out", "e.json"]) == 0
    # THEN only --out exists
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]
    capsys.readouterr()


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
