"""retry_interrupted end to end: the handler, the real SDK, and stateful fakes of the Batch and Tag APIs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import retrying
from retrying import timing

from shared.catalogue import EventName
from shared.errors import ConfigError, RetryableFailure
from tests.fakes.batch import BatchBackend, BatchError, fake_batch_api
from tests.fakes.batch.scenario import SCF_ROLE_ENV
from tests.fakes.cmq import FakeClock
from tests.fakes.tag import TagBackend
from tests.helpers import json_lines, load_event, load_handler
from tools.generate_event import batch_event, cmq_record

UIN = "100000000001"
CONTEXT = {"request_id": "req-retry", "time_limit_in_ms": 30000, "tencentcloud_uin": UIN}
INTERRUPTED = "cmq_topic_job_failed_interrupted.json"  # job-5ik2gmv8, ap-guangzhou
JOB = "job-5ik2gmv8"


@dataclass
class Cloud:
    batch: BatchBackend
    tags: TagBackend
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)


@pytest.fixture
def cloud(monkeypatch):
    # SCF-role credentials, the in-process ledger, and a clock that moves only when the code "sleeps".
    for key, value in SCF_ROLE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RETRY_LEDGER", "memory")
    clock = FakeClock()
    state = Cloud(BatchBackend(), TagBackend(), clock)
    # the fakes check every signature with the role's key, as the real APIs do
    keys = {SCF_ROLE_ENV["TENCENTCLOUD_SECRETID"]: SCF_ROLE_ENV["TENCENTCLOUD_SECRETKEY"]}
    state.batch.secret_keys = state.tags.secret_keys = keys

    def sleep(seconds: float) -> None:
        state.sleeps.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(timing, "DEFAULT", timing.Timing(clock=clock, sleep=sleep, random=lambda: 0.5))
    retrying.reset_memory_ledger()
    with fake_batch_api(state.batch, tag=state.tags):
        yield state
    retrying.reset_memory_ledger()


def invoke(event, context=None):
    return load_handler("retry_interrupted").main_handler(event, context or CONTEXT)


def decisions(capsys):
    lines = json_lines(capsys.readouterr().out)
    return [line for line in lines if line["msg"] in ("retry decision", "retry budget exhausted")]


def job_event(name: EventName, job_ids, region="ap-guangzhou", **fields):
    """One record per job id (built in the test: too big or too specific for a sample file)."""
    records = [
        cmq_record({"Events": [batch_event(name, job_id=job_id, region=region, **fields)]}, msg_id=f"m-{n}")
        for n, job_id in enumerate(job_ids)
    ]
    return {"Records": records}


# -- the decision per state ------------------------------------------------------------------


def test_failed_job_is_retried_with_one_retry_call(cloud, monkeypatch, capsys):
    # GIVEN JOB_FAILED among the triggering events and the job FAILED
    monkeypatch.setenv("RETRY_EVENTS", "JOB_FAILED")
    cloud.batch.add_job(JOB, "FAILED")
    # WHEN the handler runs
    summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN one DescribeJob, one RetryJobs, and the attempt recorded as done
    assert cloud.batch.actions() == ["DescribeJob", "RetryJobs"]
    assert (cloud.batch.jobs[JOB].state, cloud.batch.jobs[JOB].retries) == ("RUNNING", 1)
    assert (summary["retried"], summary["failed"]) == (1, 0)
    [line] = decisions(capsys)
    assert (line["state"], line["action"], line["attempt_of"]) == ("FAILED", "retried", "1 of 3")
    entry = retrying.MemoryLedger().read("ap-guangzhou", JOB)
    assert entry is not None and (entry.attempt, entry.status) == (1, "done")


def test_interrupted_job_is_terminated_then_retried(cloud, capsys):
    # GIVEN a FAILED_INTERRUPTED job (RetryJobs is documented for FAILED jobs only)
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN it terminates it straight away (releasing the kept instance), sees FAILED, and retries
    assert cloud.batch.actions() == ["DescribeJob", "TerminateJob", "DescribeJob", "RetryJobs"]
    job = cloud.batch.jobs[JOB]
    assert (job.state, job.terminations, job.retries) == ("RUNNING", 1, 1)
    assert (summary["retried"], summary["terminated"]) == (1, 1)
    [line] = decisions(capsys)
    assert line["state"] == "FAILED_INTERRUPTED" and "TerminateJob" in line["reason"]


def test_interrupted_job_never_gets_retry_jobs_before_terminate_job(cloud):
    # GIVEN a Batch that would even accept RetryJobs in FAILED_INTERRUPTED (undocumented)
    cloud.batch.accept_interrupted_retry = True
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    invoke(load_event(INTERRUPTED))
    # THEN it still takes the documented path: TerminateJob, FAILED, then RetryJobs
    assert cloud.batch.actions() == ["DescribeJob", "TerminateJob", "DescribeJob", "RetryJobs"]


def test_a_failed_job_refused_because_it_became_interrupted_is_terminated_then_retried(cloud, monkeypatch):
    # GIVEN a job FAILED at DescribeJob that Batch refuses to retry because it is FAILED_INTERRUPTED now
    cloud.batch.add_job(JOB, "FAILED")
    real_retry = cloud.batch.retry_jobs
    calls = []

    def interrupted_meanwhile(job_ids, region):
        calls.append(job_ids)
        if len(calls) == 1:
            cloud.batch.jobs[JOB].state = "FAILED_INTERRUPTED"
            raise BatchError("UnsupportedOperation", "job is FAILED_INTERRUPTED")
        return real_retry(job_ids, region)

    monkeypatch.setattr(cloud.batch, "retry_jobs", interrupted_meanwhile)
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN the refusal is tolerated: described again, terminated, retried once it is FAILED
    assert cloud.batch.actions("TerminateJob") == ["TerminateJob"]
    assert (summary["retried"], summary["failed"], len(calls)) == (1, 0, 2)


def test_termination_is_polled_with_the_injected_clock(cloud):
    # GIVEN a termination that takes three more DescribeJob answers to complete
    cloud.batch.terminate_polls = 3
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    invoke(load_event(INTERRUPTED))
    # THEN it waited through the fake clock (never really slept) and then retried
    assert cloud.sleeps == [2.0, 2.0, 2.0]
    assert cloud.batch.actions("DescribeJob") == ["DescribeJob"] * 5
    assert cloud.batch.jobs[JOB].retries == 1


def test_termination_outlasting_the_invocation_raises_and_the_redelivery_retries_without_new_budget(
    cloud, capsys
):
    # GIVEN a termination slower than the 10 s invocation (1 s margin, a tenth: 9 s for waits)
    cloud.batch.terminate_polls = 100
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    short = {**CONTEXT, "time_limit_in_ms": 10000}
    # WHEN the handler runs
    with pytest.raises(RetryableFailure, match="need a new delivery"):
        invoke(load_event(INTERRUPTED), short)
    # THEN it waited only within the time left, and the attempt stays pending in the ledger
    assert 6 < sum(cloud.sleeps) < 9
    assert cloud.batch.jobs[JOB].retries == 0
    [line] = decisions(capsys)
    assert (line["action"], line["error_code"]) == ("failed", "TerminateJobWaitTimedOut")
    # WHEN SCF delivers the event again after the termination completed
    cloud.batch.jobs[JOB].terminate_countdown = 0
    summary = invoke(load_event(INTERRUPTED))
    # THEN the job is retried as the same attempt 1, not a new one
    assert summary["retried"] == 1 and cloud.batch.jobs[JOB].retries == 1
    [line] = decisions(capsys)
    assert (line["attempt_of"], line["resumed"]) == ("1 of 3", True)


def test_running_job_is_skipped_without_a_retry(cloud, capsys):
    # GIVEN a job that is RUNNING again (retried or recovered since the event)
    cloud.batch.add_job(JOB, "RUNNING")
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN only DescribeJob is called
    assert cloud.batch.actions() == ["DescribeJob"]
    assert summary["skipped"] == 1
    [line] = decisions(capsys)
    assert (line["state"], line["action"]) == ("RUNNING", "skipped")


# -- duplicates -----------------------------------------------------------------------------


def test_duplicates_within_one_event_make_one_decision(cloud, capsys):
    # GIVEN three records (one delivered twice) about the same interrupted job
    cloud.batch.add_job("job-dup00001", "FAILED_INTERRUPTED")
    # WHEN the handler runs
    summary = invoke(load_event("cmq_topic_duplicate_delivery.json"))
    # THEN the job is decided once and retried once
    assert (summary["jobs"], summary["retried"]) == (1, 1)
    assert cloud.batch.jobs["job-dup00001"].retries == 1
    [line] = decisions(capsys)
    assert line["records"] == [0, 1, 2]


def test_duplicate_delivery_across_invocations_retries_once(cloud):
    # GIVEN an interrupted job
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the same event is delivered twice
    first = invoke(load_event(INTERRUPTED))
    second = invoke(load_event(INTERRUPTED))
    # THEN the second delivery finds the job running and does nothing
    assert (first["retried"], second["retried"], second["skipped"]) == (1, 0, 1)
    assert cloud.batch.jobs[JOB].retries == 1


def test_same_failure_seen_again_before_batch_shows_the_retry_is_not_retried_twice(
    cloud, monkeypatch, capsys
):
    # GIVEN a FAILED job retried once
    monkeypatch.setenv("RETRY_EVENTS", "JOB_FAILED")
    job = cloud.batch.add_job(JOB, "FAILED")
    end_time = job.end_time
    invoke(load_event("cmq_topic_job_failed.json"))
    capsys.readouterr()
    # WHEN a duplicate arrives while DescribeJob still shows that same failure (same end time)
    job.state, job.end_time = "FAILED", end_time
    summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN it is recognised as the failure already retried
    assert summary["skipped"] == 1 and job.retries == 1
    [line] = decisions(capsys)
    assert "already retried" in line["reason"]


# -- the budget -----------------------------------------------------------------------------


def test_budget_stops_a_job_that_keeps_failing(cloud, capsys):
    # GIVEN a job that fails again after every retry (each failure publishes a new event)
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    summaries = []
    # WHEN five interruptions arrive one after the other
    for _ in range(5):
        summaries.append(invoke(load_event(INTERRUPTED)))
        cloud.batch.fail_again(JOB)
    # THEN exactly RETRY_MAX_ATTEMPTS (3) retries happen, then the budget is reported exhausted
    assert cloud.batch.jobs[JOB].retries == 3
    assert [s["retried"] for s in summaries] == [1, 1, 1, 0, 0]
    assert [s["exhausted"] for s in summaries] == [0, 0, 0, 1, 1]
    lines = decisions(capsys)
    assert [line["attempt_of"] for line in lines] == ["1 of 3", "2 of 3", "3 of 3", "3 of 3", "3 of 3"]
    exhausted = lines[-1]
    assert exhausted["msg"] == "retry budget exhausted" and exhausted["level"] == "WARNING"
    assert "instances kept for inspection" in exhausted["reason"]
    # AND by default the spent job keeps its instances for inspection
    assert cloud.batch.jobs[JOB].keeps_instances


def test_spent_budget_with_terminate_setting_terminates_the_job(cloud, monkeypatch):
    # GIVEN no retries allowed and RETRY_ON_EXHAUSTED=terminate
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("RETRY_ON_EXHAUSTED", "terminate")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN no retry, and TerminateJob releases the kept instance
    assert cloud.batch.actions() == ["DescribeJob", "TerminateJob"]
    assert not cloud.batch.jobs[JOB].keeps_instances
    assert (summary["exhausted"], summary["terminated"], summary["retried"]) == (1, 1, 0)


def test_spent_budget_terminates_once_per_failure_while_the_termination_is_pending(
    cloud, monkeypatch, capsys
):
    # GIVEN no retries allowed, RETRY_ON_EXHAUSTED=terminate, and a termination that takes a while
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("RETRY_ON_EXHAUSTED", "terminate")
    cloud.batch.terminate_polls = 10
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the same failure is delivered three times while the job is still FAILED_INTERRUPTED
    summaries = [invoke(load_event(INTERRUPTED)) for _ in range(3)]
    # THEN TerminateJob was sent once; the later deliveries say it is under way
    assert cloud.batch.actions("TerminateJob") == ["TerminateJob"]
    assert cloud.batch.jobs[JOB].state == "FAILED_INTERRUPTED"
    assert [s["terminated"] for s in summaries] == [1, 0, 0]
    later = decisions(capsys)[1:]
    assert all("already sent" in line["reason"] for line in later)


def test_max_retries_event_var_overrides_the_budget_and_jobs_are_coalesced(cloud, capsys):
    # GIVEN two interrupted jobs (one with max_retries=1, already retried once) and a running job's event
    cloud.batch.add_job("job-two00001", "FAILED_INTERRUPTED", task_name="align", instances=2)
    cloud.batch.add_job("job-two00002", "FAILED_INTERRUPTED")
    retrying.MemoryLedger().write("ap-guangzhou", "job-two00002", retrying.Entry(1, "done", "20260101000000"))
    # WHEN the handler runs
    summary = invoke(load_event("cmq_topic_retry_two_jobs.json"))
    # THEN one decision per job: the first retried, the second out of its own budget of 1
    assert (summary["jobs"], summary["retried"], summary["exhausted"]) == (2, 1, 1)
    by_job = {line["job_id"]: line for line in decisions(capsys)}
    assert by_job["job-two00001"]["records"] == [0] and by_job["job-two00001"]["attempt_of"] == "1 of 3"
    assert by_job["job-two00002"]["attempt_of"] == "1 of 1"
    # AND the JOB_RUNNING event made no API call
    assert all(params.get("JobId") != "job-two00003" for _, params, _ in cloud.batch.calls)


def test_invalid_max_retries_var_falls_back_to_the_setting_with_a_warning(cloud, capsys):
    # GIVEN an event whose max_retries var is not a number
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    event = job_event(EventName.JOB_FAILED_INTERRUPTED, [JOB], event_vars={"max_retries": "lots"})
    # WHEN the handler runs
    invoke(event)
    # THEN RETRY_MAX_ATTEMPTS applies and the decision line says why
    [line] = decisions(capsys)
    assert line["attempt_of"] == "1 of 3" and "not a whole number" in line["warnings"][0]


# -- many jobs, errors and time ---------------------------------------------------------------


def test_150_jobs_in_one_event_are_retried_in_batches_of_100(cloud, monkeypatch):
    # GIVEN 150 FAILED jobs in one event
    monkeypatch.setenv("RETRY_EVENTS", "JOB_FAILED")
    ids = [f"job-{n:08d}" for n in range(150)]
    for job_id in ids:
        cloud.batch.add_job(job_id, "FAILED")
    # WHEN the handler runs
    summary = invoke(job_event(EventName.JOB_FAILED, ids))
    # THEN RetryJobs is called twice, with 100 then 50 job ids
    sizes = [len(params["JobIds"]) for action, params, _ in cloud.batch.calls if action == "RetryJobs"]
    assert sizes == [100, 50]
    assert summary["retried"] == 150 and all(cloud.batch.jobs[j].retries == 1 for j in ids)


def test_a_refused_job_does_not_hold_back_the_rest_of_its_batch(cloud, monkeypatch, capsys):
    # GIVEN three FAILED jobs, one of which another invocation retries between our DescribeJob and RetryJobs
    monkeypatch.setenv("RETRY_EVENTS", "JOB_FAILED")
    ids = ["job-a0000001", "job-b0000002", "job-c0000003"]
    for job_id in ids:
        cloud.batch.add_job(job_id, "FAILED")
    original = cloud.batch.retry_jobs

    def racing_retry(job_ids, region):
        cloud.batch.jobs["job-b0000002"].state = "RUNNING"
        return original(job_ids, region)

    monkeypatch.setattr(cloud.batch, "retry_jobs", racing_retry)
    # WHEN the handler runs
    summary = invoke(job_event(EventName.JOB_FAILED, ids))
    # THEN the refused batch is split: the other two are retried, the raced one is a skip
    assert (summary["retried"], summary["skipped"], summary["failed"]) == (2, 1, 0)
    by_job = {line["job_id"]: line for line in decisions(capsys)}
    assert "retried elsewhere" in by_job["job-b0000002"]["reason"]


def test_throttling_is_retried_with_jittered_backoff_then_succeeds(cloud):
    # GIVEN RetryJobs throttled twice
    cloud.batch.accept_interrupted_retry = True
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    cloud.batch.script("RequestLimitExceeded", action="RetryJobs", times=2)
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN it backed off (half fixed, half jitter: 0.25 + 0.5 * 0.25, then 0.5 + 0.5 * 0.5) and succeeded
    assert cloud.sleeps == [0.375, 0.75]
    assert summary["retried"] == 1 and cloud.batch.actions("RetryJobs") == ["RetryJobs"] * 3


def test_internal_errors_until_the_handler_raises(cloud, capsys):
    # GIVEN DescribeJob failing with InternalError for good
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    cloud.batch.script("InternalError", action="DescribeJob", times=1000)
    # WHEN the handler runs
    with pytest.raises(RetryableFailure):
        invoke(load_event(INTERRUPTED))
    # THEN it tried a bounded number of times, retried nothing, and logged the code for the job
    assert cloud.batch.actions() == ["DescribeJob"] * 8
    lines = json_lines(capsys.readouterr().out)
    [line] = [x for x in lines if x["msg"] == "retry decision"]
    assert (line["action"], line["error_code"]) == ("failed", "InternalError")
    assert any(x["msg"].startswith("invocation failed") for x in lines)


def test_network_errors_and_unreadable_bodies_are_transient(cloud):
    # GIVEN a dropped connection, then a proxy's HTML error page, then normal answers
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    cloud.batch.script("", action="DescribeJob", times=1, kind="network")
    cloud.batch.script("", action="DescribeJob", times=1, kind="html")
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN both were retried after a backoff, and the job was retried
    assert len(cloud.sleeps) == 2 and summary["retried"] == 1


def test_permanent_error_is_logged_for_that_job_only(cloud, capsys):
    # GIVEN two interrupted jobs, one of which Batch does not know
    cloud.batch.add_job("job-known001", "FAILED_INTERRUPTED")
    # WHEN the handler runs
    summary = invoke(job_event(EventName.JOB_FAILED_INTERRUPTED, ["job-gone0001", "job-known001"]))
    # THEN the unknown job is a logged failure, the other is retried, and nothing raises
    assert (summary["failed"], summary["retried"]) == (1, 1)
    by_job = {line["job_id"]: line for line in decisions(capsys)}
    assert by_job["job-gone0001"]["error_code"] == "ResourceNotFound.Job"
    assert "permanent" in by_job["job-gone0001"]["reason"]


# -- credentials, region, endpoint, dry run ---------------------------------------------------


def test_scf_role_credentials_reach_the_request(cloud):
    # GIVEN the variables an SCF execution role injects
    cloud.batch.add_job(JOB, "RUNNING")
    # WHEN the handler calls the API
    invoke(load_event(INTERRUPTED))
    # THEN the session token travels as X-TC-Token and the key id signs the request
    _, _, headers = cloud.batch.calls[0]
    assert headers["X-TC-Token"] == SCF_ROLE_ENV["TENCENTCLOUD_SESSIONTOKEN"]
    assert f"Credential={SCF_ROLE_ENV['TENCENTCLOUD_SECRETID']}/" in headers["Authorization"]
    assert headers["X-TC-Action"] == "DescribeJob" and headers["X-TC-Version"] == "2017-03-12"


def test_secrets_never_reach_the_logs(cloud, capsys):
    # GIVEN an invocation that calls the API
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    invoke(load_event(INTERRUPTED))
    # THEN neither the secret key nor the session token is printed
    out = capsys.readouterr().out
    assert SCF_ROLE_ENV["TENCENTCLOUD_SECRETKEY"] not in out
    assert SCF_ROLE_ENV["TENCENTCLOUD_SESSIONTOKEN"] not in out


def test_missing_credentials_are_a_clear_error(cloud, monkeypatch):
    # GIVEN no credentials anywhere
    for key in SCF_ROLE_ENV:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", "/nonexistent")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler needs the API
    # THEN it stops with an error naming what SCF injects, before any call
    with pytest.raises(ConfigError, match="TENCENTCLOUD_SECRETID"):
        invoke(load_event(INTERRUPTED))
    assert cloud.batch.calls == []


def test_events_outside_retry_events_make_no_api_call(cloud, monkeypatch):
    # GIVEN a JOB_FAILED event (not among the default triggering events) and no credentials at all
    for key in SCF_ROLE_ENV:
        monkeypatch.delenv(key)
    # WHEN the handler runs
    summary = invoke(load_event("cmq_topic_job_failed.json"))
    # THEN it is ignored without a call
    assert summary["jobs"] == 0 and cloud.batch.calls == []


def test_region_is_taken_from_the_event(cloud):
    # GIVEN a job that exists only in ap-shanghai, named by an ap-shanghai event (base64 body)
    cloud.batch.add_job("job-7bq2x0ac", "FAILED_INTERRUPTED", region="ap-shanghai")
    # WHEN the handler runs in an ap-guangzhou function
    summary = invoke(load_event("cmq_topic_base64_job_failed_interrupted.json"))
    # THEN every call went to ap-shanghai
    assert summary["retried"] == 1
    assert {headers["X-TC-Region"] for _, _, headers in cloud.batch.calls} == {"ap-shanghai"}


def test_batch_endpoint_setting_points_the_sdk_at_a_local_url(cloud, monkeypatch):
    # GIVEN BATCH_ENDPOINT set to a local fake's http URL
    local = BatchBackend()
    local.add_job(JOB, "RUNNING")
    monkeypatch.setenv("BATCH_ENDPOINT", "http://127.0.0.1:8999")
    # WHEN the handler runs
    with fake_batch_api(local, endpoint="http://127.0.0.1:8999"):
        invoke(load_event(INTERRUPTED))
    # THEN the call went there over http, not to the public endpoint
    assert local.actions() == ["DescribeJob"] and cloud.batch.calls == []


def test_dry_run_decides_and_logs_but_changes_nothing(cloud, monkeypatch, capsys):
    # GIVEN RETRY_DRY_RUN=1, one job to retry and one out of budget with RETRY_ON_EXHAUSTED=terminate
    monkeypatch.setenv("RETRY_DRY_RUN", "1")
    monkeypatch.setenv("RETRY_ON_EXHAUSTED", "terminate")
    cloud.batch.add_job("job-fresh001", "FAILED_INTERRUPTED")
    cloud.batch.add_job("job-spent001", "FAILED_INTERRUPTED")
    retrying.MemoryLedger().write("ap-guangzhou", "job-spent001", retrying.Entry(3, "done", "1"))
    # WHEN the handler runs
    summary = invoke(job_event(EventName.JOB_FAILED_INTERRUPTED, ["job-fresh001", "job-spent001"]))
    # THEN only DescribeJob was called, the ledger is untouched, and the log says what would happen
    assert set(cloud.batch.actions()) == {"DescribeJob"}
    assert retrying.MemoryLedger().read("ap-guangzhou", "job-fresh001") is None
    assert (summary["would_retry"], summary["exhausted"], summary["dry_run"]) == (1, 1, True)
    by_job = {line["job_id"]: line for line in decisions(capsys)}
    assert by_job["job-fresh001"]["action"] == "would_retry"
    assert "would terminate" in by_job["job-spent001"]["reason"]


def test_unusable_event_without_job_id_is_logged_and_ignored(cloud, capsys):
    # GIVEN an interrupted-job event whose JobId was lost
    event = load_event(INTERRUPTED)
    body = json.loads(event["Records"][0]["CMQ"]["msgBody"])
    del body["Events"][0]["Batch"]["JobId"]
    event["Records"][0]["CMQ"]["msgBody"] = json.dumps(body)
    # WHEN the handler runs
    summary = invoke(event)
    # THEN nothing is called and the event is counted as unusable
    assert (summary["unusable"], summary["jobs"]) == (1, 0) and cloud.batch.calls == []
    assert any(
        x["msg"].startswith("event names no usable job id") for x in json_lines(capsys.readouterr().out)
    )


# -- rules ----------------------------------------------------------------------------------


def test_rules_retry_infrastructure_failures_but_not_code_bugs(cloud, monkeypatch, capsys):
    # GIVEN rules that retry kills (137) and lost instances, and nothing else
    monkeypatch.setenv("RETRY_RULES", "exit:137=retry; exit:none=retry; *=exit")
    cloud.batch.add_job("job-killed01", "FAILED_INTERRUPTED", exit_code=137)
    cloud.batch.add_job("job-bug00001", "FAILED_INTERRUPTED", exit_code=1, reason="Traceback ... KeyError")
    # WHEN the handler runs
    summary = invoke(job_event(EventName.JOB_FAILED_INTERRUPTED, ["job-killed01", "job-bug00001"]))
    # THEN DescribeTask gave the exit codes: the killed job is retried, the bug declined and kept
    assert (summary["retried"], summary["declined"]) == (1, 1)
    assert cloud.batch.jobs["job-bug00001"].retries == 0 and cloud.batch.jobs["job-bug00001"].keeps_instances
    by_job = {line["job_id"]: line for line in decisions(capsys)}
    assert (
        "says exit" in by_job["job-bug00001"]["reason"] and "exit code 1" in by_job["job-bug00001"]["reason"]
    )
    assert "DescribeTask" in cloud.batch.actions()


# -- the durable ledger (tags on the job) -------------------------------------------------------


def test_tag_ledger_records_attempts_on_the_job_resource(cloud, monkeypatch):
    # GIVEN the default durable ledger
    monkeypatch.delenv("RETRY_LEDGER")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the job is interrupted twice
    invoke(load_event(INTERRUPTED))
    cloud.batch.fail_again(JOB)
    invoke(load_event(INTERRUPTED))
    # THEN the tag on the job's six-segment resource says attempt 2, done
    resource = f"qcs::batch:ap-guangzhou:uin/{UIN}:job/{JOB}"
    value = cloud.tags.resources[resource]["batch-events-retry"]
    assert value.startswith("2/done/") and cloud.batch.jobs[JOB].retries == 2
    # AND each attempt was marked pending before acting, terminating once TerminateJob was taken, then done
    assert cloud.tags.actions("ModifyResourceTags") == ["ModifyResourceTags"] * 6


def test_tag_ledger_is_read_back_by_a_fresh_instance(cloud, monkeypatch, capsys):
    # GIVEN a job whose tag already records 3 retries (written by another SCF instance)
    monkeypatch.delenv("RETRY_LEDGER")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    cloud.tags.resources[f"qcs::batch:ap-guangzhou:uin/{UIN}:job/{JOB}"] = {"batch-events-retry": "3/done/1"}
    # WHEN the handler runs with an empty in-process memory
    summary = invoke(load_event(INTERRUPTED))
    # THEN the budget is spent: no retry
    assert summary["exhausted"] == 1 and cloud.batch.jobs[JOB].retries == 0


def test_tag_ledger_needs_the_account_uin(cloud, monkeypatch):
    # GIVEN the durable ledger, and a context without tencentcloud_uin
    monkeypatch.delenv("RETRY_LEDGER")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    # THEN a clear error says how to give it
    with pytest.raises(ConfigError, match="RETRY_ACCOUNT_UIN"):
        invoke(load_event(INTERRUPTED), {"request_id": "r"})
    # AND with the setting, it works
    monkeypatch.setenv("RETRY_ACCOUNT_UIN", "200000000002")
    assert invoke(load_event(INTERRUPTED), {"request_id": "r", "time_limit_in_ms": 30000})["retried"] == 1
    assert f"qcs::batch:ap-guangzhou:uin/200000000002:job/{JOB}" in cloud.tags.resources


def test_no_retry_when_the_ledger_cannot_record_the_attempt(cloud, monkeypatch):
    # GIVEN the Tag API failing on writes
    monkeypatch.delenv("RETRY_LEDGER")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    cloud.tags.script("InternalError", action="ModifyResourceTags", times=1000)
    # WHEN the handler runs
    # THEN it does not retry an attempt it could not count, and asks for a new delivery
    with pytest.raises(RetryableFailure):
        invoke(load_event(INTERRUPTED))
    assert cloud.batch.actions("RetryJobs") == [] and cloud.batch.jobs[JOB].retries == 0


def test_refused_retry_of_a_job_already_running_again_never_terminates_it(cloud, monkeypatch, capsys):
    # GIVEN a job another invocation retried between our DescribeJob and our RetryJobs
    cloud.batch.add_job(JOB, "FAILED")
    real_retry = cloud.batch.retry_jobs

    def retried_elsewhere_first(job_ids, region):
        cloud.batch.jobs[JOB].state = "RUNNING"
        raise BatchError("UnsupportedOperation", "job is RUNNING")

    monkeypatch.setattr(cloud.batch, "retry_jobs", retried_elsewhere_first)
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN the running job is left alone: no TerminateJob, no second RetryJobs
    monkeypatch.setattr(cloud.batch, "retry_jobs", real_retry)
    assert "TerminateJob" not in cloud.batch.actions()
    assert cloud.batch.jobs[JOB].terminations == 0
    assert summary["skipped"] == 1
    [line] = decisions(capsys)
    assert "retried elsewhere" in line["reason"]


def test_lost_answer_to_retry_jobs_is_not_sent_again(cloud):
    # GIVEN a FAILED job whose RetryJobs answer is lost on the network
    cloud.batch.add_job(JOB, "FAILED")
    cloud.batch.script("ClientNetworkError", action="RetryJobs", times=1, kind="network")
    # WHEN the handler runs
    with pytest.raises(RetryableFailure):
        invoke(load_event(INTERRUPTED))
    # THEN RetryJobs was sent once (it may have taken effect); the redelivery's DescribeJob decides
    assert cloud.batch.actions("RetryJobs") == ["RetryJobs"]


def test_slow_batch_answers_near_the_time_limit_redeliver_without_a_second_action(cloud, monkeypatch):
    # GIVEN an interrupted job and a Batch API whose DescribeJob answers take 14 s each
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    real_describe = cloud.batch.describe_job

    def slow_describe(job_id, region):
        cloud.clock.advance(14)
        return real_describe(job_id, region)

    monkeypatch.setattr(cloud.batch, "describe_job", slow_describe)
    # WHEN the handler runs with 30 s: the terminate-and-wait cannot finish
    with pytest.raises(RetryableFailure):
        invoke(load_event(INTERRUPTED))
    # THEN it asked for a new delivery having terminated once and retried nothing
    assert cloud.batch.actions("TerminateJob") == ["TerminateJob"]
    assert cloud.batch.jobs[JOB].retries == 0
    # AND the redelivery, with normal answers, retries the job exactly once without terminating again
    monkeypatch.setattr(cloud.batch, "describe_job", real_describe)
    cloud.batch.jobs[JOB].state = "FAILED"
    summary = invoke(load_event(INTERRUPTED))
    assert cloud.batch.jobs[JOB].retries == 1
    assert cloud.batch.actions("TerminateJob") == ["TerminateJob"]
    assert summary["retried"] == 1


def test_released_stops_only_that_failure_a_new_interruption_is_terminated_again(cloud, monkeypatch):
    # GIVEN no retries and RETRY_ON_EXHAUSTED=terminate: the first interruption was terminated
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("RETRY_ON_EXHAUSTED", "terminate")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    invoke(load_event(INTERRUPTED))
    assert cloud.batch.jobs[JOB].terminations == 1
    # WHEN someone retries it by hand and it is interrupted again (a new end time)
    cloud.batch.fail_again(JOB)
    summary = invoke(load_event(INTERRUPTED))
    # THEN that new interruption is terminated too: nothing is left billing
    assert cloud.batch.jobs[JOB].terminations == 2 and summary["terminated"] == 1


def test_a_lost_retry_answer_never_grants_a_retry_past_the_budget(cloud, monkeypatch):
    # GIVEN a budget of one retry, and a RetryJobs that takes effect but whose answer is lost
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "1")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    real_retry = cloud.batch.retry_jobs

    def applied_then_lost(job_ids, region):
        real_retry(job_ids, region)  # the job runs again...
        raise BatchError("ClientNetworkError", "...but the answer never arrives")

    monkeypatch.setattr(cloud.batch, "retry_jobs", applied_then_lost)
    with pytest.raises(RetryableFailure):
        invoke(load_event(INTERRUPTED))
    monkeypatch.setattr(cloud.batch, "retry_jobs", real_retry)
    assert cloud.batch.jobs[JOB].retries == 1
    # WHEN the retried job is interrupted again
    cloud.batch.fail_again(JOB)
    summary = invoke(load_event(INTERRUPTED))
    # THEN the earlier attempt counts: the budget is spent, no second retry
    assert cloud.batch.jobs[JOB].retries == 1 and summary["exhausted"] == 1


def test_a_resume_keeps_terminating_and_never_terminates_twice(cloud):
    # GIVEN a termination slower than two deliveries
    cloud.batch.terminate_polls = 100
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    short = {**CONTEXT, "time_limit_in_ms": 6000}
    for _ in range(3):
        with pytest.raises(RetryableFailure):
            invoke(load_event(INTERRUPTED), short)
    # THEN TerminateJob was sent once and the ledger still says so
    assert cloud.batch.actions("TerminateJob") == ["TerminateJob"]
    entry = retrying.MemoryLedger().read("ap-guangzhou", JOB)
    assert entry is not None and entry.status == "terminating"


def test_a_job_retried_elsewhere_while_we_waited_closes_our_attempt(cloud, monkeypatch):
    # GIVEN a termination during which someone else retries the job
    cloud.batch.terminate_polls = 1
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    real_describe = cloud.batch.describe_job
    seen = []

    def retried_by_someone(job_id, region):
        seen.append(1)
        if len(seen) == 2:
            cloud.batch.jobs[JOB].state, cloud.batch.jobs[JOB].terminate_countdown = "RUNNING", None
        return real_describe(job_id, region)

    monkeypatch.setattr(cloud.batch, "describe_job", retried_by_someone)
    summary = invoke(load_event(INTERRUPTED))
    # THEN we skip it, and the ledger's attempt is closed: its next failure is a new attempt
    assert summary["skipped"] == 1
    entry = retrying.MemoryLedger().read("ap-guangzhou", JOB)
    assert entry is not None and entry.status == "done"


def test_a_job_retried_by_someone_between_our_describe_and_terminate_is_not_terminated(cloud, monkeypatch):
    # GIVEN two interrupted jobs, a slow Batch API (3 s per DescribeJob), and someone who retries the
    # first job by hand right after we described it
    cloud.batch.add_job("job-two00001", "FAILED_INTERRUPTED")
    cloud.batch.add_job("job-two00002", "FAILED_INTERRUPTED")
    real_describe = cloud.batch.describe_job
    described: list[str] = []

    def slow(job_id, region):
        cloud.clock.advance(3)
        answer = real_describe(job_id, region)
        described.append(job_id)
        if described == ["job-two00001"]:
            cloud.batch.jobs["job-two00001"].state = "RUNNING"  # retried by hand meanwhile
        return answer

    monkeypatch.setattr(cloud.batch, "describe_job", slow)
    event = job_event(EventName.JOB_FAILED_INTERRUPTED, ["job-two00001", "job-two00002"])
    # WHEN the handler runs
    summary = invoke(event)
    # THEN the first job, RUNNING again when asked anew before TerminateJob, is left alone
    assert cloud.batch.jobs["job-two00001"].terminations == 0
    assert cloud.batch.jobs["job-two00001"].state == "RUNNING"
    assert cloud.batch.jobs["job-two00002"].terminations == 1
    assert summary["skipped"] == 1 and summary["retried"] == 1


def test_the_fake_refuses_a_request_signed_with_another_key(cloud, monkeypatch, capsys):
    # GIVEN role credentials whose key is not the one the fake Batch API knows for their id
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "someoneElsesKey")
    cloud.batch.add_job(JOB, "FAILED_INTERRUPTED")
    # WHEN the handler runs
    summary = invoke(load_event(INTERRUPTED))
    # THEN the API refused the signature and nothing was changed
    assert summary["retried"] == 0 and cloud.batch.actions() == ["DescribeJob"]
    assert "AuthFailure.SignatureFailure" in capsys.readouterr().out
