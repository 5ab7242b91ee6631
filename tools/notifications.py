"""Print (or patch into a request file) the `Notifications` block that makes Batch publish events.

    python -m tools.notifications --topic batch-events --events failures,interrupted --var owner=ml
    python -m tools.notifications --topic batch-events --events JobFailed --patch submit-job.json
    python -m tools.notifications --for compute-env --topic batch-events --events nodes

Event names may be API names (JOB_FAILED), the seed's old spelling (JobFailed) or groups
(all, failures, interrupted, jobs, nodes, envs). The block is built with the Batch SDK's own
request models, so what this writes is what SubmitJob / CreateComputeEnv take.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

from shared.catalogue import EVENT_GROUPS, EventName, UnknownEventNameError, parse_event_names

TARGETS = ("TDMQ_CMQ", "CMQ")


class NotificationsError(ValueError):
    """Bad arguments or a request file the Batch API would not take."""


def _models() -> Any:
    from tencentcloud.batch.v20170312 import models

    return models


def resolve_events(items: Sequence[str]) -> list[EventName]:
    """Event names and groups, normalised and ordered as the catalogue lists them."""
    try:
        names = parse_event_names(part for item in items for part in item.split(","))
    except UnknownEventNameError as exc:
        groups = ", ".join(sorted(EVENT_GROUPS))
        raise NotificationsError(f"{exc}; or one of the groups: {groups}") from None
    if not names:
        raise NotificationsError("no event names given (use --events, e.g. --events failures)")
    return [e for e in EventName if e in names]


def build_notifications(topic: str, events: Sequence[EventName], event_vars: dict[str, str]) -> list[Any]:
    """SDK `Notification` models: one topic, one EventConfig per event, the same vars on each."""
    if not topic.strip():
        raise NotificationsError("--topic is required: the CMQ / TDMQ-CMQ topic NAME (not its id)")
    models = _models()
    configs = []
    for event in events:
        config = models.EventConfig()
        config.EventName = event.value
        config.EventVars = []
        for key, value in event_vars.items():
            var = models.EventVar()
            var.Name, var.Value = key, value
            config.EventVars.append(var)
        configs.append(config)
    notification = models.Notification()
    notification.TopicName = topic.strip()
    notification.EventConfigs = configs
    return [notification]


def _serialise(model: Any) -> dict[str, Any]:
    # The SDK's own request serialisation: exactly the fields a client call would send.
    return model._serialize(allow_none=False)  # type: ignore[no-any-return]


def block(kind: str, notifications: list[Any], target: str) -> dict[str, Any]:
    """The fields to add to SubmitJob's `Job` or CreateComputeEnv's `ComputeEnv`."""
    models = _models()
    holder = models.Job() if kind == "job" else models.NamedComputeEnv()
    holder.Notifications = notifications
    holder.NotificationTarget = target
    return _serialise(holder)


def patch_request(path: Path, kind: str, notifications: list[Any], target: str) -> dict[str, Any]:
    """Set the notifications in a SubmitJob (or CreateComputeEnv) request JSON file, in place."""
    models = _models()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotificationsError(f"cannot read request file {path}: {exc}") from None
    key = "Job" if kind == "job" else "ComputeEnv"
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise NotificationsError(f"{path} has no {key} object: is it a {_request_name(kind)} request?")
    request = models.SubmitJobRequest() if kind == "job" else models.CreateComputeEnvRequest()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK warns about unknown fields; they are reported below
        request._deserialize(data)
    holder = getattr(request, key)
    holder.Notifications = notifications
    holder.NotificationTarget = target
    patched = _serialise(request)
    dropped = _missing_paths(data, patched)
    if dropped:
        raise NotificationsError(
            f"{path} has fields the {_request_name(kind)} API does not take (the SDK would drop them): "
            + ", ".join(dropped)
        )
    path.write_text(json.dumps(patched, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return patched


def _missing_paths(original: Any, kept: Any, prefix: str = "") -> list[str]:
    """Paths of values in `original` that `kept` lost (None values do not count)."""
    if isinstance(original, dict):
        if not isinstance(kept, dict):
            return [prefix or "."]
        out: list[str] = []
        for key, value in original.items():
            if value is None:
                continue
            where = f"{prefix}.{key}" if prefix else key
            out += _missing_paths(value, kept[key], where) if key in kept else [where]
        return out
    if isinstance(original, list) and isinstance(kept, list):
        return [
            p for n, (a, b) in enumerate(zip(original, kept)) for p in _missing_paths(a, b, f"{prefix}[{n}]")
        ]
    return []


def _request_name(kind: str) -> str:
    return "SubmitJob" if kind == "job" else "CreateComputeEnv"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topic", required=True, help="topic name Batch publishes to")
    parser.add_argument("--events", action="append", required=True, help="names or groups, comma-separated")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="an event var")
    parser.add_argument("--target", choices=TARGETS, default="TDMQ_CMQ", help="NotificationTarget")
    parser.add_argument("--for", dest="kind", choices=("job", "compute-env"), default="job")
    parser.add_argument("--patch", type=Path, help="a request JSON file to update in place")
    args = parser.parse_args(argv)
    try:
        event_vars: dict[str, str] = {}
        for item in args.var:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise NotificationsError(f"--var {item!r} is not NAME=VALUE")
            event_vars[name.strip()] = value
        kind = "job" if args.kind == "job" else "env"
        notifications = build_notifications(args.topic, resolve_events(args.events), event_vars)
        if args.patch:
            patch_request(args.patch, kind, notifications, args.target)
            print(f"patched {args.patch}: {_request_name(kind)} now publishes to topic {args.topic!r}")
        else:
            print(json.dumps(block(kind, notifications, args.target), ensure_ascii=False, indent=2))
    except NotificationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
