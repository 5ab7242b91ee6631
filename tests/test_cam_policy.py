"""The CAM policy: every API action the code can call is in it, and nothing else."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest
from tencentcloud.batch.v20170312.batch_client import BatchClient
from tencentcloud.tag.v20180813.tag_client import TagClient

from tests.fakes.batch import fake_batch_api
from tests.fakes.batch.scenario import sample_cloud
from tests.fakes.tag import TagBackend
from tests.helpers import ROOT, load_event, load_handler
from tools import cam_policy, deploy_config

# An SDK call (`client.DescribeJob(`) or a named call through a retrying caller (`.call("RetryJobs"`).
CALL = re.compile(r"""(?<![.\w])client\.([A-Z][A-Za-z]+)\(|\.call\(\s*["']([A-Z][A-Za-z]+)["']""")
PATH_ONLY = {"poller.py": "queue", "cmq_data.py": "queue", "push.py": "http"}
REGION, UIN, TOPIC = "ap-shanghai", "100000000001", "batch-events"


def _service(action: str, path: Path) -> str:
    if path.name == "cmq_data.py":
        return "tdmq"
    if hasattr(BatchClient, action):
        return "batch"
    if hasattr(TagClient, action):
        return "tag"
    raise AssertionError(f"{path}: {action} is neither a Batch, a Tag nor a queue API action")


def code_calls(function: str, delivery: str) -> set[str]:
    """`service:Action` for every call written in the function's code and the shared modules it runs."""
    files = list((ROOT / "functions" / function).rglob("*.py"))
    files += [p for p in (ROOT / "shared").glob("*.py") if PATH_ONLY.get(p.name, delivery) == delivery]
    found: set[str] = set()
    for path in files:
        for sdk, named in CALL.findall(path.read_text(encoding="utf-8")):
            action = sdk or named
            found.add(f"{_service(action, path)}:{action}")
    return found


def _policy(delivery: str, features=cam_policy.FEATURES, tag_ledger: bool = True) -> dict:
    return cam_policy.policy(REGION, UIN, TOPIC, delivery, features, tag_ledger=tag_ledger)


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_the_policy_with_every_feature_allows_exactly_what_the_code_calls(delivery):
    # GIVEN the calls written in each function's code on this path
    written = set().union(*(code_calls(spec.name, delivery) for spec in deploy_config.FUNCTIONS))
    # WHEN the policy is generated with every optional feature on
    allowed = cam_policy.actions_in(_policy(delivery))
    # THEN it allows each of them and nothing more
    assert allowed == written


def test_without_optional_features_only_the_always_on_calls_are_allowed():
    allowed = cam_policy.actions_in(_policy("http", features=(), tag_ledger=False))
    assert allowed == {"batch:DescribeJob", "batch:RetryJobs", "batch:TerminateJob"}
    with_ledger = cam_policy.actions_in(_policy("http", features=()))
    assert with_ledger - allowed == {"tag:GetResources", "tag:ModifyResourceTags"}


def test_resources_are_narrowed_to_the_region_the_account_and_the_functions_queues():
    document = _policy("queue")
    assert document["version"] == "2.0"
    by_action = {a: s["resource"] for s in document["statement"] for a in s["action"]}
    assert by_action["name/batch:RetryJobs"] == [f"qcs::batch:{REGION}:uin/{UIN}:job/*"]
    receive = by_action["name/tdmq:BatchReceiveMessage"]
    queues = {deploy_config.queue_name(TOPIC, spec) for spec in deploy_config.FUNCTIONS}
    assert {r.rsplit("/", 1)[1] for r in receive} == queues
    assert all(f":{REGION}:uin/{UIN}:" in r for r in receive)
    assert by_action["name/tag:ModifyResourceTags"] == ["*"]  # the Tag API is operation-level


def test_every_call_the_fakes_receive_from_a_full_featured_run_is_allowed(monkeypatch):
    # GIVEN retry with the tag ledger and rules, and alerts with enrichment, against the fakes
    monkeypatch.setenv("RETRY_RULES", "exit:137=retry")
    monkeypatch.delenv("RETRY_LEDGER", raising=False)
    monkeypatch.setenv("RETRY_ACCOUNT_UIN", UIN)
    monkeypatch.setenv("ALERT_ENRICH", "1")
    allowed = cam_policy.actions_in(_policy("cmq"))
    tags = TagBackend()
    with sample_cloud(monkeypatch) as batch, contextlib.redirect_stdout(io.StringIO()):
        monkeypatch.delenv("RETRY_LEDGER", raising=False)  # sample_cloud sets the in-process one
        with fake_batch_api(batch, tag=tags):
            event = load_event("cmq_topic_job_failed_interrupted.json")
            load_handler("retry_interrupted").main_handler(event, {"time_limit_in_ms": 30000})
            load_handler("alert_failures").main_handler(event, {"time_limit_in_ms": 30000})
    # WHEN the actions they saw are listed THEN each one is in the policy
    seen = {f"batch:{a}" for a, *_ in batch.calls} | {f"tag:{a}" for a, *_ in tags.calls}
    assert {"batch:DescribeJob", "batch:TerminateJob", "batch:RetryJobs", "tag:ModifyResourceTags"} <= seen
    assert seen <= allowed


def test_the_command_prints_a_pasteable_document_and_refuses_bad_names(capsys):
    assert cam_policy.main(["--region", REGION, "--uin", UIN, "--topic", TOPIC]) == 0
    document = json.loads(capsys.readouterr().out)
    assert cam_policy.actions_in(document) >= {"batch:RetryJobs", "tdmq:BatchReceiveMessage"}
    assert cam_policy.main(["--region", REGION, "--uin", "me", "--topic", TOPIC]) == 2
    assert "UIN" in capsys.readouterr().err
