"""A send that raises costs only its own payload: nothing that was sent is sent again."""

from __future__ import annotations

import contextlib
import io

from shared.http import HttpError, post
from tests.fakes.chat import switch_on
from tests.helpers import load_event, load_handler


def test_a_send_that_raises_is_reported_undelivered_and_nothing_is_sent_twice(robots, monkeypatch):
    # GIVEN Slack and the webhook, and a post that raises an unexpected error for the webhook only
    switch_on(monkeypatch, "slack", "webhook")
    from alerting import delivery

    def flaky(url, **kwargs):
        if "/batch?" in url:  # the fake webhook receiver's path
            raise KeyError("a bug in the sending path")
        return post(url, **kwargs)

    real_send = delivery.Sender.send

    def send(self, channel, body):
        self._post = flaky
        return real_send(self, channel, body)

    monkeypatch.setattr(delivery.Sender, "send", send)
    # WHEN a multi-record event is handled
    event = load_event("cmq_topic_alert_groups.json")
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            load_handler("alert_failures").main_handler(event, {"time_limit_in_ms": 30000})
        except Exception as exc:  # the webhook's records are asked back: RetryableFailure
            assert type(exc).__name__ == "RetryableFailure"
    # THEN Slack got each message exactly once: no record-by-record re-run repeated them
    slack = [r for r in robots.received if r.channel == "slack"]
    bodies = [str(r.body) for r in slack]
    assert slack and len(bodies) == len(set(bodies))


def test_a_body_that_cannot_be_encoded_is_an_http_error():
    try:
        post("http://127.0.0.1:1/x", json_body={"text": "\ud800"}, timeout_s=0.2)
    except HttpError as exc:
        assert "cannot be sent" in str(exc)
    else:  # pragma: no cover - the test fails here
        raise AssertionError("no HttpError")
