"""Issue 17: recovery notices after an automatic retry, and Alertmanager's identities on the webhook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from typing import Any, Optional

import pytest
from alerting import make_concern
from alerting.identity import fingerprint, go_quote, group_key, signature

import shared.cloud
from shared.errors import RetryableFailure
from shared.runtime import run
from tests.fakes.batch.scenario import sample_cloud
from tests.fakes.chat import ChatBackend, switch_on
from tests.helpers import ROOT, json_lines, load_event

JOB = "job-5ik2gmv8"  # the job of the samples
TAG = "batch-events-retry"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc).timestamp()
CHATS = ("wecom", "dingtalk", "feishu", "slack")


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected sleep({seconds})")


def invoke(event: Any, robots: Optional[ChatBackend] = None, time_limit_ms: int = 30000) -> dict[str, Any]:
    """The handler's path at a fixed wall-clock time (the robots check signatures against it too)."""
    if robots is not None:
        robots.clock = lambda: NOW
    context = {
        "request_id": "req-alert",
        "time_limit_in_ms": time_limit_ms,
        "tencentcloud_region": "ap-guangzhou",
    }
    concern = make_concern(sleep=_no_sleep, wall_clock=lambda: NOW)
    return run(event, context, function="alert_failures", concern=concern)


@pytest.fixture
def cloud(monkeypatch):
    """The fake Batch API with the sample job SUCCEED and tagged by the retry ledger: 2 retries."""
    with sample_cloud(monkeypatch) as backend:
        backend.add_job(JOB, "SUCCEED", tags={TAG: "2/done/20261120083500"})
        yield backend


def chat_text(robots: Any, channel: str) -> str:
    """The title and text one chat channel accepted."""
    body = robots.accepted(channel)[0].body
    if channel in ("wecom", "dingtalk"):
        return str(body["markdown"].get("content") or body["markdown"]["text"])
    if channel == "feishu":
        card = body["card"]
        return str(card["header"]["title"]["content"] + card["elements"][0]["text"]["content"])
    return str(body["blocks"][0]["text"]["text"] + body["blocks"][1]["text"]["text"])


# --- recovery notices -----------------------------------------------------------------------------


def test_an_automatic_retry_that_worked_gets_a_short_notice_in_every_chat_channel(cloud, robots, monkeypatch):
    # GIVEN recovery notices on, every channel, mentions configured
    switch_on(monkeypatch, ALERT_RECOVERY="1", WECOM_MENTIONS="zhangsan", SLACK_MENTIONS="all")
    # WHEN the retried job's JOB_SUCCEED arrives
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    # THEN DescribeJob was asked, and each chat got one short notice that pings nobody
    assert cloud.actions() == ["DescribeJob"]
    assert summary["recovered"] == 1 and summary["failed"] == 0
    for channel in CHATS:
        text = chat_text(robots, channel)
        assert "[RECOVERED] Batch job render-frames (job-5ik2gmv8) recovered" in text, channel
        assert "ecovered after 2 automatic retries" in text and "2026-11-20 08:35:00 UTC" in text, channel
        assert "<@zhangsan>" not in text and "<!channel>" not in text
    assert robots.accepted("feishu")[0].body["card"]["header"]["template"] == "green"


def test_the_webhook_gets_the_failures_alert_resolved_under_the_same_group_key(cloud, robots, monkeypatch):
    # GIVEN the webhook, and the job's interrupted failure alerted earlier
    switch_on(monkeypatch, "webhook", ALERT_RECOVERY="1")
    invoke(load_event("cmq_topic_job_failed_interrupted.json"), robots)
    # WHEN its JOB_SUCCEED arrives after the retry
    invoke(load_event("cmq_topic_job_succeed.json"), robots)
    firing, resolved = (m.body for m in robots.accepted("webhook"))
    # THEN the resolution is the same group, resolved, with endsAt set
    assert resolved["status"] == "resolved" and firing["status"] == "firing"
    assert resolved["groupKey"] == firing["groupKey"] == '{}:{job_id="job-5ik2gmv8", region="ap-guangzhou"}'
    assert resolved["groupLabels"] == firing["groupLabels"]
    [fired] = firing["alerts"]
    [same] = [a for a in resolved["alerts"] if a["fingerprint"] == fired["fingerprint"]]
    assert same["labels"] == fired["labels"] and same["status"] == "resolved"
    assert same["endsAt"] == "2026-11-20T08:35:00Z"  # the JOB_SUCCEED's time
    assert same["startsAt"] == "2026-11-20T08:35:00Z"  # the retried failure's, from the ledger's marker
    assert same["annotations"]["summary"] == "recovered after 2 automatic retries"
    # both job-level alerts are resolved: which of them fired is not known to a stateless function
    assert sorted(a["labels"]["alertname"] for a in resolved["alerts"]) == [
        "JOB_FAILED",
        "JOB_FAILED_INTERRUPTED",
    ]


def test_a_job_that_succeeds_without_the_ledgers_tag_sends_nothing(cloud, robots, monkeypatch):
    cloud.add_job(JOB, "SUCCEED", tags={"owner": "render-team"})
    switch_on(monkeypatch, ALERT_RECOVERY="1")
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert summary["recovered"] == 0 and robots.received == [] and cloud.actions() == ["DescribeJob"]


def test_retry_tag_key_names_the_ledgers_tag(cloud, robots, monkeypatch):
    cloud.add_job(JOB, "SUCCEED", tags={"team:retries": "1/done/20261120083500"})
    switch_on(monkeypatch, "wecom", ALERT_RECOVERY="1", RETRY_TAG_KEY="team:retries")
    invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert "Recovered after 1 automatic retry" in chat_text(robots, "wecom")


def test_without_alert_recovery_a_job_succeed_is_not_read(cloud, robots, monkeypatch):
    switch_on(monkeypatch)
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert summary["recovered"] == 0 and summary["groups"] == 0
    assert cloud.actions() == [] and robots.received == []


def test_describe_job_goes_through_the_instances_client_with_its_timeout_cut_to_the_time_left(
    cloud, robots, monkeypatch
):
    # GIVEN a function with 4.5 s (2 s of margin: the checks may use half of the 2.5 s left)
    switch_on(monkeypatch, "wecom", ALERT_RECOVERY="1")
    cuts: list[tuple[Any, float]] = []
    real = shared.cloud.set_request_timeout

    def recording(client: Any, seconds: float) -> None:
        cuts.append((client, seconds))
        real(client, seconds)

    monkeypatch.setattr(shared.cloud, "set_request_timeout", recording)
    # WHEN the JOB_SUCCEED is handled
    invoke(load_event("cmq_topic_job_succeed.json"), robots, time_limit_ms=4500)
    # THEN the call went through the instance's cached client, its timeout cut below 2 s to the time left
    [(client, seconds)] = cuts
    assert client is shared.cloud.cached_client("batch", "ap-guangzhou")
    assert 0.5 <= seconds <= 1.25
    assert len(robots.accepted("wecom")) == 1


def test_a_describe_job_that_fails_for_now_brings_the_record_back(cloud, robots, monkeypatch, capsys):
    cloud.script("InternalError", action="DescribeJob")
    switch_on(monkeypatch, "wecom", ALERT_RECOVERY="1")
    with pytest.raises(RetryableFailure, match="recovery checks could not finish"):
        invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert robots.received == []


def test_a_role_without_describe_job_logs_an_error_and_asks_for_no_redelivery(
    cloud, robots, monkeypatch, capsys
):
    cloud.script("AuthFailure.UnauthorizedOperation", action="DescribeJob")
    switch_on(monkeypatch, "wecom", ALERT_RECOVERY="1")
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert summary["recovered"] == 0
    [line] = [
        x for x in json_lines(capsys.readouterr().out) if x["msg"].startswith("recovery checks stopped")
    ]
    assert line["level"] == "ERROR" and line["code"] == "AuthFailure.UnauthorizedOperation"


def test_failures_and_recoveries_of_one_run_are_sent_failures_first(cloud, robots, monkeypatch):
    switch_on(monkeypatch, "slack", ALERT_RECOVERY="1")
    event = load_event("cmq_topic_task_failed.json")
    event["Records"] += load_event("cmq_topic_job_succeed.json")["Records"]
    invoke(event, robots)
    headers = [m.body["blocks"][0]["text"]["text"] for m in robots.accepted("slack")]
    assert headers == [
        "[FAILED] Batch job render-frames (job-5ik2gmv8)",
        "[RECOVERED] Batch job render-frames (job-5ik2gmv8) recovered",
    ]


def test_a_run_without_recovery_or_enrichment_imports_no_tencent_sdk():
    # GIVEN the new settings on (silences, an always-on digest) but neither ALERT_RECOVERY nor ALERT_ENRICH
    code = (
        "import sys, json; sys.path[:0] = [{root!r}, {folder!r}]\n"
        "from tools.invoke import load_handler\n"
        "handler = load_handler('alert_failures').main_handler\n"
        "for name in ('cmq_topic_job_failed.json', 'cmq_topic_job_succeed.json'):\n"
        "    handler(json.load(open({events!r} + '/' + name)), None)\n"
        "print('SDK', sorted({{m.split('.')[0] for m in sys.modules}} & {{'tencentcloud'}}))"
    ).format(root=str(ROOT), folder=str(ROOT / "functions" / "alert_failures"), events=str(ROOT / "events"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ALERT_SILENCES": "job:nothing-*; env:env-test*&event:nodes",
        "ALERT_DIGEST_AFTER": "0",
        "ALERT_EVENTS": "failures,JOB_SUCCEED",
    }
    # WHEN a failure and a JOB_SUCCEED are handled in a fresh interpreter THEN the SDK was never loaded
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert "SDK []" in out


# --- Alertmanager identity ------------------------------------------------------------------------


def test_the_fingerprint_is_alertmanagers_fnv1a_over_the_sorted_labels():
    # prometheus/common model/signature_test.go: TestLabelsToSignature / TestMetricToFingerprint
    assert signature({}) == 14695981039346656037
    assert signature({"name": "garland, briggs", "fear": "love is not enough"}) == 5799056148416392346
    # BenchmarkLabelToSignatureSingle
    assert signature({"first-label": "first-label-value"}) == 5146282821936882169
    # Fingerprint.String(): %016x
    assert (
        fingerprint({"name": "garland, briggs", "fear": "love is not enough"})
        == f"{5799056148416392346:016x}"
    )
    assert fingerprint({}) == "cbf29ce484222325"


def test_the_group_key_is_formatted_as_alertmanagers_dispatcher_formats_it():
    # prometheus/common labelset_test.go: `{foo="bar", foo2="bar", monitor="codelab"}`; `{}` is the root route
    assert (
        group_key({"monitor": "codelab", "foo": "bar", "foo2": "bar"})
        == '{}:{foo="bar", foo2="bar", monitor="codelab"}'
    )
    # values quoted as Go's %q: quotes, backslashes, controls escaped; printable Unicode kept
    assert go_quote('a"b\\c\nd\x00e作业\u200b') == '"a\\"b\\\\c\\nd\\x00e作业\\u200b"'


def test_every_webhook_alert_carries_the_fingerprint_of_its_labels(robots, monkeypatch):
    switch_on(monkeypatch, "webhook")
    invoke(load_event("cmq_topic_alert_groups.json"), robots)
    alerts = [a for m in robots.accepted("webhook") for a in m.body["alerts"]]
    assert alerts and all(a["fingerprint"] == fingerprint(a["labels"]) for a in alerts)
    assert all(len(a["fingerprint"]) == 16 and int(a["fingerprint"], 16) >= 0 for a in alerts)


def test_the_recovery_of_a_silenced_job_is_silenced_too(cloud, robots, monkeypatch):
    switch_on(monkeypatch, ALERT_RECOVERY="1", ALERT_SILENCES="job:render-*")
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert summary["silenced"] == 1 and cloud.actions() == [] and robots.received == []


def test_a_storm_digest_lists_recoveries_after_the_failures(cloud, robots, monkeypatch):
    switch_on(monkeypatch, "wecom", "webhook", ALERT_RECOVERY="1", ALERT_DIGEST_AFTER="1")
    event = load_event("cmq_topic_alert_groups.json")
    event["Records"] += load_event("cmq_topic_job_succeed.json")["Records"]
    summary = invoke(event, robots)
    assert summary["digest"] is True and summary["recovered"] == 1
    [digest] = robots.accepted("wecom")
    content = digest.body["markdown"]["content"]
    lines = [line for line in content.split("\n") if line.startswith("- **[")]
    assert lines[-1].startswith(
        "- **[RECOVERED]** job render-frames (job-5ik2gmv8) recovered · recovered after 2"
    )
    statuses = [m.body["status"] for m in robots.accepted("webhook")]
    assert statuses[-1] == "resolved" and statuses.count("firing") == summary["groups"]
    assert json.dumps(digest.body, ensure_ascii=False).count("RECOVERED") == 1


def test_a_digest_of_recoveries_only_pings_nobody(cloud, robots, monkeypatch):
    switch_on(monkeypatch, "slack", ALERT_RECOVERY="1", ALERT_DIGEST_AFTER="0", SLACK_MENTIONS="all")
    summary = invoke(load_event("cmq_topic_job_succeed.json"), robots)
    assert summary["digest"] is True
    text = chat_text(robots, "slack")
    assert text.startswith("[RECOVERED] Batch: 1 alert in one run") and "<!channel>" not in text
