"""Print, or create through the TDMQ SDK, the queues and subscriptions a delivery path needs.

    python -m tools.setup_delivery --delivery queue --topic batch-events --region ap-guangzhou
    python -m tools.setup_delivery --delivery http --topic batch-events --region ap-guangzhou \\
        --push-url alert_failures=http://1250000000-abc.ap-guangzhou.tencentscf.com ...
    ... --create          # really create them (default: dry run, print the requests)

queue: a dead-letter queue, then per function a queue (visibility timeout twice the polling run,
12 h retention, dead-letter after 5 receives) and a topic subscription (Protocol=queue,
NotifyContentFormat=SIMPLIFIED). http: per function a subscription (Protocol=http) pushing to the
function URL with `?token=$PUSH_TOKEN`. cmq: nothing to create; `components deploy` makes the trigger.
The push token is read from the environment and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional, Sequence
from urllib.parse import urlencode, urlparse

from shared.log import REDACTED
from tools.deploy_config import (
    DEAD_LETTER_MAX_RECEIVES,
    DELIVERIES,
    FUNCTIONS,
    POLL_TIMEOUT_S,
    QUEUE_RETENTION_S,
    VISIBILITY_FACTOR,
    dead_letter_queue_name,
    queue_name,
)


class SetupError(ValueError):
    """Arguments that cannot make a working setup."""


@dataclass(frozen=True)
class Step:
    """One TDMQ API call: its action and request fields."""

    action: str
    params: dict[str, Any]

    def printable(self) -> dict[str, Any]:
        """The request with any token in a push endpoint hidden."""
        params = dict(self.params)
        endpoint = params.get("Endpoint")
        if isinstance(endpoint, str) and "token=" in endpoint:
            params["Endpoint"] = endpoint.split("token=", 1)[0] + "token=" + REDACTED
        return {"Action": self.action, **params}


def queue_steps(topic: str, max_receives: int = DEAD_LETTER_MAX_RECEIVES) -> list[Step]:
    """The dead-letter queue, then a queue and a SIMPLIFIED queue subscription per function."""
    dead_letter = dead_letter_queue_name(topic)
    steps = [Step("CreateCmqQueue", {"QueueName": dead_letter, "MsgRetentionSeconds": QUEUE_RETENTION_S})]
    for spec in FUNCTIONS:
        name = queue_name(topic, spec)
        steps.append(
            Step(
                "CreateCmqQueue",
                {
                    "QueueName": name,
                    "VisibilityTimeout": VISIBILITY_FACTOR * POLL_TIMEOUT_S,
                    "MsgRetentionSeconds": QUEUE_RETENTION_S,
                    "PollingWaitSeconds": 0,
                    "DeadLetterQueueName": dead_letter,
                    "Policy": 0,
                    "MaxReceiveCount": max_receives,
                },
            )
        )
        steps.append(
            Step(
                "CreateCmqSubscribe",
                {
                    "TopicName": topic,
                    "SubscriptionName": f"{name}-sub",
                    "Protocol": "queue",
                    "Endpoint": name,
                    "NotifyStrategy": "EXPONENTIAL_DECAY_RETRY",
                    "NotifyContentFormat": "SIMPLIFIED",
                },
            )
        )
    return steps


def http_steps(topic: str, push_urls: dict[str, str], token: str, content_format: str = "JSON") -> list[Step]:
    """A push subscription per function, to its URL with the shared token."""
    if not token:
        raise SetupError(
            "set PUSH_TOKEN in the environment: every push must carry it (and the functions check it)"
        )
    missing = [s.name for s in FUNCTIONS if s.name not in push_urls]
    if missing:
        raise SetupError(
            f"--push-url is missing for: {', '.join(missing)} (`components info` prints the function URLs)"
        )
    steps = []
    for spec in FUNCTIONS:
        url = push_urls[spec.name]
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SetupError(f"--push-url for {spec.name} is not an http(s) URL: {url!r}")
        endpoint = f"{url}{'&' if parsed.query else '?'}{urlencode({'token': token})}"
        steps.append(
            Step(
                "CreateCmqSubscribe",
                {
                    "TopicName": topic,
                    "SubscriptionName": f"{topic}-{spec.slug}-push",
                    "Protocol": "http",
                    "Endpoint": endpoint,
                    "NotifyStrategy": "EXPONENTIAL_DECAY_RETRY",
                    "NotifyContentFormat": content_format,
                },
            )
        )
    return steps


def push_url_warnings(push_urls: dict[str, str]) -> list[str]:
    """What contradicts the documentation: TDMQ-CMQ documents push endpoints as `http://` only, while
    SCF function URLs are `https://` (docs/open-points.md: unconfirmed which way the service goes)."""
    return [
        f"warning: --push-url for {name} is https://, but TDMQ-CMQ documents http:// push endpoints only "
        "(CreateCmqSubscribe: 'must start with http://'); the subscription may be refused or never "
        "deliver. The queue path (--delivery queue) does not depend on it."
        for name, url in sorted(push_urls.items())
        if urlparse(url).scheme == "https"
    ]


def run_steps(steps: Sequence[Step], region: str) -> list[str]:
    """Send each step through the TDMQ SDK; returns one line per step (created or why not)."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.tdmq.v20200217 import models, tdmq_client

    from shared.cloud import client_profile, credentials

    client = tdmq_client.TdmqClient(
        credentials(), region, client_profile(os.environ.get("TDMQ_ENDPOINT", ""))
    )
    lines = []
    for step in steps:
        request = getattr(models, f"{step.action}Request")()
        request._deserialize(step.params)
        try:
            getattr(client, step.action)(request)
            lines.append(f"created: {step.action} {_what(step)}")
        except TencentCloudSDKException as exc:
            lines.append(f"FAILED: {step.action} {_what(step)}: {exc.get_code()} {exc.get_message()}")
    return lines


def _what(step: Step) -> str:
    return str(step.params.get("SubscriptionName") or step.params.get("QueueName"))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delivery", choices=DELIVERIES, default="queue")
    parser.add_argument("--topic", required=True, help="the TDMQ-CMQ topic Batch publishes to")
    parser.add_argument("--region", required=True, help="the topic's region, e.g. ap-guangzhou")
    parser.add_argument("--push-url", action="append", default=[], metavar="FUNCTION=URL")
    parser.add_argument("--format", choices=("JSON", "SIMPLIFIED"), default="JSON", help="http push format")
    parser.add_argument("--max-receives", type=int, default=DEAD_LETTER_MAX_RECEIVES)
    parser.add_argument("--create", action="store_true", help="create them (default: print the requests)")
    args = parser.parse_args(argv)
    try:
        if args.delivery == "cmq":
            print("cmq: nothing to create; `components deploy` creates each function's CMQ-topic trigger.")
            return 0
        if args.delivery == "queue":
            if not 1 <= args.max_receives <= 1000:
                raise SetupError("--max-receives must be within 1-1000")
            steps = queue_steps(args.topic, args.max_receives)
        else:
            urls = dict(item.split("=", 1) for item in args.push_url if "=" in item)
            token = os.environ.get("PUSH_TOKEN", "")
            if not token and not args.create:
                # A dry run only shows the requests: the token is never printed anyway.
                print("note: PUSH_TOKEN is not set; --create will need it", file=sys.stderr)
                token = "<PUSH_TOKEN>"  # noqa: S105 - a placeholder, masked in the output
            steps = http_steps(args.topic, urls, token, args.format)
            for warning in push_url_warnings(urls):
                print(warning, file=sys.stderr)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.create:
        print(f"# dry run: {len(steps)} requests to TDMQ ({args.region}); add --create to send them")
        for step in steps:
            print(json.dumps(step.printable(), ensure_ascii=False))
        return 0
    lines = run_steps(steps, args.region)
    print("\n".join(lines))
    return 1 if any(line.startswith("FAILED") for line in lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
