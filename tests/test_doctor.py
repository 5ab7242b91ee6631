"""tools.doctor: names, every function's configuration through its own loader, masking, the cloud (fakes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import pytest
import responses

from tests.fakes.batch.backend import BatchError, ScriptedFaults
from tests.fakes.batch.routes import tencent_callback
from tests.fakes.chat import CHANNELS, SECRETS, channel_env
from tests.fakes.tag import TagBackend, register_tag
from tools import doctor
from tools.settings_reference import load as load_reference

TDMQ = "https://tdmq.tencentcloudapi.com/"
TOPIC = "batch-events"
QUEUES = ("batch-events-alert-failures", "batch-events-retry-interrupted", "batch-events-log-node-churn")
CREDENTIALS = {"TENCENT_SECRET_ID": "AKIDdoctor000000", "TENCENT_SECRET_KEY": "doctor-secret-key-0000"}
DEPLOY = {"REGION": "ap-guangzhou", "EXECUTION_ROLE": "batch-events-role", "BATCH_TOPIC": TOPIC}
QUEUE_PATH = {**DEPLOY, "CMQ_ENDPOINT": "https://cmq-gz.public.tencenttdmq.com"}
PUSH_TOKEN = "p" * 40


def run(capsys, environ: dict[str, str], *args: str, env_file: Optional[Path] = None) -> tuple[int, str]:
    argv = ["--env-file", str(env_file) if env_file else os.devnull, *args]
    code = doctor.main(argv, environ=environ)
    return code, capsys.readouterr().out


def problems(out: str) -> list[str]:
    lines = out.splitlines()
    if "no problems found" in lines:
        return []
    start = next(i for i, line in enumerate(lines) if line.endswith(("problem:", "problems:")))
    return [line.strip()[2:] for line in lines[start + 1 :] if line.startswith("  - ")]


# --- names ----------------------------------------------------------------------------------------------


def test_a_clean_environment_has_no_problems_and_shows_every_functions_defaults(capsys):
    code, out = run(capsys, {"PATH": "/usr/bin", "HOME": "/root", "MY_OWN_THING": "1"})
    assert code == 0 and problems(out) == []
    assert "alert_failures:" in out and "retry_interrupted:" in out and "log_node_churn:" in out
    assert "ALERT_MAX_ITEMS       unset: 5" in out


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("WECOM_WEBHOOK_URl", "WECOM_WEBHOOK_URL"),
        ("alert_dry_run", "ALERT_DRY_RUN"),
        ("SLACK_WEBHOOK", "SLACK_WEBHOOK_URL"),
        ("RETRY_MAX_ATTEMPT", "RETRY_MAX_ATTEMPTS"),
        ("POLL_WAIT", "POLL_WAIT_S"),
        ("ALERTS_EVENTS", "ALERT_EVENTS"),
    ],
)
def test_a_near_miss_of_a_setting_gets_did_you_mean(capsys, name, suggestion):
    code, out = run(capsys, {name: "1"})
    assert code == 1
    [problem] = problems(out)
    assert problem.startswith(f"[names] {name} ") and problem.endswith(f"did you mean {suggestion}?")


def test_an_unknown_name_of_the_bundles_families_is_a_problem_and_others_are_not(capsys):
    code, out = run(
        capsys, {"FEISHU_COLOUR": "red", "CHURN_METRICS": "1", "EDITOR": "vi", "BATCH_TOPIC": "t"}
    )
    assert code == 1
    found = problems(out)
    assert any(p.startswith("[names] FEISHU_COLOUR is not a setting any code reads") for p in found)
    assert any("CHURN_METRICS is not read: log_node_churn has no settings" in p for p in found)
    assert not any("EDITOR" in p or "BATCH_TOPIC" in p for p in found)


def test_a_setting_not_read_yet_says_so(capsys, monkeypatch):
    # GIVEN a described setting whose code is still being written (tools.settings_reference.PENDING)
    monkeypatch.setattr(doctor, "PENDING", frozenset({"ALERT_SOMETHING_NEW"}))
    code, out = run(capsys, {"ALERT_SOMETHING_NEW": "1"})
    assert code == 1 and problems(out) == [
        "[names] ALERT_SOMETHING_NEW is not read by this version of the code yet"
    ]


def test_the_doctor_knows_every_setting_the_code_reads(capsys):
    settings, _ = load_reference()
    code, out = run(capsys, {s.name: "" for s in settings})
    assert code == 0 and problems(out) == []


# --- the environment and .env --------------------------------------------------------------------------


def test_env_file_is_read_into_a_copy_and_the_environment_wins(capsys, tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("ALERT_MAX_ITEMS=100\nexport RETRY_LEDGER='memory'\n", encoding="utf-8")
    # GIVEN the real process environment: the doctor must not set anything in it
    code = doctor.main(["--env-file", str(env_file)])
    out = capsys.readouterr().out
    assert code == 1 and "[alert_failures] ALERT_MAX_ITEMS=100 is above the maximum 50" in problems(out)
    assert "ALERT_MAX_ITEMS" not in os.environ and "RETRY_LEDGER" not in os.environ
    assert "RETRY_LEDGER        memory" in out and str(env_file) in out
    # AND a value in the environment wins over the file's
    monkeypatch.setenv("ALERT_MAX_ITEMS", "7")
    assert doctor.main(["--env-file", str(env_file)]) == 0
    assert "ALERT_MAX_ITEMS       7" in capsys.readouterr().out


def test_a_malformed_env_file_is_a_problem_not_a_crash(capsys, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("ALERT_DRY_RUN=1\nthis is not a setting\n", encoding="utf-8")
    code, out = run(capsys, {}, env_file=env_file)
    assert code == 1 and problems(out) == [f"[env file] {env_file}:2: expected KEY=VALUE"]


# --- every function's configuration, every error -----------------------------------------------------


def test_every_error_of_every_function_is_listed_not_the_first_only(capsys):
    environ = {
        # three errors in alert_failures' loader, which stops at its first
        "ALERT_HTTP_TIMEOUT_S": "90",
        "ALERT_MAX_ITEMS": "0",
        "WECOM_WEBHOOK_URL": "not a url",
        "FEISHU_MSG_TYPE": "text",
        # two in retry_interrupted's
        "RETRY_ACCOUNT_UIN": "uin-1",
        "RETRY_LEDGER": "disk",
        # one in a shared setting every function reads (read outside the loaders)
        "CAPTURE_RAW_EVENTS": "-1",
    }
    code, out = run(capsys, environ)
    assert code == 1
    assert sorted(problems(out)) == sorted(
        [
            "[alert_failures] ALERT_HTTP_TIMEOUT_S=90.0 is outside 0.5-60",
            "[alert_failures] ALERT_MAX_ITEMS=0 is below the minimum 1",
            "[alert_failures] WECOM_WEBHOOK_URL: its value is not an http:// or https:// URL with a host",
            "[alert_failures] FEISHU_MSG_TYPE='text' is not one of: card, post",
            "[retry_interrupted] RETRY_ACCOUNT_UIN='uin-1' is not an account UIN (digits only)",
            "[retry_interrupted] RETRY_LEDGER='disk' is not one of: tags, memory",
            "[all functions] CAPTURE_RAW_EVENTS=-1 is below the minimum 0",
        ]
    )


def test_every_error_sets_aside_the_setting_each_error_names():
    seen: list[dict[str, str]] = []

    def loader(env: Any) -> None:
        from shared.errors import ConfigError

        seen.append(dict(env))
        for name in ("A_ONE", "B_TWO"):
            if env.get(name):
                raise ConfigError(f"{name}={env[name]!r} is wrong")

    assert doctor.every_error(loader, {"A_ONE": "x", "B_TWO": "y", "C_OK": "z"}) == [
        "A_ONE='x' is wrong",
        "B_TWO='y' is wrong",
    ]
    assert [sorted(e) for e in seen] == [["A_ONE", "B_TWO", "C_OK"], ["B_TWO", "C_OK"], ["C_OK"]]


def test_secrets_are_masked_in_the_effective_settings_and_the_problems(capsys):
    environ = {
        **channel_env(),
        "PUSH_TOKEN": PUSH_TOKEN,
        "CMQ_SECRET_ID": "AKIDqueue0000000",
        "ALERT_CONSOLE_URL": f"https://console.example.com/batch?sig={PUSH_TOKEN}",
        "ALERT_MENTIONS": "not a mention!",
    }
    code, out = run(capsys, environ, "--delivery", "http")
    for secret in (*SECRETS, PUSH_TOKEN, "AKIDqueue0000000"):
        assert secret not in out
    assert (
        "WECOM_WEBHOOK_URL     *** (set," in out and "PUSH_TOKEN            *** (set, 40 characters)" in out
    )
    assert "https://console.example.com/batch?sig=***" in out
    assert code == 1 and "[alert_failures] ALERT_MENTIONS: 'not a mention!' is not 'all'" in out


# --- the delivery paths ----------------------------------------------------------------------------------


def test_the_queue_path_needs_its_settings_and_serverless_ymls_variables(capsys):
    code, out = run(capsys, {}, "--delivery", "queue")
    found = problems(out)
    assert code == 1
    assert {p for p in found if p.startswith("[deploy]")} == {
        "[deploy] BATCH_TOPIC is not set: serverless.yml reads ${env:BATCH_TOPIC} on the queue path",
        "[deploy] EXECUTION_ROLE is not set: serverless.yml reads ${env:EXECUTION_ROLE} on the queue path",
        "[deploy] REGION is not set: serverless.yml reads ${env:REGION} on the queue path",
    }
    assert any(
        p.startswith("[all functions] a timer run polls a TDMQ-CMQ queue: set CMQ_QUEUE_NAME") for p in found
    )


def test_a_complete_queue_path_passes_and_names_each_functions_queue(capsys):
    code, out = run(capsys, QUEUE_PATH, "--delivery", "queue")
    assert code == 0, out
    for queue in QUEUES:
        assert f"CMQ_QUEUE_NAME      {queue} (from BATCH_TOPIC, as serverless.yml sets it)" in out or (
            f"CMQ_QUEUE_NAME        {queue} (from BATCH_TOPIC" in out
        )
    assert "delivery path: queue" in out


def test_queue_settings_alone_select_the_queue_path_and_its_checks(capsys):
    environ = {"CMQ_ENDPOINT": "cmq-gz.public.tencenttdmq.com:99999", "CMQ_SECRET_KEY": "only-the-key"}
    code, out = run(capsys, environ)
    found = problems(out)
    assert code == 1 and "delivery path: queue" in out
    assert any("set CMQ_QUEUE_NAME" in p for p in found)
    assert "[all functions] set both CMQ_SECRET_ID and CMQ_SECRET_KEY or neither: with one of them the " in (
        "\n".join(found)
    )


def test_the_http_path_needs_a_push_token(capsys):
    code, out = run(capsys, {**DEPLOY}, "--delivery", "http")
    assert code == 1
    assert problems(out) == ["[all functions] PUSH_TOKEN is not set: the function refuses every push (403)"]
    code, out = run(capsys, {**DEPLOY, "PUSH_TOKEN": "short"}, "--delivery", "http")
    assert code == 0 and "PUSH_TOKEN has 5 characters" in out


def test_the_cmq_path_needs_only_the_trigger_topic(capsys):
    code, out = run(capsys, {"REGION": "ap-guangzhou", "EXECUTION_ROLE": "r"}, "--delivery", "cmq")
    assert code == 1
    assert problems(out) == [
        "[deploy] BATCH_TOPIC is not set: serverless.yml reads ${env:BATCH_TOPIC} on the cmq path"
    ]


def test_a_bad_batch_endpoint_is_found_with_the_clients_own_parser(capsys):
    code, out = run(capsys, {"BATCH_ENDPOINT": "ftp://batch.example.com"})
    assert code == 1
    assert problems(out) == [
        "[alert_failures, retry_interrupted] BATCH_ENDPOINT: endpoint 'ftp://batch.example.com' is neither "
        "a host nor an http(s)://host[:port] URL"
    ]


# --- the cloud (read-only APIs, fakes) -------------------------------------------------------------------


class TdmqBackend(ScriptedFaults):
    """Topics, queues and subscriptions, as the TDMQ API's Describe actions answer them."""

    def __init__(self) -> None:
        super().__init__()
        self.topics = {TOPIC}
        self.queues: dict[str, dict[str, Any]] = {
            name: {
                "QueueName": name,
                "VisibilityTimeout": 100,
                "MsgRetentionSeconds": 43200,
                "DeadLetterPolicy": {"DeadLetterQueue": "batch-events-dead-letter", "MaxReceiveCount": 5},
            }
            for name in QUEUES
        }
        self.subscriptions: list[dict[str, Any]] = [
            {"SubscriptionName": f"{name}-sub", "Protocol": "queue", "Endpoint": name} for name in QUEUES
        ]

    def dispatch(self, action: str, params: dict[str, Any], region: str) -> Optional[dict[str, Any]]:
        if action == "DescribeCmqTopicDetail":
            if params.get("TopicName") not in self.topics:
                raise BatchError("ResourceNotFound", "topic not found")
            return {"TopicDescribe": {"TopicName": params["TopicName"]}}
        if action == "DescribeCmqQueueDetail":
            queue = self.queues.get(str(params.get("QueueName")))
            if queue is None:
                raise BatchError("ResourceNotFound", "queue not found")
            return {"QueueDescribe": queue}
        if action == "DescribeCmqSubscriptionDetail":
            offset, limit = int(params.get("Offset") or 0), int(params.get("Limit") or 20)
            return {
                "TotalCount": len(self.subscriptions),
                "SubscriptionSet": self.subscriptions[offset : offset + limit],
            }
        return None


@pytest.fixture
def cloud():
    tdmq, tag = TdmqBackend(), TagBackend()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, TDMQ, callback=tencent_callback(tdmq, "2020-02-17", tdmq.dispatch))
        register_tag(mock, tag)
        yield tdmq, tag


def test_cloud_checks_the_topic_each_queue_its_subscription_and_the_tag_api_read_only(capsys, cloud):
    tdmq, tag = cloud
    environ = {**QUEUE_PATH, **CREDENTIALS, "RETRY_ACCOUNT_UIN": "100000000001"}
    code, out = run(capsys, environ, "--delivery", "queue", "--cloud")
    assert code == 0, out
    assert f"ok: topic {TOPIC} exists in ap-guangzhou" in out
    for queue in QUEUES:
        assert f"ok: queue {queue} exists (visibility 100 s, retention 43200 s" in out
        assert f"ok: topic {TOPIC} delivers to queue {queue}" in out
    assert (
        "ok: the Tag API answers GetResources on qcs::batch:ap-guangzhou:uin/100000000001:job/job-00000000"
        in out
    )
    assert "credentials: TENCENT_SECRET_ID / TENCENT_SECRET_KEY" in out
    # only read-only actions: no receive (it would hide a message), no create, no tag write
    assert set(tdmq.actions()) == {
        "DescribeCmqTopicDetail",
        "DescribeCmqQueueDetail",
        "DescribeCmqSubscriptionDetail",
    }
    assert tag.actions() == ["GetResources"]
    assert CREDENTIALS["TENCENT_SECRET_KEY"] not in out


def test_cloud_finds_a_missing_queue_a_short_visibility_and_a_missing_subscription(capsys, cloud):
    tdmq, _ = cloud
    del tdmq.queues["batch-events-log-node-churn"]
    tdmq.queues["batch-events-retry-interrupted"]["VisibilityTimeout"] = 30
    tdmq.subscriptions = tdmq.subscriptions[:1]
    code, out = run(
        capsys, {**QUEUE_PATH, **CREDENTIALS}, "--delivery", "queue", "--cloud", "--uin", "100000000001"
    )
    found = problems(out)
    assert code == 1
    assert any(
        p.startswith("[log_node_churn] queue batch-events-log-node-churn: DescribeCmqQueueDetail answered "
                     "ResourceNotFound")
        for p in found
    )  # fmt: skip
    assert (
        "[retry_interrupted] queue batch-events-retry-interrupted: visibility timeout 30 s is shorter than "
        "the 60 s polling run: a message being handled would be handed to the next run"
    ) in found
    assert (
        f"[retry_interrupted] no subscription of topic {TOPIC} delivers to queue "
        "batch-events-retry-interrupted (setup_delivery --create)"
    ) in found


def test_cloud_on_http_checks_that_every_push_carries_the_token(capsys, cloud):
    tdmq, _ = cloud
    base = "http://1250000000-a.ap-guangzhou.tencentscf.com"
    tdmq.subscriptions = [
        {"SubscriptionName": "good", "Protocol": "http", "Endpoint": f"{base}?token={PUSH_TOKEN}"},
        {"SubscriptionName": "stale", "Protocol": "http", "Endpoint": f"{base}?token=old-token"},
        {"SubscriptionName": "bare", "Protocol": "http", "Endpoint": base},
    ]
    environ = {**DEPLOY, **CREDENTIALS, "PUSH_TOKEN": PUSH_TOKEN, "RETRY_LEDGER": "memory"}
    code, out = run(capsys, environ, "--delivery", "http", "--cloud")
    assert code == 1
    assert "ok: subscription good pushes with PUSH_TOKEN" in out
    assert problems(out) == [
        "[http] subscription stale pushes with a token that is not PUSH_TOKEN: every push is refused (403)",
        "[http] subscription bare pushes without ?token=: every push is refused (401)",
    ]
    assert PUSH_TOKEN not in out and "skipped: the Tag API (RETRY_LEDGER=memory" in out


def test_cloud_reports_a_refused_tag_resource_and_a_missing_topic(capsys, cloud):
    tdmq, tag = cloud
    tdmq.topics = set()
    tag.script("InvalidParameterValue.ResourceDescriptionError", action="GetResources")
    environ = {**DEPLOY, **CREDENTIALS, "RETRY_ACCOUNT_UIN": "100000000001"}
    code, out = run(capsys, environ, "--delivery", "cmq", "--cloud")
    found = problems(out)
    assert code == 1
    assert any(
        p.startswith(f"[cloud] topic {TOPIC}: DescribeCmqTopicDetail answered ResourceNotFound")
        for p in found
    )
    assert any(
        p.startswith("[retry_interrupted] the Tag API refused GetResources on qcs::batch:ap-guangzhou:uin/")
        and "InvalidParameterValue.ResourceDescriptionError" in p
        for p in found
    )


def test_cloud_needs_a_region(capsys):
    code, out = run(capsys, {}, "--cloud")
    assert code == 1
    assert problems(out) == [
        "[cloud] REGION is not set: the cloud checks need the region of the topic and queues"
    ]


# --- test messages (--send-test, the chat fakes on loopback) ----------------------------------------------


def test_send_test_posts_one_unmentioning_test_message_per_channel(capsys, robots):
    mentions = {"WECOM_MENTIONS": "zhangsan", "DINGTALK_MENTIONS": "all", "SLACK_MENTIONS": "U0123ABCD"}
    environ = {**channel_env(), **mentions, "ALERT_DRY_RUN": "1", "ALERT_EVENTS": "JOB_FAILED"}
    code, out = run(capsys, environ, "--send-test")
    assert code == 0, out
    for channel in CHANNELS:
        [message] = robots.requests(channel)
        assert message.accepted and doctor.TEST_TITLE in message.raw.decode("utf-8")
        assert f"ok: {channel} accepted the test message" in out
    wecom = robots.accepted("wecom")[0].body["markdown"]["content"]
    assert "<@" not in wecom and "[NOTICE]" in wecom  # no mention, not a failure
    assert not robots.accepted("dingtalk")[0].body.get("at", {}).get("isAtAll")
    assert "U0123ABCD" not in robots.accepted("slack")[0].raw.decode("utf-8")


def test_send_test_reports_a_channel_that_refuses(capsys, robots):
    robots.script("slack", "refused")
    code, out = run(capsys, channel_env("slack", "wecom"), "--send-test")
    assert code == 1
    assert "ok: wecom accepted the test message" in out
    [problem] = problems(out)
    assert problem.startswith("[alert_failures] slack did not take the test message: HTTP 404")


def test_without_send_test_no_channel_is_contacted(capsys, robots):
    code, out = run(capsys, channel_env())
    assert code == 0 and robots.received == []
    assert "chat channels were not contacted: --send-test posts one test message to each" in out
