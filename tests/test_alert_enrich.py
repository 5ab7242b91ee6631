"""ALERT_ENRICH=1: DescribeJob / DescribeTask add reason, exit codes, failing instances, or nothing."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest

from tests.fakes.batch.routes import SERVER
from tests.fakes.chat import channel_env, fake_chat, invoke
from tests.fakes.intercept import intercept
from tests.fakes.loopback import Reset
from tests.helpers import ROOT, json_lines, load_event

BATCH_URL = "https://batch.tencentcloudapi.com/"

DESCRIBE_JOB = {
    "JobId": "job-5ik2gmv8",
    "JobName": "render-frames",
    "JobState": "FAILED",
    "StateReason": "2 task instances failed",
    "TaskSet": [{"TaskName": "render", "TaskState": "FAILED"}, {"TaskName": "merge", "TaskState": "SUCCEED"}],
}
DESCRIBE_TASK = {
    "JobId": "job-5ik2gmv8",
    "TaskName": "render",
    "TaskState": "FAILED",
    "TaskInstanceTotalCount": 3,
    "TaskInstanceSet": [
        {
            "TaskInstanceIndex": 0,
            "TaskInstanceState": "FAILED",
            "ExitCode": 137,
            "StateReason": "OOMKilled",
            "ComputeNodeInstanceId": "ins-aaa",
        },
        {"TaskInstanceIndex": 1, "TaskInstanceState": "SUCCEED", "ExitCode": 0},
        {
            "TaskInstanceIndex": 2,
            "TaskInstanceState": "FAILED",
            "ExitCode": 1,
            "StateReason": "exit 1",
            "StateDetailedReason": "segfault in frame 42 <@all>",
            "ComputeNodeInstanceId": "ins-bbb",
        },
    ],
}


class FakeBatch:
    """A loopback callback answering DescribeJob / DescribeTask in Tencent's envelope."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, request):
        action = request.headers["X-TC-Action"]
        self.calls.append((action, json.loads(request.body), dict(request.headers)))
        payload = dict(self.answers[action], RequestId="x")
        return 200, {"Content-Type": "application/json"}, json.dumps({"Response": payload})


class BatchRoutes:
    """Serves a test's Batch callback on loopback, for the calls to one endpoint, until the test ends."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.stack = stack

    def add(self, callback, url=BATCH_URL):
        from shared import cloud

        cloud.forget_clients()
        self.stack.callback(cloud.forget_clients)
        self.stack.enter_context(SERVER.mount({"/": callback}))
        self.stack.enter_context(intercept(url, SERVER))


@pytest.fixture
def cloud(monkeypatch):
    """Role credentials as SCF injects them, enrichment on, WeCom on; the Batch API and WeCom faked,
    both on loopback."""
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDalertTest0001")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "alertTestSecretKey0001")
    monkeypatch.setenv("ALERT_ENRICH", "1")
    for key, value in channel_env("wecom").items():
        monkeypatch.setenv(key, value)
    with fake_chat() as robots, contextlib.ExitStack() as stack:
        yield BatchRoutes(stack), robots


def test_enrichment_adds_state_reason_exit_codes_and_failing_instances(cloud):
    # GIVEN a Batch API that knows the job and its failed instances
    mock, robots = cloud
    batch = FakeBatch({"DescribeJob": DESCRIBE_JOB, "DescribeTask": DESCRIBE_TASK})
    mock.add(batch)
    # WHEN a task-instance failure is alerted
    invoke(load_event("cmq_topic_task_instance_failed.json"))
    # THEN the calls went to the event's region, for the event's job and task
    assert [(action, params) for action, params, _ in batch.calls] == [
        ("DescribeJob", {"JobId": "job-5ik2gmv8"}),
        ("DescribeTask", {"JobId": "job-5ik2gmv8", "TaskName": "render", "Limit": 1000}),
    ]
    assert all(headers["X-TC-Region"] == "ap-guangzhou" for _, _, headers in batch.calls)
    # AND the message carries what Batch said, escaped like any other text
    content = robots.accepted("wecom")[0].body["markdown"]["content"]
    assert "- Batch says: job FAILED; 2 task instances failed" in content
    assert "- render #0 FAILED exit 137 on ins-aaa: OOMKilled" in content
    assert "- render #2 FAILED exit 1 on ins-bbb: segfault in frame 42 ‹＠all›" in content


def test_enrichment_failure_still_sends_the_alert_without_it(cloud, capsys):
    # GIVEN a Batch API refusing the role (AuthFailure)
    mock, robots = cloud
    batch = FakeBatch(
        {"DescribeJob": {"Error": {"Code": "AuthFailure.UnauthorizedOperation", "Message": "no"}}}
    )
    mock.add(batch)
    # WHEN an event is alerted
    summary = invoke(load_event("cmq_topic_task_instance_failed.json"))
    # THEN the alert went out without enrichment, and the log says why
    assert summary["channels"]["wecom"] == {"delivered": 1, "failed": 0}
    assert "Batch says" not in robots.accepted("wecom")[0].body["markdown"]["content"]
    [warning] = [
        line for line in json_lines(capsys.readouterr().out) if line["msg"].startswith("enrichment failed")
    ]
    assert warning["code"] == "AuthFailure.UnauthorizedOperation"
    assert warning["group"] == "ap-guangzhou/job/job-5ik2gmv8"


def test_batch_endpoint_setting_redirects_the_calls(cloud, monkeypatch):
    # GIVEN BATCH_ENDPOINT pointing at a private endpoint
    mock, robots = cloud
    monkeypatch.setenv("BATCH_ENDPOINT", "http://batch.internal.test:8080")
    batch = FakeBatch({"DescribeJob": DESCRIBE_JOB, "DescribeTask": DESCRIBE_TASK})
    mock.add(batch, "http://batch.internal.test:8080/")
    # WHEN a job failure is alerted THEN the calls went there
    invoke(load_event("cmq_topic_job_failed.json"))
    assert [action for action, _, _ in batch.calls] == ["DescribeJob", "DescribeTask"]
    assert "Batch says: job FAILED" in robots.accepted("wecom")[0].body["markdown"]["content"]


def test_env_groups_are_not_enriched(cloud):
    mock, robots = cloud
    batch = FakeBatch({})
    mock.add(batch)
    invoke(load_event("cmq_topic_compute_node_abnormal.json"))
    assert batch.calls == [] and len(robots.accepted("wecom")) == 1


def test_without_alert_enrich_neither_the_sdk_nor_requests_nor_the_api_client_is_imported():
    # GIVEN no settings (dry run) WHEN the handler runs on a failure THEN neither heavy module was loaded
    code = (
        "import sys, json; sys.path[:0] = [{root!r}, {folder!r}]\n"
        "from tools.invoke import load_handler\n"
        "load_handler('alert_failures').main_handler(json.load(open({event!r})), None)\n"
        "print('HEAVY', sorted(set(sys.modules) & {{'tencentcloud', 'requests', 'shared.tcapi'}}))"
    ).format(
        root=str(ROOT),
        folder=str(ROOT / "functions" / "alert_failures"),
        event=str(ROOT / "events" / "cmq_topic_task_instance_failed.json"),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_first_enrichment_failure_stops_enrichment_and_every_alert_still_goes(cloud, capsys):
    # GIVEN two failed jobs and a Batch endpoint that drops the connection
    mock, _robots = cloud
    calls = []

    def dropping(request):
        calls.append(request.headers["X-TC-Action"])
        raise Reset("scripted: connection reset")

    mock.add(dropping)
    event = load_event("cmq_topic_job_failed.json")
    second = json.loads(json.dumps(event["Records"][0]))
    second["CMQ"]["msgBody"] = second["CMQ"]["msgBody"].replace("job-5ik2gmv8", "job-other001")
    event["Records"].append(second)
    # WHEN they are alerted
    summary = invoke(event)
    # THEN one DescribeJob was tried, not one per job, and both alerts were delivered
    assert calls == ["DescribeJob"]
    assert summary["channels"]["wecom"] == {"delivered": 2, "failed": 0}


def test_enrichment_is_skipped_when_the_time_left_is_short(cloud, capsys):
    # GIVEN a function with 5 s: half of it is less than a job's four Describe calls may take
    mock, _robots = cloud
    batch = FakeBatch({"DescribeJob": DESCRIBE_JOB, "DescribeTask": DESCRIBE_TASK})
    mock.add(batch)
    # WHEN a job failure is alerted
    summary = invoke(load_event("cmq_topic_job_failed.json"), time_limit_ms=5000)
    # THEN no Describe call was made, the alert went out, and the log says why
    assert batch.calls == []
    assert summary["channels"]["wecom"] == {"delivered": 1, "failed": 0}
    assert any(line["msg"].startswith("enrichment skipped") for line in json_lines(capsys.readouterr().out))
