from __future__ import annotations

import json
import warnings

import pytest

from shared.catalogue import FAILURE_EVENTS, EventName
from tests.helpers import ROOT
from tools import notifications

SAMPLE = ROOT / "samples" / "submit-job.json"
SUBMIT_JOB = json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_seed_spelling_and_groups_normalise_to_api_names():
    events = notifications.resolve_events(["JobFailed", "interrupted"])
    assert events == [
        EventName.JOB_FAILED,
        EventName.JOB_FAILED_INTERRUPTED,
        EventName.TASK_FAILED_INTERRUPTED,
        EventName.TASK_INSTANCE_FAILED_INTERRUPTED,
    ]


def test_unknown_event_name_lists_valid_names_and_groups():
    with pytest.raises(notifications.NotificationsError) as info:
        notifications.resolve_events(["JobExploded"])
    message = str(info.value)
    assert "JobExploded" in message and "COMPUTE_NODE_DELETING" in message and "failures" in message


def test_printed_block_is_what_the_sdk_sends_for_a_job(capsys):
    # WHEN the block is printed for SubmitJob with an event var
    assert notifications.main(["--topic", "batch-events", "--events", "JobFailed", "--var", "owner=ml"]) == 0
    # THEN it has exactly the API's field names and no empty fields
    block = json.loads(capsys.readouterr().out)
    assert block == {
        "Notifications": [
            {
                "TopicName": "batch-events",
                "EventConfigs": [
                    {"EventName": "JOB_FAILED", "EventVars": [{"Name": "owner", "Value": "ml"}]}
                ],
            }
        ],
        "NotificationTarget": "TDMQ_CMQ",
    }


def test_block_for_compute_env_with_legacy_cmq_target(capsys):
    assert (
        notifications.main(["--for", "compute-env", "--topic", "t", "--events", "nodes", "--target", "CMQ"])
        == 0
    )
    block = json.loads(capsys.readouterr().out)
    assert block["NotificationTarget"] == "CMQ"
    names = [c["EventName"] for c in block["Notifications"][0]["EventConfigs"]]
    assert names == [e.value for e in EventName if e.value.startswith("COMPUTE_NODE_")]


def test_patch_sets_job_notifications_in_place_and_keeps_everything_else(tmp_path):
    path = tmp_path / "submit-job.json"
    path.write_text(json.dumps(SUBMIT_JOB))
    assert notifications.main(["--topic", "batch-events", "--events", "failures", "--patch", str(path)]) == 0
    patched = json.loads(path.read_text())
    assert patched["Job"]["NotificationTarget"] == "TDMQ_CMQ"
    assert len(patched["Job"]["Notifications"][0]["EventConfigs"]) == 8
    without = {k: v for k, v in patched["Job"].items() if not k.startswith("Notification")}
    assert without == SUBMIT_JOB["Job"]
    assert patched["Placement"] == SUBMIT_JOB["Placement"]


def test_patch_refuses_fields_the_api_would_drop(tmp_path, capsys):
    broken = json.loads(json.dumps(SUBMIT_JOB))
    broken["Job"]["Tasks"][0]["FailAction"] = "INTERRUPT"  # a typo the SDK would silently drop
    path = tmp_path / "submit-job.json"
    path.write_text(json.dumps(broken))
    assert notifications.main(["--topic", "t", "--events", "failures", "--patch", str(path)]) == 2
    assert "Job.Tasks[0].FailAction" in capsys.readouterr().err
    assert json.loads(path.read_text()) == broken


def test_patch_refuses_a_file_that_is_not_a_submit_job_request(tmp_path, capsys):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"Hello": 1}))
    assert notifications.main(["--topic", "t", "--events", "failures", "--patch", str(path)]) == 2
    assert "no Job object" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["--topic", " ", "--events", "failures"], ["--topic", "t", "--events", ","]]
)
def test_missing_topic_or_events_is_a_clear_error(argv, capsys):
    assert notifications.main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_sample_submit_job_request_is_exactly_what_the_sdk_model_takes():
    # GIVEN samples/submit-job.json WHEN the SDK's SubmitJobRequest reads and writes it back
    from tencentcloud.batch.v20170312 import models

    request = models.SubmitJobRequest()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the SDK warns about every field it does not know
        request._deserialize(SUBMIT_JOB)
    # THEN nothing is lost or renamed, and it has what SubmitJob needs
    assert request._serialize(allow_none=False) == SUBMIT_JOB
    task = SUBMIT_JOB["Job"]["Tasks"][0]
    assert {"TaskName", "Application", "ComputeEnv", "FailedAction", "MaxRetryCount"} <= set(task)
    assert "Notifications" not in SUBMIT_JOB["Job"]


def test_patch_the_sample_to_another_file_leaves_the_sample_untouched(tmp_path, capsys):
    # GIVEN the shipped sample WHEN patched with --out
    before = SAMPLE.read_bytes()
    out = tmp_path / "job.json"
    argv = ["--topic", "batch-events", "--events", "recovery", "--patch", str(SAMPLE), "--out", str(out)]
    assert notifications.main(argv) == 0
    # THEN the patched request is at --out and the sample is as it was
    assert SAMPLE.read_bytes() == before
    patched = json.loads(out.read_text())
    names = {c["EventName"] for c in patched["Job"]["Notifications"][0]["EventConfigs"]}
    assert names == {e.value for e in FAILURE_EVENTS} | {"JOB_SUCCEED"}
    assert f"wrote {out}" in capsys.readouterr().out


def test_patch_in_place_on_a_copy_of_the_sample(tmp_path, capsys):
    # GIVEN a copy of the sample WHEN patched without --out THEN that file (and only it) changes
    copy = tmp_path / "submit-job.json"
    copy.write_bytes(SAMPLE.read_bytes())
    assert notifications.main(["--topic", "t", "--events", "failures", "--patch", str(copy)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["submit-job.json"]
    assert json.loads(copy.read_text())["Job"]["Notifications"][0]["TopicName"] == "t"
    assert f"patched {copy}" in capsys.readouterr().out


def test_recovery_group_is_the_failures_and_job_succeed():
    events = notifications.resolve_events(["recovery"])
    assert set(events) == FAILURE_EVENTS | {EventName.JOB_SUCCEED}
    assert notifications.resolve_events(["Recovery", "JOB_SUCCEED"]) == events  # case, overlap


def test_help_says_job_succeed_comes_only_when_asked_for(capsys):
    with pytest.raises(SystemExit):
        notifications.main(["--help"])
    out = capsys.readouterr().out
    assert "recovery: the failures and JOB_SUCCEED, for alert_failures' ALERT_RECOVERY=1" in out
    assert "JOB_SUCCEED only when the job's Notifications ask for it" in out
    assert "IN PLACE" in out


def test_job_events_for_a_compute_environment_get_a_warning(capsys):
    # WHEN failure events (job and node ones) are asked for a compute environment
    assert notifications.main(["--for", "compute-env", "--topic", "t", "--events", "failures"]) == 0
    captured = capsys.readouterr()
    # THEN the block is printed, and stderr says which events a compute environment never publishes
    assert "warning: a compute environment (CreateComputeEnv) publishes only environment and node" in (
        captured.err
    )
    assert "never JOB_FAILED, JOB_FAILED_INTERRUPTED, TASK_FAILED," in captured.err
    assert "COMPUTE_NODE_ABNORMAL" not in captured.err
    assert json.loads(captured.out)["NotificationTarget"] == "TDMQ_CMQ"


@pytest.mark.parametrize(
    ("kind", "events"),
    [("compute-env", "envs"), ("compute-env", "nodes"), ("job", "failures"), ("job", "recovery")],
)
def test_events_the_request_publishes_get_no_warning(kind, events, capsys):
    assert notifications.main(["--for", kind, "--topic", "t", "--events", events]) == 0
    assert capsys.readouterr().err == ""


def test_environment_events_for_a_job_get_a_warning(capsys):
    assert notifications.main(["--topic", "t", "--events", "COMPUTE_ENV_CREATED,JOB_FAILED"]) == 0
    err = capsys.readouterr().err
    assert "warning: a job (SubmitJob) never publishes COMPUTE_ENV_CREATED" in err and "JOB_FAILED" not in err


def test_out_writes_the_block_to_a_file_and_nothing_else(tmp_path, monkeypatch, capsys):
    # GIVEN an empty working directory WHEN the block is printed, then written with --out
    monkeypatch.chdir(tmp_path)
    assert notifications.main(["--topic", "t", "--events", "failures"]) == 0
    assert not list(tmp_path.iterdir())
    assert notifications.main(["--topic", "t", "--events", "failures", "--out", "block.json"]) == 0
    # THEN only that file exists, holding the printed block
    assert [p.name for p in tmp_path.iterdir()] == ["block.json"]
    printed = json.loads(capsys.readouterr().out.split("wrote")[0])
    assert json.loads((tmp_path / "block.json").read_text()) == printed


def test_an_unwritable_out_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "missing" / "job.json"
    argv = ["--topic", "t", "--events", "failures", "--patch", str(SAMPLE), "--out", str(out)]
    assert notifications.main(argv) == 2
    assert f"cannot write {out}" in capsys.readouterr().err
