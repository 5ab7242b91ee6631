"""`make package` output, imported and invoked by a fresh interpreter that sees nothing but the package."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import EVENTS, ROOT
from tools import package


def _python39() -> str | None:
    candidates = glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))
    candidates += [p for p in ("/usr/bin/python3.9", "/usr/local/bin/python3.9") if os.path.exists(p)]
    return candidates[0] if candidates else None


# SCF's runtime is Python 3.9 or 3.10: test with a real 3.9 when the machine has one (CI does).
RUNTIME = _python39() or sys.executable
RUNTIME_VERSION = subprocess.run(
    [RUNTIME, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
    capture_output=True, text=True, check=True,
).stdout.strip()  # fmt: skip

SAMPLE_FOR = {
    "alert_failures": "cmq_topic_job_failed.json",
    "retry_interrupted": "cmq_topic_job_running.json",
    "log_node_churn": "cmq_topic_compute_node_created.json",
}

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import index
event = json.load(open(sys.argv[2]))
result = index.main_handler(event, {"request_id": "pkg-test", "time_limit_in_ms": 10000})
outside = sorted(
    name for name, module in list(sys.modules.items())
    if getattr(module, "__file__", None)
    and not module.__file__.startswith(sys.argv[1])
    and not module.__file__.startswith(sys.base_prefix)
)
print("RESULT " + json.dumps({"result": result, "outside": outside}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out: Path = tmp_path_factory.mktemp("build")
    package.build(out, RUNTIME_VERSION)
    return out


def _serverless_functions() -> dict[str, dict]:
    spec = yaml.safe_load((ROOT / "serverless.yml").read_text())
    functions: dict[str, dict] = spec["inputs"]["functions"]
    return functions


def test_package_holds_code_shared_and_deps_and_nothing_else(built):
    for function in package.FUNCTIONS:
        names = {p.name for p in (built / function).iterdir()}
        assert {"index.py", "shared", "tencentcloud", "requests"} <= names
        assert not names & {
            "tests",
            "events",
            "tools",
            ".venv",
            "pytest",
            "_pytest",
            "responses",
            "hypothesis",
        }
        assert not list((built / function).rglob("__pycache__"))
        assert not [p for p in (built / function).rglob(".*")], "tool caches or dotfiles were packaged"
    assert not (built / "log_node_churn" / "tencentcloud" / "batch").exists()
    assert (built / "log_node_churn" / "tencentcloud" / "monitor").is_dir()
    assert (built / "retry_interrupted" / "tencentcloud" / "tag").is_dir()


@pytest.mark.parametrize("key", ["alertFailures", "retryInterrupted", "logNodeChurn"])
def test_each_handler_serverless_names_runs_from_the_package_alone(built, key):
    spec = _serverless_functions()[key]
    code_dir = built / Path(spec["src"]).name
    module, _, handler = spec["handler"].partition(".")
    assert (module, handler) == ("index", "main_handler")
    event_file = EVENTS / SAMPLE_FOR[code_dir.name]
    env = {"PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [RUNTIME, "-I", "-S", "-c", PROBE, str(code_dir), str(event_file)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    report = json.loads(line[len("RESULT ") :])
    assert report["result"]["events"] == 1
    assert report["outside"] == []


def test_sdk_in_the_package_imports_on_the_runtime_python(built):
    code = "import sys; sys.path.insert(0, sys.argv[1]); import tencentcloud.batch.v20170312.batch_client"
    code += "; import tencentcloud.tag.v20180813.tag_client, requests"
    result = subprocess.run(
        [RUNTIME, "-I", "-S", "-c", code, str(built / "retry_interrupted")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
