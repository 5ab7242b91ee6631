"""serverless.yml, for each delivery path: handlers exist, triggers are right, settings match the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT
from tools import deploy_config, render_serverless

SETTING_READ = re.compile(
    r"""(?:env_(?:str|bool|int|float|list|choice|events)|(?:environ|source|env)\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]{2,})["']"""
)
RESERVED = ("SCF_", "QCLOUD_", "TENCENTCLOUD_")
# Shared modules that only one delivery path imports at run time.
PATH_ONLY = {"poller.py": "queue", "cmq_data.py": "queue", "push.py": "http"}


def settings_read(files: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in files:
        names |= set(SETTING_READ.findall(path.read_text(encoding="utf-8")))
    return {n for n in names if not n.startswith("TENCENTCLOUD_")}  # injected by SCF's execution role


def code_settings(function: str, delivery: str) -> set[str]:
    shared = [p for p in (ROOT / "shared").glob("*.py") if PATH_ONLY.get(p.name, delivery) == delivery]
    own = list((ROOT / "functions" / function).rglob("*.py"))
    return settings_read(shared + own)


def spec_for(delivery: str) -> dict:
    spec = yaml.safe_load(render_serverless.render(delivery))
    assert isinstance(spec, dict)
    return spec


def test_committed_serverless_yml_is_the_default_path_rendered():
    assert (ROOT / "serverless.yml").read_text() == render_serverless.render(deploy_config.DEFAULT_DELIVERY)


def test_env_example_lists_every_variable_serverless_yml_reads():
    listed = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line}
    assert (ROOT / ".env.example").read_text() == render_serverless.env_example()
    for delivery in deploy_config.DELIVERIES:
        used = set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", render_serverless.render(delivery)))
        assert used <= listed, delivery


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_every_function_has_an_existing_handler(delivery):
    for key, function in spec_for(delivery)["inputs"]["functions"].items():
        folder = ROOT / "functions" / Path(function["src"]).name
        module, _, name = function["handler"].partition(".")
        tree = ast.parse((folder / f"{module}.py").read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert name in defined, f"{key}: {folder}/{module}.py has no {name}"


@pytest.mark.parametrize(("delivery", "trigger"), [("queue", "timer"), ("http", "http"), ("cmq", "cmq")])
def test_every_function_has_the_paths_trigger(delivery, trigger):
    spec = spec_for(delivery)
    triggers = spec["inputs"]["triggers"]
    assert sorted(t["function"] for t in triggers) == sorted(spec["inputs"]["functions"])
    assert {t["type"] for t in triggers} == {trigger}
    if trigger == "timer":
        assert all(len(t["parameters"]["cronExpression"].split()) == 7 for t in triggers)
    if trigger == "http":
        assert all(t["parameters"]["netConfig"]["enableExtranet"] is True for t in triggers)


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_declared_settings_are_exactly_what_the_code_reads(delivery):
    functions = spec_for(delivery)["inputs"]["functions"]
    for key, function in functions.items():
        name = Path(function["src"]).name
        declared = {e["key"] for e in function["environment"]}
        assert declared == code_settings(name, delivery), key
        assert not [d for d in declared if d.startswith(RESERVED)]


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_no_value_in_the_file_is_a_literal_setting(delivery):
    for function in spec_for(delivery)["inputs"]["functions"].values():
        for item in function["environment"]:
            assert item["value"].startswith("${env:"), item


def test_async_retry_is_on_for_async_paths_and_off_for_the_function_url():
    queue = spec_for("queue")["inputs"]["functions"]["alertFailures"]
    assert (queue["asyncRunEnable"], queue["retryNum"], queue["msgTTL"]) == (True, 2, 21600)
    assert spec_for("http")["inputs"]["functions"]["alertFailures"]["asyncRunEnable"] is False


def test_dead_letter_queue_is_optional():
    assert "deadLetter" not in spec_for("cmq")["inputs"]["functions"]["alertFailures"]
    with_dlq = yaml.safe_load(render_serverless.render("cmq", dead_letter_queue="batch-events-dlq"))
    assert with_dlq["inputs"]["functions"]["alertFailures"]["deadLetter"]["name"] == "batch-events-dlq"


def test_settings_scan_finds_reads_in_the_shared_package():
    assert {"BATCH_TOPIC_NAMES", "CAPTURE_RAW_EVENTS"} <= code_settings("log_node_churn", "cmq")
    assert "PUSH_TOKEN" in code_settings("log_node_churn", "http")
    assert "PUSH_TOKEN" not in code_settings("log_node_churn", "queue")


def test_every_function_uses_the_environment_key_multi_scf_reads():
    for delivery in deploy_config.DELIVERIES:
        for key, function in spec_for(delivery)["inputs"]["functions"].items():
            assert "environment" in function and "environments" not in function, (delivery, key)


def test_no_top_level_runtime_and_each_function_names_one_scf_accepts():
    for runtime in deploy_config.RUNTIMES:
        spec = yaml.safe_load(render_serverless.render("queue", runtime=runtime))
        assert "runtime" not in spec["inputs"]
        assert {f["runtime"] for f in spec["inputs"]["functions"].values()} == {runtime}
    with pytest.raises(ValueError, match="runtime"):
        render_serverless.render("queue", runtime="Python3.7")


def test_every_function_src_is_a_folder_inside_inputs_src():
    for delivery in deploy_config.DELIVERIES:
        spec = spec_for(delivery)
        inputs_src = spec["inputs"]["src"]["src"]
        assert inputs_src == "./build"
        for key, function in spec["inputs"]["functions"].items():
            src = function["src"]
            assert src.startswith("./") and "/" not in src[2:], (key, src)
            assert not src.startswith("./build"), (key, src)


def test_every_trigger_is_created_enabled():
    for delivery in deploy_config.DELIVERIES:
        for trigger in spec_for(delivery)["inputs"]["triggers"]:
            assert trigger["parameters"]["enable"] is True, (delivery, trigger)


# The longest value each setting realistically takes: robot URLs with their real key lengths, the
# signing secrets' lengths (DingTalk SEC + 64 hex, Feishu 22+), mention lists of ten people, a rule set.
_WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "x" * 36
_DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=" + "x" * 64
_FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/" + "x" * 36
_SLACK = "https://hooks.slack.com/services/T0000000000/B0000000000/" + "x" * 24
_MENTIONS = ",".join(f"user{i:02d}@example.com" for i in range(10))
MAXIMAL = {
    "ALERT_WEBHOOK_URL": "https://alertmanager.ops.example.internal:9093/api/v2/webhooks/batch-events?token="
    + "x" * 40,
    "WECOM_WEBHOOK_URL": _WECOM,
    "DINGTALK_WEBHOOK_URL": _DINGTALK,
    "DINGTALK_SECRET": "SEC" + "x" * 64,
    "FEISHU_WEBHOOK_URL": _FEISHU,
    "FEISHU_SECRET": "x" * 32,
    "SLACK_WEBHOOK_URL": _SLACK,
    "ALERT_MENTIONS": _MENTIONS,
    "WECOM_MENTIONS": _MENTIONS,
    "DINGTALK_MENTIONS": ",".join("1380013800" + str(i) for i in range(10)),
    "FEISHU_MENTIONS": ",".join("ou_" + "x" * 32 for _ in range(5)),
    "SLACK_MENTIONS": ",".join("U" + "X" * 10 for _ in range(10)),
    "ALERT_CONSOLE_URL": "https://console.cloud.tencent.com/batch/job/detail?rid=1&jobId={job_id}",
    "ALERT_EVENTS": "failures,TASK_INSTANCE_FAILED_INTERRUPTED,COMPUTE_NODE_ABNORMAL",
    "RETRY_EVENTS": "JOB_FAILED_INTERRUPTED,TASK_FAILED_INTERRUPTED,TASK_INSTANCE_FAILED_INTERRUPTED",
    "RETRY_RULES": "; ".join(f"exit:{code}=retry" for code in range(130, 150)),
    "BATCH_TOPIC_NAMES": "batch-events-prod,batch-events-staging,batch-events-genomics",
    "BATCH_ENDPOINT": "batch.internal.tencentcloudapi.com",
    "CMQ_ENDPOINT": "https://cmq-gz.public.tencenttdmq.com",
    "CMQ_SECRET_ID": "AKID" + "x" * 32,
    "CMQ_SECRET_KEY": "x" * 32,
    "CMQ_QUEUE_NAME": "batch-events-production-retry-interrupted",
    "PUSH_TOKEN": "x" * 64,
    "RETRY_TAG_KEY": "batch-events-retry",
    "RETRY_ACCOUNT_UIN": "100000000001",
}
SCF_ENV_LIMIT_BYTES = 4096  # SCF: 4 KB of environment variables per function (reference section 3)


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_each_function_fits_scfs_4_kb_of_environment_with_maximal_values(delivery):
    for key, function in spec_for(delivery)["inputs"]["functions"].items():
        names = [item["key"] for item in function["environment"]]
        # every setting gets its realistic maximum (a short yes/no or number where none is listed)
        total = sum(len(f"{name}={MAXIMAL.get(name, '1000')}".encode()) + 1 for name in names)
        assert total <= SCF_ENV_LIMIT_BYTES, f"{delivery}/{key}: {total} bytes of environment"
