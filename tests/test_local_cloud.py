"""The local cloud (localcloud/) and `make invoke`'s default mode: every sample offline, nothing leaves."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any, Optional

import pytest

from localcloud import LocalCloud, running
from localcloud.chat import CHANNELS
from localcloud.cloud import CREDENTIALS
from tests.helpers import FUNCTIONS, ROOT, json_lines
from tools import invoke

SAMPLES = [str(p.relative_to(ROOT)) for p in invoke.sample_files()]
INTERRUPTED = "events/cmq_topic_job_failed_interrupted.json"
TIMER = "events/delivery/timer_poll_queue.json"
CLEAN_ENV = {"PATH": "/usr/bin:/bin"}


def _event(name: str) -> Any:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def _cli(
    *args: str, env: Optional[dict[str, str]] = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m tools.invoke ARGS` with no .env and a clean environment, stderr after stdout merged."""
    return subprocess.run(
        [sys.executable, "-m", "tools.invoke", *args, "--env-file", "/dev/null"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
        env={**CLEAN_ENV, **(env or {})},
    )


# A subprocess that refuses and records every connection outside loopback, then runs tools.invoke.
_RECORDING = """
import runpy, socket, sys
attempts = []
real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
def loopback(host):
    return isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))
def connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family != socket.AF_UNIX and not loopback(host):
        attempts.append(repr(address))
        raise OSError("blocked by the test: " + repr(address))
    return real_connect(self, address)
def lookup(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not loopback(name):
        attempts.append("lookup " + repr(name))
        raise OSError("blocked by the test: " + repr(name))
    return real_lookup(host, *args, **kwargs)
socket.socket.connect, socket.getaddrinfo = connect, lookup
sys.argv = ["tools.invoke", *sys.argv[1:]]
try:
    runpy.run_module("tools.invoke", run_name="__main__")
finally:
    print("ATTEMPTS=" + repr(attempts))
"""


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_runs_offline_on_every_sample(function, sample, capsys):
    # GIVEN a sample and the local cloud WHEN the function runs on it the way `make invoke` runs it
    run = invoke.run_local(function, _event(sample))
    # THEN it ends normally, without reaching for anything outside the machine
    assert run.status == "ok", f"{run.status}: {run.message}\n{run.trace}"
    assert run.refused == []
    assert all(isinstance(line, dict) for line in json_lines(capsys.readouterr().out))


def test_interrupted_job_is_terminated_then_retried_with_its_tag_ledger():
    # GIVEN an interrupted sample WHEN retry_interrupted runs on it offline
    run = invoke.run_local("retry_interrupted", _event(INTERRUPTED))
    # THEN the job the sample names was found FAILED_INTERRUPTED, terminated, then retried
    actions = [(c.service, c.action) for c in run.report.api if not c.error]
    assert actions.index(("batch", "TerminateJob")) < actions.index(("batch", "RetryJobs"))
    [retry] = [c for c in run.report.api if c.action == "RetryJobs"]
    assert retry.params["JobIds"] == ["job-5ik2gmv8"] and retry.region == "ap-guangzhou"
    # AND the ledger went through the Tag fake, ending in `done`
    tags = [
        c.params["ReplaceTags"][0]["TagValue"] for c in run.report.api if c.action == "ModifyResourceTags"
    ]
    assert [t.split("/")[1] for t in tags] == ["pending", "terminating", "done"]
    assert run.result["retried"] == 1 and run.result["terminated"] == 1
    assert run.report.figures()["RetryJobs"] == 1


@pytest.mark.parametrize("function", FUNCTIONS)
def test_timer_sample_polls_the_seeded_queue_and_deletes_what_it_handled(function):
    # GIVEN the timer sample WHEN each function polls its queue in the local cloud
    run = invoke.run_local(function, _event(TIMER))
    # THEN it found the sample message(s) put there for it, handled and deleted them
    assert run.report.received >= 1 and run.report.deleted == run.report.received
    assert run.result["events"] >= 1
    if function == "retry_interrupted":
        assert run.report.figures()["RetryJobs"] == 1


def test_push_samples_carry_their_token_and_a_push_without_one_is_refused():
    # GIVEN the push samples WHEN a function runs on them THEN the one with a token is handled
    assert (
        invoke.run_local("log_node_churn", _event("events/delivery/http_push_simplified.json")).figures[
            "http"
        ]
        == 200
    )
    # AND the one without is answered 401, as the real function URL would
    assert (
        invoke.run_local("log_node_churn", _event("events/delivery/http_push_without_token.json")).figures[
            "http"
        ]
        == 401
    )


def test_alert_reaches_every_local_robot_and_each_accepts_it():
    # GIVEN the README's sample WHEN alert_failures runs on it offline
    run = invoke.run_local("alert_failures", _event("events/cmq_topic_job_failed.json"))
    # THEN each of the five robots received one message, signed and shaped as it requires
    assert sorted(m.channel for m in run.report.messages) == sorted(CHANNELS)
    assert all(m.accepted for m in run.report.messages)
    assert run.result["delivered"] == 5
    lines = "\n".join(run.report.lines())
    assert "wecom      posted: [FAILED] Batch job render-frames (job-5ik2gmv8)" in lines


def test_readme_command_ends_with_what_the_cloud_would_have_received():
    # WHEN the README's command runs (no .env, a clean environment)
    result = _cli("alert_failures", "events/cmq_topic_job_failed.json")
    # THEN it says first that it runs against the local cloud, and ends with every channel's message
    out = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout
    assert out[0].startswith("--- local cloud on http://127.0.0.1:") and "nothing leaves" in out[0]
    done, readable = result.stdout.split("--- in the cloud, this run would have done:\n", 1)[1].split(
        "\n---", 1
    )
    tail = done.splitlines()
    assert [line.split()[0] for line in tail] == list(CHANNELS)
    assert all("posted: " in line for line in tail)
    # AND then the message as a person reads it
    assert readable.startswith(" each message as wecom shows it, in plain text:")


@pytest.mark.parametrize("how", [("--live",), ()])
def test_live_mode_says_so_in_its_first_line(how):
    # GIVEN --live, or LIVE=1 WHEN a function runs (log_node_churn: it calls no API on this sample)
    result = _cli(
        *how, "log_node_churn", "events/cmq_topic_compute_node_created.json", env={} if how else {"LIVE": "1"}
    )
    # THEN the very first line warns that the cloud and the channels are real, and no local cloud is used
    first = result.stdout.splitlines()[0]
    assert result.returncode == 0, result.stdout
    assert first.startswith("--- LIVE:") and "real" in first
    assert "local cloud" not in result.stdout


def test_invoke_all_prints_one_line_per_run_and_exits_zero():
    # WHEN `make invoke-all` runs
    result = _cli("--all")
    # THEN one line per function and sample (delivery samples included), all ok, and a summary
    lines = result.stdout.splitlines()
    runs = [line for line in lines if line.split(" ", 1)[0] in ("ok", "raised", "error")]
    assert result.returncode == 0, result.stdout
    assert len(runs) == len(FUNCTIONS) * len(SAMPLES)
    assert all(line.startswith("ok ") for line in runs)
    assert any("retry_interrupted" in line and "RetryJobs=1" in line and TIMER in line for line in runs)
    assert lines[-1] == f"{len(runs)} runs: {len(runs)} ok, 0 raised RetryableFailure, 0 error(s)"


def test_invoke_all_exits_non_zero_when_a_run_fails():
    # GIVEN a setting alert_failures cannot use WHEN every sample runs
    result = _cli("--all", env={"ALERT_EVENTS": "JOB_EXPLODED"})
    # THEN those runs are errors, the others still run, and the exit code says so
    assert result.returncode == 1
    assert "error (config)           alert_failures" in result.stdout
    assert "ok                       log_node_churn" in result.stdout
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(
    ("function", "sample"),
    [
        ("retry_interrupted", INTERRUPTED),
        ("retry_interrupted", TIMER),
        ("alert_failures", "events/cmq_topic_alert_groups.json"),
        ("log_node_churn", "events/delivery/http_push_json_format.json"),
    ],
)
def test_default_mode_never_connects_outside_loopback(function, sample, tmp_path):
    # GIVEN a .env whose settings point at the real cloud and a real robot, and every connection and
    # lookup outside loopback refused and recorded in the process
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "WECOM_WEBHOOK_URL=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=real-key\n"
        "BATCH_ENDPOINT=batch.tencentcloudapi.com\nTENCENTCLOUD_SECRETID=AKIDreal\nTENCENTCLOUD_SECRETKEY=real\n"
        "CMQ_ENDPOINT=https://cmq-gz.public.tencenttdmq.com\n"
    )
    # WHEN `make invoke` runs in its default mode
    result = subprocess.run(
        [sys.executable, "-c", _RECORDING, function, sample, "--env-file", str(dotenv)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=CLEAN_ENV,
    )  # fmt: skip
    # THEN it did its work against the fakes, and nothing was even attempted outside the machine
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("ATTEMPTS=[]"), result.stdout[-500:]
    assert "refused" not in result.stderr and "real-key" not in result.stdout + result.stderr


def test_a_function_run_on_a_running_local_cloud_shows_up_in_its_state():
    # GIVEN a local cloud already running (as `make local` runs it)
    with running(LocalCloud(all_samples=True)) as cloud:
        # WHEN two runs use it
        invoke.run_local("retry_interrupted", _event(INTERRUPTED), cloud=cloud)
        invoke.run_local("alert_failures", _event(INTERRUPTED), cloud=cloud)
        # THEN its state has the job retried and every robot's message
        job = cloud.batch.jobs["job-5ik2gmv8"]
        assert (job.state, job.retries, job.terminations) == ("RUNNING", 1, 1)
        assert len(cloud.chat.received) == 5
        assert cloud.tag.resources  # the ledger's tag is on the job


def test_localcloud_imports_with_only_the_runtime_requirements():
    # GIVEN an interpreter where the test-only packages cannot be imported
    code = (
        "import sys\n"
        "for name in ('responses', 'pytest', '_pytest', 'hypothesis'):\n"
        "    sys.modules[name] = None\n"
        "import localcloud, localcloud.server, localcloud.page, tools.invoke\n"
        "print('imported')\n"
    )
    # WHEN localcloud and the tool are imported THEN they import
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "imported", result.stderr


def test_batch_and_tag_share_one_port_told_apart_by_the_signed_service(monkeypatch):
    # GIVEN the functions' Batch and Tag clients, and the SDK's (the tools'), pointed at the same local cloud
    from tencentcloud.batch.v20170312 import batch_client as sdk_batch
    from tencentcloud.batch.v20170312 import models as batch_models

    from shared.cloud import batch_client, client_profile, credentials, tag_client

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    resource = "qcs::batch:ap-shanghai:uin/100000000001:job/job-port0001"
    with running() as cloud:
        cloud.batch.add_job("job-port0001", "FAILED", region="ap-shanghai")
        # WHEN each calls its API
        job = batch_client("ap-shanghai", endpoint=cloud.base_url).call(
            "DescribeJob", {"JobId": "job-port0001"}
        )
        tags = tag_client("ap-shanghai", endpoint=cloud.base_url).call(
            "GetResources", {"ResourceList": [resource]}
        )
        describe = batch_models.DescribeJobRequest()
        describe.JobId = "job-port0001"
        sdk = sdk_batch.BatchClient(credentials(), "ap-shanghai", client_profile(cloud.base_url))
        sdk_job = sdk.DescribeJob(describe)
    # THEN each reached its own fake
    assert job["JobState"] == sdk_job.JobState == "FAILED" and tags["ResourceTagMappingList"] == []
    assert [(c.service, c.action) for c in cloud.api_calls] == [
        ("batch", "DescribeJob"),
        ("tag", "GetResources"),
        ("batch", "DescribeJob"),
    ]


def test_loopback_guard_refuses_and_records_what_tries_to_leave(monkeypatch):
    # GIVEN the guard a local run is under
    from localcloud.guard import LeftTheMachine, loopback_only

    with loopback_only() as refused:
        # WHEN something looks up or connects to a real host THEN it is refused before any packet leaves
        with pytest.raises(LeftTheMachine):
            socket.getaddrinfo("batch.tencentcloudapi.com", 443)
        with pytest.raises(LeftTheMachine), socket.socket() as sock:
            sock.connect(("203.0.113.7", 443))
    assert refused == ["lookup of 'batch.tencentcloudapi.com'", "connection to ('203.0.113.7', 443)"]


def test_the_fakes_refuse_a_stale_or_forged_signature():
    # GIVEN a request signed now with the key the fake knows
    import time as clock

    from localcloud.tencent import signature_problem
    from shared import tcapi

    keys = {"AKIDskew": "skewKey"}
    client = tcapi.ApiClient("batch", "2017-03-12", "ap-guangzhou", tcapi.Credentials("AKIDskew", "skewKey"))
    body = b'{"JobId": "j"}'
    now = int(clock.time())

    def signed(at: int) -> dict[str, str]:
        return {**client.headers("DescribeJob", body, at), "Host": client.signed_host}

    good = signed(now)
    # WHEN the fake checks it, a copy from ten minutes ago, and one with another body
    stale = signed(now - 600)
    # THEN only the fresh one passes
    assert signature_problem(good, body, keys) is None
    codes = [
        (signature_problem(headers, sent, known) or ("none",))[0]
        for headers, sent, known in [
            (stale, body, keys),
            (good, b'{"JobId": "other"}', keys),
            (good, body, {"AKIDelse": "k"}),
        ]
    ]
    assert codes == [
        "AuthFailure.SignatureExpire",
        "AuthFailure.SignatureFailure",
        "AuthFailure.SecretIdNotFound",
    ]
