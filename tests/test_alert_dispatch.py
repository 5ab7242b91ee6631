"""alerting.dispatch: one channel is sent from the caller's thread, several side by side, and a
worker's unexpected error reaches the caller after every worker has ended."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from alerting.delivery import Result
from alerting.dispatch import WORKER_NAME, deliver_all


class FakeChannel:
    def __init__(self, name: str, bodies: int = 2) -> None:
        self.name = name
        self.bodies = bodies

    def payloads(self, outbox: Any) -> list[Any]:
        return [type("P", (), {"body": {"n": n, "channel": self.name}})() for n in range(self.bodies)]


class FakeSender:
    def __init__(self, delay_s: float = 0.0, explode: str = "") -> None:
        self.delay_s = delay_s
        self.explode = explode
        self.sent: list[tuple[str, int, str, float]] = []
        self.lock = threading.Lock()

    def send(self, channel: FakeChannel, body: dict[str, Any]) -> Result:
        if channel.name == self.explode:
            raise KeyboardInterrupt  # not an Exception: deliver_all's per-payload guard lets it through
        time.sleep(self.delay_s)
        with self.lock:
            self.sent.append((channel.name, body["n"], threading.current_thread().name, time.monotonic()))
        return Result(True, 200, "ok")


def test_one_channel_is_sent_from_the_callers_thread_in_order():
    sender, heard = FakeSender(), []
    deliver_all(None, [FakeChannel("wecom")], sender, lambda p, c, r: heard.append(r.ok))  # type: ignore[arg-type,list-item]
    assert [(name, n) for name, n, _, _ in sender.sent] == [("wecom", 0), ("wecom", 1)]
    assert {thread for _, _, thread, _ in sender.sent} == {threading.current_thread().name}
    assert heard == [True, True]


def test_several_channels_are_sent_side_by_side_each_in_order_and_all_joined():
    sender = FakeSender(delay_s=0.2)
    channels = [FakeChannel(name) for name in ("wecom", "dingtalk", "feishu")]
    started = time.monotonic()
    deliver_all(None, channels, sender, lambda p, c, r: None)  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    assert elapsed < 0.2 * 6 * 0.75  # in parallel: well under six sends one after the other
    assert not [t for t in threading.enumerate() if t.name.startswith(WORKER_NAME)]
    for name in ("wecom", "dingtalk", "feishu"):
        assert [n for channel, n, _, _ in sender.sent if channel == name] == [0, 1]
    assert all(thread.startswith(WORKER_NAME) for _, _, thread, _ in sender.sent)


def test_a_workers_unexpected_error_is_raised_in_the_caller_after_the_others_finished():
    sender = FakeSender(delay_s=0.1, explode="feishu")
    channels = [FakeChannel(name) for name in ("wecom", "feishu", "slack")]
    with pytest.raises(KeyboardInterrupt):
        deliver_all(None, channels, sender, lambda p, c, r: None)  # type: ignore[arg-type]
    assert sorted(name for name, _, _, _ in sender.sent) == ["slack", "slack", "wecom", "wecom"]


def test_the_first_channels_error_in_channel_order_is_raised_and_no_channel_is_skipped():
    # GIVEN more channels than workers, two of which fail at different moments
    class Failing(FakeSender):
        def send(self, channel: FakeChannel, body: dict[str, Any]) -> Result:
            if channel.name in ("c1", "c9"):
                time.sleep(0.2 if channel.name == "c1" else 0.0)
                raise KeyboardInterrupt(channel.name)
            return super().send(channel, body)

    sender = Failing()
    channels = [FakeChannel(f"c{n}", bodies=1) for n in range(12)]
    with pytest.raises(KeyboardInterrupt) as caught:
        deliver_all(None, channels, sender, lambda p, c, r: None)  # type: ignore[arg-type]
    # THEN c1's error (first in order, though raised later) is the one, and every other channel sent
    assert str(caught.value) == "c1"
    assert sorted(name for name, _, _, _ in sender.sent) == sorted(
        f"c{n}" for n in range(12) if n not in (1, 9)
    )


def test_a_group_whose_thread_cannot_start_is_sent_from_the_callers_thread(monkeypatch):
    import threading as threads

    real_start = threads.Thread.start
    calls = {"n": 0}

    def start(self: threads.Thread) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threads.Thread, "start", start)
    sender = FakeSender()
    channels: list[Any] = [FakeChannel(n, bodies=1) for n in ("a", "b", "c")]
    deliver_all(None, channels, sender, lambda p, c, r: None)  # type: ignore[arg-type]
    assert sorted(name for name, _, _, _ in sender.sent) == ["a", "b", "c"]
    assert next(t for name, _, t, _ in sender.sent if name == "b") == threads.current_thread().name
