from __future__ import annotations

import json

import pytest

from shared.catalogue import EventName
from tools import notifications

SUBMIT_JOB = {
    "Placement": {"Zone": "ap-guangzhou-3"},
    "Job": {
        "JobName": "render",
        "Priority": 1,
        "Tasks": [
            {
                "TaskName": "frames",
                "TaskInstanceNum": 4,
                "Application": {"DeliveryForm": "LOCAL", "Command": "render.sh"},
                "ComputeEnv": {"EnvType": "MANAGED", "EnvData": {"InstanceType": "S5.MEDIUM4"}},
                "FailedAction": "INTERRUPT",
                "MaxRetryCount": 1,
            }
        ],
    },
}


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
