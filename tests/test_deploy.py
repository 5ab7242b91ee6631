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
        declared = {e["key"] for e in function["environments"]}
        assert declared == code_settings(name, delivery), key
        assert not [d for d in declared if d.startswith(RESERVED)]


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_no_value_in_the_file_is_a_literal_setting(delivery):
    for function in spec_for(delivery)["inputs"]["functions"].values():
        for item in function["environments"]:
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
