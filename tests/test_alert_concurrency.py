"""Channels at once: a hanging robot cannot starve the others, and nothing outlives the invocation."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

from alerting import AlertConfig, alert_failures, load_config
from alerting.delivery import CHANNEL_DOWN, MIN_SEND_S, Deadline
from alerting.dispatch import WORKER_NAME
from alerting.enrich import enrich
from alerting.grouping import group_events

from shared.concern import Outcome
from shared.envelope import parse_trigger_event
from shared.http import HttpError, HttpResponse
from shared.invocation import Invocation
from shared.log import JsonLogger
from tests.fakes.chat import CHANNELS, FakeTime, channel_env, channel_of
from tests.helpers import load_event

EVENT = "cmq_topic_alert_groups.json"  # three groups, from records 0, 1 and 2
GROUPS = 3
ALL_RECORDS = frozenset({0, 1, 2})
# Between the Sender reading the time left and the fake POST reading it again: microseconds, in practice.
EPS = 0.02
OK = {
    "webhook": HttpResponse(200, ""),
    "wecom": HttpResponse(200, '{"errcode": 0, "errmsg": "ok"}'),
    "dingtalk": HttpResponse(200, '{"errcode": 0, "errmsg": "ok"}'),
    "feishu": HttpResponse(200, '{"code": 0, "msg": "success"}'),
    "slack": HttpResponse(200, "ok"),
}


@dataclass(frozen=True)
class Call:
    """One POST the fake received: the timeout it was given and the time the run had left then."""

    channel: str
    timeout_s: float
    remaining_s: float
    ended_at: float


class Robots:
    """An injected POST for every channel: answers at once, hangs until its timeout, times out, or 429s."""

    def __init__(
        self,
        invocation: Invocation,
        margin_s: float,
        *,
        hang: tuple[str, ...] = (),
        time_out: tuple[str, ...] = (),
        rate_limited: Optional[dict[str, int]] = None,
        retry_after: str = "0.1",
    ) -> None:
        self.invocation = invocation
        self.margin_s = margin_s
        self.hang = hang
        self.time_out = time_out
        self.rate_limited = dict(rate_limited or {})
        self.retry_after = retry_after
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def post(self, url: str, *, json_body: Any, params: Any, timeout_s: float) -> HttpResponse:
        """What shared.http.post would answer, after as long as the scripted robot takes."""
        channel = channel_of(url)
        remaining = self.invocation.remaining_s(self.margin_s)
        try:
            if channel in self.hang:
                # A robot that never answers: the request ends when its timeout does, as requests' would.
                time.sleep(timeout_s)
                raise HttpError(f"timeout after {timeout_s:.1f}s: POST {url}", timeout=True)
            if channel in self.time_out:
                raise HttpError(f"timeout after {timeout_s:.1f}s: POST {url}", timeout=True)
            with self._lock:
                limited = self.rate_limited.get(channel, 0)
                self.rate_limited[channel] = limited - 1
            if limited > 0:
                return HttpResponse(429, "rate_limited", {"Retry-After": self.retry_after})
            return OK[channel]
        finally:
            with self._lock:
                self.calls.append(Call(channel, timeout_s, remaining, time.monotonic()))

    def of(self, channel: str) -> list[Call]:
        """The calls one channel received, in order."""
        return [c for c in self.calls if c.channel == channel]


class ChunkedStream(io.StringIO):
    """stdout under load: a line goes out in small pieces, and other threads run in between."""

    def write(self, text: str) -> int:
        for start in range(0, len(text), 16):
            super().write(text[start : start + 16])
            time.sleep(0)  # releases the GIL: an unguarded writer in another thread cuts in here
        return len(text)


def settings(**changes: Any) -> AlertConfig:
    """Every channel switched on (pointing at fake URLs), with the timing a test needs."""
    return load_config(channel_env())._replace(**changes)


def run(
    robots: Robots, cfg: AlertConfig, invocation: Invocation, stream: Optional[io.StringIO] = None
) -> tuple[Outcome, float, str]:
    """The concern on the three-group sample; the outcome, how long it took, and its log."""
    out = stream if stream is not None else io.StringIO()
    parsed = parse_trigger_event(load_event(EVENT))
    started = time.monotonic()
    outcome = alert_failures(
        parsed,
        invocation,
        JsonLogger("alert_failures", stream=out),
        config=cfg,
        sleep=time.sleep,
        post=robots.post,
    )
    return outcome, time.monotonic() - started, out.getvalue()


def test_a_hanging_channel_does_not_keep_the_others_from_getting_every_group():
    # GIVEN five channels, WeCom hanging on every request, and 1 s for the invocation (0.2 s margin)
    cfg = settings(timeout_s=30.0, margin_s=0.2)
    invocation = Invocation(time_limit_ms=1000)
    robots = Robots(invocation, cfg.margin_s, hang=("wecom",))
    # WHEN three groups are alerted
    outcome, elapsed, _ = run(robots, cfg, invocation)
    # THEN every other channel got every group, within the time limit
    for name in CHANNELS:
        if name != "wecom":
            assert outcome.summary["channels"][name] == {"delivered": GROUPS, "failed": 0}, name
            assert len(robots.of(name)) == GROUPS, name
    assert elapsed < invocation.time_limit_ms / 1000
    # AND the groups WeCom missed come back for redelivery
    assert outcome.summary["channels"]["wecom"] == {"delivered": 0, "failed": GROUPS}
    assert outcome.retry_records == ALL_RECORDS


def test_a_channel_that_timed_out_is_not_tried_again_and_its_later_groups_are_redelivered():
    # GIVEN five channels, WeCom timing out at once, and plenty of time
    cfg = settings(margin_s=0.2)
    invocation = Invocation(time_limit_ms=30000)
    robots = Robots(invocation, cfg.margin_s, time_out=("wecom",))
    # WHEN three groups are alerted
    outcome, _, log = run(robots, cfg, invocation)
    # THEN WeCom got one request, not one per group
    assert len(robots.of("wecom")) == 1
    assert len(robots.of("slack")) == GROUPS
    # AND the groups after it are failures for WeCom, logged as such, their records asked back
    missed = [line for line in map(json.loads, log.splitlines()) if line["msg"] == "alert not delivered"]
    assert [m["channel"] for m in missed] == ["wecom"] * GROUPS
    assert missed[0]["reason"].startswith("timeout after") and missed[0]["attempts"] == 1
    assert [(m["reason"], m["attempts"]) for m in missed[1:]] == [(CHANNEL_DOWN, 0)] * 2
    assert outcome.summary["channels"]["wecom"] == {"delivered": 0, "failed": GROUPS}
    assert outcome.summary["channels_down"] == ["wecom"]
    assert outcome.summary["delivered"] == 4 * GROUPS and outcome.summary["failed"] == GROUPS
    assert outcome.retry_records == ALL_RECORDS


def test_no_request_starts_with_a_timeout_above_the_time_left_while_another_channel_hangs():
    # GIVEN a 30 s request timeout but 0.8 s left (1 s less the margin), WeCom hanging,
    # and Slack rate-limiting (Retry-After 0.1 s) until it runs out of time
    cfg = settings(timeout_s=30.0, margin_s=0.2, max_attempts=20)
    invocation = Invocation(time_limit_ms=1000)
    robots = Robots(invocation, cfg.margin_s, hang=("wecom",), rate_limited={"slack": 100})
    # WHEN three groups are alerted
    outcome, _, _ = run(robots, cfg, invocation)
    # THEN every channel was tried, and every request's timeout fitted in the time left when it started
    assert {c.channel for c in robots.calls} == set(CHANNELS)
    for call in robots.calls:
        assert call.timeout_s <= call.remaining_s + EPS, call
        assert call.timeout_s < cfg.timeout_s, call
    # AND Slack's retries, made while WeCom hung, got ever shorter timeouts, none started below MIN_SEND_S
    slack = robots.of("slack")
    assert len(slack) >= 3
    assert [c.timeout_s for c in slack] == sorted((c.timeout_s for c in slack), reverse=True)
    assert all(c.remaining_s >= MIN_SEND_S - EPS for c in robots.calls)
    assert outcome.summary["channels"]["slack"] == {"delivered": 0, "failed": GROUPS}


def test_the_concern_returns_before_the_time_limit_and_only_after_every_worker_ended():
    # GIVEN WeCom and Feishu both hanging until their (30 s) timeout, and 1 s for the invocation
    cfg = settings(timeout_s=30.0, margin_s=0.2)
    invocation = Invocation(time_limit_ms=1000)
    robots = Robots(invocation, cfg.margin_s, hang=("wecom", "feishu"))
    # WHEN three groups are alerted
    outcome, elapsed, _ = run(robots, cfg, invocation)
    returned_at = time.monotonic()
    # THEN both hanging channels were tried, side by side, and the concern returned in time ...
    assert len(robots.of("wecom")) == 1 and len(robots.of("feishu")) == 1
    assert elapsed < invocation.time_limit_ms / 1000
    # ... but not before their requests had ended: no worker thread is left running
    assert all(call.ended_at <= returned_at for call in robots.calls)
    assert not [t for t in threading.enumerate() if t.name.startswith(WORKER_NAME)]
    assert outcome.summary["channels_down"] == ["feishu", "wecom"]
    assert outcome.retry_records == ALL_RECORDS


def test_log_lines_stay_whole_json_lines_when_channels_report_at_once():
    # GIVEN five channels, WeCom timing out, and a stdout that writes each line in small pieces
    cfg = settings(margin_s=0.2)
    invocation = Invocation(time_limit_ms=30000)
    robots = Robots(invocation, cfg.margin_s, time_out=("wecom",))
    # WHEN three groups are alerted
    _, _, log = run(robots, cfg, invocation, stream=ChunkedStream())
    # THEN every line parses on its own, and there is one per channel and group
    lines = [json.loads(raw) for raw in log.splitlines()]
    results = [line for line in lines if line["msg"] in ("alert delivered", "alert not delivered")]
    assert len({(line["channel"], line["group"]) for line in results}) == len(results) == 5 * GROUPS
    down = [line for line in results if line.get("reason") == CHANNEL_DOWN]
    assert [line["channel"] for line in down] == ["wecom", "wecom"]


class StuckBatch:
    """A Batch client whose DescribeJob outlasts its timeout (a connection that drips), on a fake clock."""

    def __init__(self, clock: FakeTime, invocation: Invocation, margin_s: float, took_s: float) -> None:
        self.clock = clock
        self.invocation = invocation
        self.margin_s = margin_s
        self.took_s = took_s
        self.timeout_s = 0.0
        self.calls: list[tuple[str, float]] = []

    def factory(
        self, region: str, *, endpoint: str = "", timeout_s: int = 10, cred: Any = None
    ) -> StuckBatch:
        """Stands in for shared.cloud.batch_client; remembers the timeout each call gets."""
        self.timeout_s = timeout_s
        return self

    def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Stands in for ApiClient.call: DescribeJob takes `took_s` of the fake clock."""
        self.calls.append((action, self.invocation.remaining_s(self.margin_s)))
        if action == "DescribeJob":
            self.clock.now += self.took_s
            return {"JobState": "FAILED", "TaskSet": [{"TaskName": "render", "TaskState": "FAILED"}]}
        return {"TaskInstanceSet": []}


def test_enrichment_starts_no_batch_call_whose_timeout_exceeds_the_time_left(monkeypatch):
    # GIVEN 20 s left (22 s less the margin), enough for a job's four 2 s calls, and a DescribeJob
    # that took 19 s (a name lookup, for one, is bounded by no request timeout)
    clock = FakeTime()
    invocation = Invocation(time_limit_ms=22000, started=clock.now, clock=clock.monotonic)
    cfg = AlertConfig(enrich=True, margin_s=2.0)
    batch = StuckBatch(clock, invocation, cfg.margin_s, took_s=19.0)
    monkeypatch.setattr("shared.cloud.batch_client", batch.factory)
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDenrich")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", "enrichKey")
    groups, _ = group_events(parse_trigger_event(load_event("cmq_topic_job_failed.json")).known_events, None)
    out = io.StringIO()
    # WHEN the group is enriched
    found = enrich(groups, cfg, Deadline(invocation, cfg.margin_s, clock.sleep), JsonLogger("a", stream=out))
    # THEN DescribeTask, with 1 s left, was not started: the alert goes without enrichment, the log says why
    assert [action for action, _ in batch.calls] == ["DescribeJob"]
    assert all(batch.timeout_s <= remaining for _, remaining in batch.calls)
    assert found == {}
    [warning] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert warning["msg"].startswith("enrichment stopped") and warning["call"] == "DescribeTask"
