"""Any webhook: the Alertmanager webhook payload, version "4", so existing receivers work unchanged.

One payload per group, even in a storm (receivers group and deduplicate by themselves), and one
`resolved` payload per recovery, under the failure's groupKey. Every label and annotation value is
clipped, and the payload holds at most 100 alerts and 1 MiB; `truncatedAlerts` counts the rest.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from shared.catalogue import EventName
from shared.models import BatchEvent

from ..alert import Alert, Item, item_of
from ..clip import clip_bytes
from ..grouping import JOB, GroupKey
from ..identity import fingerprint, group_key
from ..outbox import Outbox, Payload
from .base import Channel, body_bytes

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any, Mapping, Optional

if TYPE_CHECKING:
    from ..recovery import Recovery

VERSION = "4"
MAX_ALERTS = 100  # like Alertmanager's max_alerts: the rest is counted in truncatedAlerts
PAYLOAD_BYTES = 1 << 20
LABEL_BYTES = 1024
ANNOTATION_BYTES = 4096
ZERO_TIME = "0001-01-01T00:00:00Z"  # what Alertmanager sends as endsAt of an alert still firing
_SEVERITY = {"INTERRUPTED": "critical", "ABNORMAL": "critical", "FAILED": "error", "NOTICE": "info"}
# What a retried job's failure was alerted as: the job-level alerts a recovery resolves.
_RESOLVED = ((EventName.JOB_FAILED, "error"), (EventName.JOB_FAILED_INTERRUPTED, "critical"))


def _labels(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: clip_bytes(str(v), LABEL_BYTES) for k, v in values.items() if v is not None and str(v) != ""}


def labels_of(event: BatchEvent, region: str) -> dict[str, str]:
    """alertname (the event name), region, and the resource ids the event has."""
    return _labels(
        {
            "alertname": event.name_raw,
            "region": region,
            "job_id": event.job_id,
            "task_name": event.task_name,
            "task_instance_index": event.task_instance_index,
            "env_id": event.env_id,
            "node_id": event.node_id,
            "instance_id": event.instance_id,
        }
    )


def _annotations(event: BatchEvent, item: Item, link: str, inhibited: str) -> dict[str, str]:
    summary = " · ".join([item.event_name, *(f"{label} {value}" for label, value in item.details)])
    notes: dict[str, Any] = {"summary": summary, "console_url": link}
    if event.state_reason:
        notes["description"] = event.state_reason
    if event.exit_code is not None:
        notes["exit_code"] = event.exit_code
    if event.job_name:
        notes["job_name"] = event.job_name
    if event.env_name:
        notes["env_name"] = event.env_name
    if event.vars:
        notes["event_vars"] = json.dumps(dict(event.vars), ensure_ascii=False, sort_keys=True)
    if inhibited:
        notes["inhibited"] = inhibited
    return {k: clip_bytes(str(v), ANNOTATION_BYTES) for k, v in notes.items()}


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def _utc(moment: Optional[datetime]) -> str:
    # Alertmanager times are UTC ("Z"): an event time with an offset is converted, not relabelled.
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ZERO_TIME


def _starts_at(event: BatchEvent) -> str:
    return _utc(event.time)


def group_labels(key: GroupKey) -> dict[str, str]:
    """The labels a group is keyed by: region and job_id, or region and env_id."""
    return _labels({"region": key.region, "job_id" if key.kind == JOB else "env_id": key.id})


class WebhookChannel(Channel):
    """POST the Alertmanager payload; any 2xx is a delivery. JSON needs no markup escaping."""

    name = "webhook"

    def payloads(self, outbox: Outbox) -> list[Payload]:
        """One payload per group, then one resolved payload per recovery; a digest is for people."""
        out = [
            Payload((unit,), str(alert.key), alert.total, self.render(alert))
            for unit, alert in enumerate(outbox.alerts)
        ]
        out += [
            Payload((outbox.recovery_unit(index),), str(r.key), 1, self.render_resolved(r))
            for index, r in enumerate(outbox.recoveries)
        ]
        return out

    def _payload(
        self, key: GroupKey, status: str, alerts: list[dict[str, Any]], total: int
    ) -> dict[str, Any]:
        labels = group_labels(key)
        kept: list[dict[str, Any]] = []
        size = 0
        for alert in alerts[:MAX_ALERTS]:
            size += body_bytes(alert) + 1
            if kept and size > PAYLOAD_BYTES - 4096:  # the envelope around the alerts stays small
                break
            kept.append(alert)
        return {
            "version": VERSION,
            "groupKey": group_key(labels),
            "truncatedAlerts": total - len(kept),
            "status": status,
            "receiver": self.settings.receiver,
            "groupLabels": labels,
            "commonLabels": _common([a["labels"] for a in kept]),
            "commonAnnotations": _common([a["annotations"] for a in kept]),
            "externalURL": self.settings.console_url,
            "alerts": kept,
        }

    def render(self, alert: Alert) -> dict[str, Any]:
        """One Alertmanager notification for the group; its alerts are the group's events."""
        inhibits = {fold.instance_id: fold.text for fold in alert.folds}
        alerts: list[dict[str, Any]] = []
        for event in alert.events[:MAX_ALERTS]:
            item = item_of(event)
            labels = labels_of(event, alert.key.region)
            labels["severity"] = _SEVERITY[item.severity.badge]
            inhibited = ""
            if event.name is EventName.COMPUTE_NODE_ABNORMAL and event.instance_id:
                inhibited = inhibits.pop(event.instance_id, "")
            alerts.append(
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": _annotations(event, item, alert.link, inhibited),
                    "startsAt": _starts_at(event),
                    "endsAt": ZERO_TIME,
                    "generatorURL": alert.link,
                    "fingerprint": fingerprint(labels),
                }
            )
        return self._payload(alert.key, "firing", alerts, len(alert.events))

    def render_resolved(self, recovery: Recovery) -> dict[str, Any]:
        """The failure's notification again, resolved: same groupKey, same labels, endsAt set.

        Which job-level alert fired (JOB_FAILED or JOB_FAILED_INTERRUPTED) is not known to a stateless
        function, so both are resolved; resolving an alert that never fired is a no-op for receivers.
        """
        notes = {"summary": recovery.summary, "console_url": recovery.link}
        if recovery.job_name:
            notes["job_name"] = recovery.job_name
        annotations = {k: clip_bytes(v, ANNOTATION_BYTES) for k, v in notes.items()}
        alerts = []
        for name, severity in _RESOLVED:
            key = recovery.key
            labels = _labels({"alertname": name.value, "region": key.region, "job_id": key.id})
            labels["severity"] = severity
            alerts.append(
                {
                    "status": "resolved",
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": _utc(recovery.failed),
                    "endsAt": _utc(recovery.ended or datetime.now(timezone.utc)),
                    "generatorURL": recovery.link,
                    "fingerprint": fingerprint(labels),
                }
            )
        return self._payload(recovery.key, "resolved", alerts, len(alerts))
