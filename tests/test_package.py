"""`make package` output, uploaded and cut up the way the CLI and multi-scf do it, then run by a fresh
interpreter that sees nothing but one function's extracted folder.

The components CLI zips inputs.src with entry names relative to that folder; multi-scf unzips it and
keeps, for each function, the entries whose name contains the function's `src` with its leading `./`
removed (serverless-components/tencent-multi-scf src/zipper.ts, `unzip`); that folder is the code
root SCF runs `index.main_handler` from, read-only, with `/var/user` on sys.path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.batch import BatchBackend, batch_callback
from tests.fakes.cmq import CmqBackend, cmq_callback
from tests.fakes.loopback import serve
from tests.helpers import EVENTS
from tools import deploy_config, package, render_serverless

# SCF's runtime is Python 3.9 or 3.10: test with a real 3.9 when the machine has one (CI's does).
RUNTIME_PYTHON = package.find_python("3.9")
RUNTIME = "Python3.9" if RUNTIME_PYTHON else f"Python{sys.version_info[0]}.{sys.version_info[1]}"
PYTHON = RUNTIME_PYTHON or sys.executable

PROBE = r"""
import json, os, sys
sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p.startswith(sys.base_prefix)]
handler_module, _, handler_name = sys.argv[3].partition(".")
module = __import__(handler_module)
event = json.load(open(sys.argv[2]))
context = {"request_id": "pkg-test", "time_limit_in_ms": 20000, "tencentcloud_uin": "100000000001"}
result = getattr(module, handler_name)(event, context)
outside = sorted(
    name for name, m in list(sys.modules.items())
    if getattr(m, "__file__", None)
    and not m.__file__.startswith(sys.argv[1])
    and not m.__file__.startswith(sys.base_prefix)
)
compiled = sorted(
    name for name, m in list(sys.modules.items())
    if getattr(m, "__file__", None) and m.__file__.startswith(sys.argv[1])
    and getattr(getattr(m, "__spec__", None), "cached", None)
    and os.path.exists(m.__spec__.cached)
)
print("RESULT " + json.dumps({"result": result, "outside": outside, "compiled": len(compiled)}))
"""

SAMPLE_FOR = {
    "alert_failures": "cmq_topic_job_failed.json",
    "retry_interrupted": "cmq_topic_job_failed_interrupted.json",
    "log_node_churn": "cmq_topic_compute_node_created.json",
}
JOB_IN_SAMPLE = "job-5ik2gmv8"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """build/ zipped as the CLI uploads inputs.src: every file, named relative to that folder."""
    tmp: Path = tmp_path_factory.mktemp("package")
    build = tmp / "build"
    package.build(build, RUNTIME if RUNTIME in deploy_config.RUNTIMES else "Python3.9")
    path = tmp / "inputs-src.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(p for p in build.rglob("*") if p.is_file()):
            zf.write(file, file.relative_to(build).as_posix())
    return path


def extract_like_multi_scf(archive: Path, function_src: str, target: Path) -> Path:
    """Keep the entries whose name contains `src` minus its first './', paths kept; the code root."""
    entry_name = function_src.replace("./", "", 1)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if entry_name in info.filename:
                zf.extract(info, target)
    return target / entry_name


def functions_of(delivery: str) -> dict[str, dict[str, Any]]:
    spec = yaml.safe_load(render_serverless.render(delivery))
    assert "runtime" not in spec["inputs"], "a top-level runtime is refused by the platform's input rules"
    functions: dict[str, dict[str, Any]] = spec["inputs"]["functions"]
    return functions


def run_probe(code_root: Path, handler: str, event: Path, env: dict[str, str]) -> dict[str, Any]:
    """The handler in a fresh interpreter: isolated, no site, no bytecode writes, only code_root."""
    # SCF's code directory is read-only: -B and PYTHONDONTWRITEBYTECODE keep this run from writing
    # (chmod would not stop root), so only shipped bytecode is ever used.
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **env}
    result = subprocess.run(
        [PYTHON, "-I", "-S", "-B", "-c", PROBE, str(code_root), str(event), handler],
        capture_output=True, text=True, timeout=120, env=full_env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    report: dict[str, Any] = json.loads(line[len("RESULT ") :])
    return report


def test_a_function_src_outside_inputs_src_extracts_nothing(archive, tmp_path):
    # GIVEN the archive of build/ WHEN a function's src repeats the inputs.src folder (the old file)
    root = extract_like_multi_scf(archive, "./build/alert_failures", tmp_path)
    # THEN multi-scf would find no code at all: the mistake the old packaging test could not see
    assert not root.exists()


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
def test_each_function_extracts_to_its_own_folder_and_nothing_else(archive, tmp_path, delivery):
    for key, spec in functions_of(delivery).items():
        target = tmp_path / delivery / key
        root = extract_like_multi_scf(archive, spec["src"], target)
        assert (root / "index.py").is_file(), key
        assert spec["runtime"] in deploy_config.RUNTIMES
        stray = [p for p in target.iterdir() if p != root]
        assert stray == [], f"{key}: the substring match pulled in {stray}"
        names = {p.name for p in root.iterdir()}
        assert {"index.py", "shared"} <= names
        assert not names & {"tests", "events", "tools", "bench", ".venv", "pytest", "responses", "hypothesis"}
        assert not [p for p in root.rglob(".*")], "tool caches or dotfiles were packaged"


def test_each_function_ships_only_the_sdk_services_its_code_calls(archive, tmp_path):
    roots = {
        key: extract_like_multi_scf(archive, spec["src"], tmp_path / key)
        for key, spec in functions_of("cmq").items()
    }
    assert not (roots["logNodeChurn"] / "tencentcloud").exists()
    assert not (roots["logNodeChurn"] / "requests").exists()  # shared/http.py is the standard library's
    assert (roots["logNodeChurn"] / "certifi").is_dir()
    for key in ("retryInterrupted", "alertFailures"):  # shared/tcapi.py: the SDK's common package only
        assert (roots[key] / "tencentcloud" / "common" / "exception").is_dir()
        assert {p.name for p in (roots[key] / "tencentcloud").iterdir() if p.is_dir()} <= {
            "common",
            "__pycache__",
        }


@pytest.mark.skipif(RUNTIME_PYTHON is None, reason="no python3.9 here to build the runtime's bytecode")
def test_the_package_ships_bytecode_for_the_runtime(archive, tmp_path):
    root = extract_like_multi_scf(archive, "./log_node_churn", tmp_path)
    assert list((root / "shared" / "__pycache__").glob("envelope.cpython-39.pyc"))
    assert list((root / "__pycache__").glob("index.cpython-39.pyc"))


def _invoke_on_path(archive: Path, tmp_path: Path, delivery: str, key: str) -> dict[str, Any]:
    spec = functions_of(delivery)[key]
    root = extract_like_multi_scf(archive, spec["src"], tmp_path / key)
    function = Path(spec["src"]).name
    sample = EVENTS / SAMPLE_FOR[function]
    env = {"RETRY_LEDGER": "memory", "TENCENTCLOUD_SECRETID": "AKIDpkg", "TENCENTCLOUD_SECRETKEY": "pkgKey"}
    batch = BatchBackend()
    batch.add_job(JOB_IN_SAMPLE, region="ap-guangzhou")
    queue = CmqBackend()
    queue.create_queue("pkg-queue")
    with serve({"/": batch_callback(batch)}) as batch_url:
        env["BATCH_ENDPOINT"] = batch_url
        if delivery == "queue":
            message = json.loads(sample.read_text())["Records"][0]["CMQ"]["msgBody"]
            queue.send("pkg-queue", message)
            env.update(CMQ_QUEUE_NAME="pkg-queue", CMQ_SECRET_ID="AKIDcmq", CMQ_SECRET_KEY="cmq-secret-key")
            # the fake checks the signature over the host the client signs, known once the port is
            routes = {"/v2/index.php": cmq_callback(queue, "")}
            with serve(routes) as cmq_url:
                routes["/v2/index.php"] = cmq_callback(queue, cmq_url.removeprefix("http://"))
                env["CMQ_ENDPOINT"] = cmq_url
                report = run_probe(root, spec["handler"], EVENTS / "delivery" / "timer_poll_queue.json", env)
            assert report["result"]["deleted"] == 1
        elif delivery == "http":
            body = json.loads(sample.read_text())["Records"][0]["CMQ"]
            push = {
                "httpMethod": "POST",
                "path": "/",
                "headers": {"content-type": "text/plain", "x-cmq-message-id": body["msgId"]},
                "queryString": {"token": "pkg-push-token"},
                "body": body["msgBody"],
                "isBase64Encoded": False,
            }
            event = tmp_path / f"{key}-push.json"
            event.write_text(json.dumps(push))
            env["PUSH_TOKEN"] = "pkg-push-token"
            report = run_probe(root, spec["handler"], event, env)
            assert report["result"]["statusCode"] == 200, report
        else:
            report = run_probe(root, spec["handler"], sample, env)
    if function == "retry_interrupted":
        assert batch.jobs[JOB_IN_SAMPLE].retries == 1  # TerminateJob, FAILED, RetryJobs through shared.tcapi
    return report


@pytest.mark.parametrize("delivery", deploy_config.DELIVERIES)
@pytest.mark.parametrize("key", ["alertFailures", "retryInterrupted", "logNodeChurn"])
def test_each_handler_runs_from_its_extracted_folder_alone(archive, tmp_path, delivery, key):
    # GIVEN the function's folder cut out of the uploaded archive, read-only
    # WHEN a fresh runtime interpreter imports the handler serverless.yml names and invokes it
    report = _invoke_on_path(archive, tmp_path, delivery, key)
    # THEN it ran on the delivery path's sample using nothing outside that folder and the stdlib
    assert report["outside"] == []
    if RUNTIME_PYTHON is not None:
        assert report["compiled"] > 0, "no module was loaded from the shipped bytecode"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the hashed CA directory needs openssl")
def test_each_function_ships_certifis_cas_also_as_a_hashed_directory(archive, tmp_path):
    # GIVEN the package as multi-scf unpacks it
    for key, spec in functions_of("cmq").items():
        certifi = extract_like_multi_scf(archive, spec["src"], tmp_path / key) / "certifi"
        bundle = (certifi / "cacert.pem").read_text(encoding="ascii")
        hashed = sorted((certifi / "hashed").iterdir())
        # THEN every certificate of the bundle is there once, named <8 hex digits>.<n> as OpenSSL looks it up
        assert len(hashed) == bundle.count("-----BEGIN CERTIFICATE-----") > 100
        assert all(re.fullmatch(r"[0-9a-f]{8}\.[0-9]", p.name) for p in hashed)
        assert "".join(p.read_text(encoding="ascii") for p in hashed).count("BEGIN CERTIFICATE") == len(
            hashed
        )
