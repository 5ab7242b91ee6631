"""Print (or patch into a request file) the `Notifications` block that makes Batch publish events.

    python -m tools.notifications --topic batch-events --events failures,interrupted --var owner=ml
    python -m tools.notifications --topic batch-events --events recovery \
        --patch samples/submit-job.json --out /tmp/submit-job.json
    python -m tools.notifications --topic batch-events --events failures --patch my-submit-job.json
    python -m tools.notifications --for compute-env --topic batch-events --events nodes

Event names may be API names (JOB_FAILED), the seed's old spelling (JobFailed) or groups (below).
The block is built with the Batch SDK's own request models, so what this writes is what SubmitJob /
CreateComputeEnv take. It is printed, or written to --out; --patch FILE sets it in that SubmitJob
(or CreateComputeEnv) request file IN PLACE, or writes the patched request to --out and leaves
FILE as it was. Nothing else is written. samples/submit-job.json is a minimal SubmitJob request.

Batch publishes an event only when the Notifications ask for it. A compute environment
(CreateComputeEnv) publishes only environment and node events; a job (SubmitJob) job, task,
task-instance and node events: other names get a warning.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any, Optional, Sequence

from shared.catalogue import (
    EVENT_GROUPS,
    FAILURE_EVENTS,
    Category,
    EventName,
    UnknownEventNameError,
    parse_event_names,
)

TARGETS = ("TDMQ_CMQ", "CMQ")

# The catalogue's groups, and the tool's own: `recovery` is what alert_failures needs with
# ALERT_RECOVERY=1 (a notice when a job succeeds after an automatic retry). Batch publishes
# JOB_SUCCEED only when the job's Notifications ask for it, so it must be in the block.
GROUPS: dict[str, frozenset[EventName]] = {
    **EVENT_GROUPS,
    "recovery": FAILURE_EVENTS | {EventName.JOB_SUCCEED},
}
GROUP_NOTES = {
    "recovery": "the failures and JOB_SUCCEED, for alert_failures' ALERT_RECOVERY=1: Batch publishes "
    "JOB_SUCCEED only when the job's Notifications ask for it",
}
# What each request publishes (docs: CreateComputeEnv only environment and node events).
PUBLISHED_BY: dict[str, frozenset[Category]] = {
    "job": frozenset({Category.JOB, Category.TASK, Category.TASK_INSTANCE, Category.COMPUTE_NODE}),
    "env": frozenset({Category.COMPUTE_ENV, Category.COMPUTE_NODE}),
}


class NotificationsError(ValueError):
    """Bad arguments or a request file the Batch API would not take."""


def _models() -> Any:
    from tencentcloud.batch.v20170312 import models

    return models


def resolve_events(items: Sequence[str]) -> list[EventName]:
    """Event names and groups, normalised and ordered as the catalogue lists them."""
    parts = [part.strip() for item in items for part in item.split(",")]
    names: set[EventName] = set()
    for part in parts:
        names |= GROUPS.get(part.lower(), frozenset())
    try:
        names |= parse_event_names(p for p in parts if p.lower() not in GROUPS)
    except UnknownEventNameError as exc:
        groups = ", ".join(sorted(GROUPS))
        raise NotificationsError(f"{exc}; or one of the groups: {groups}") from None
    if not names:
        raise NotificationsError("no event names given (use --events, e.g. --events failures)")
    return [e for e in EventName if e in names]


def unpublished(kind: str, events: Sequence[EventName]) -> list[EventName]:
    """The events that a request of this kind ("job" or "env") never publishes."""
    return [e for e in events if e.category not in PUBLISHED_BY[kind]]


def warning_for(kind: str, events: Sequence[EventName]) -> Optional[str]:
    """The warning to print when some events cannot come from this kind of request, else None."""
    never = unpublished(kind, events)
    if not never:
        return None
    names = ", ".join(e.value for e in never)
    if kind == "env":
        return (
            f"warning: a compute environment (CreateComputeEnv) publishes only environment and node "
            f"events, never {names}: ask for them in the jobs' Notifications (--for job)"
        )
    return (
        f"warning: a job (SubmitJob) never publishes {names}: ask for them in the compute "
        "environment's Notifications (--for compute-env)"
    )


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


def patch_request(
    path: Path, kind: str, notifications: list[Any], target: str, out: Optional[Path] = None
) -> dict[str, Any]:
    """Set the notifications in a SubmitJob (or CreateComputeEnv) request JSON file: in place, or
    written to `out` (then `path` is only read). A file the API would not take is left as it was."""
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
    _write(out or path, patched)
    return patched


def _write(path: Path, data: Any) -> None:
    try:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise NotificationsError(f"cannot write {path}: {exc.strerror}") from None


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


def _groups_help() -> str:
    lines = ["groups:"]
    for group, members in GROUPS.items():
        members_text = ", ".join(e.value for e in EventName if e in members)
        names = "every event name" if group == "all" else members_text
        lines.append(f"  {group}: {GROUP_NOTES.get(group, names)}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.notifications",
        description=__doc__,
        epilog=_groups_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--topic", required=True, help="topic name Batch publishes to")
    parser.add_argument("--events", action="append", required=True, help="names or groups, comma-separated")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="an event var")
    parser.add_argument("--target", choices=TARGETS, default="TDMQ_CMQ", help="NotificationTarget")
    parser.add_argument("--for", dest="kind", choices=("job", "compute-env"), default="job")
    parser.add_argument("--patch", type=Path, help="a request JSON file to update IN PLACE (unless --out)")
    parser.add_argument("--out", type=Path, help="write the block (or the patched request) here instead")
    args = parser.parse_args(argv)
    try:
        event_vars: dict[str, str] = {}
        for item in args.var:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise NotificationsError(f"--var {item!r} is not NAME=VALUE")
            event_vars[name.strip()] = value
        kind = "job" if args.kind == "job" else "env"
        events = resolve_events(args.events)
        warning = warning_for(kind, events)
        if warning:
            print(warning, file=sys.stderr)
        notifications = build_notifications(args.topic, events, event_vars)
        if args.patch:
            patch_request(args.patch, kind, notifications, args.target, args.out)
            where = f"wrote {args.out}" if args.out else f"patched {args.patch}"
            print(f"{where}: {_request_name(kind)} now publishes to topic {args.topic!r}")
        elif args.out:
            _write(args.out, block(kind, notifications, args.target))
            print(f"wrote {args.out}")
        else:
            print(json.dumps(block(kind, notifications, args.target), ensure_ascii=False, indent=2))
    except NotificationsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
