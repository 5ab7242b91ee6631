"""Any webhook: the Alertmanager webhook payload, version "4", so existing receivers work unchanged."""

from __future__ import annotations

import hashlib
import json
from datetime import timezone
from typing import Any, Mapping

from shared.models import BatchEvent

from ..alert import Alert, Item, item_of
from ..grouping import JOB
from .base import Channel

VERSION = "4"
MAX_ALERTS = 100  # like Alertmanager's max_alerts: the rest is counted in truncatedAlerts
ENDS_AT = "0001-01-01T00:00:00Z"  # what Alertmanager sends for an alert that is still firing
_SEVERITY = {"INTERRUPTED": "critical", "ABNORMAL": "critical", "FAILED": "error", "NOTICE": "info"}


def labels_of(event: BatchEvent, region: str) -> dict[str, str]:
    """alertname (the event name), region, severity, and the resource ids the event has."""
    labels = {"alertname": event.name_raw, "region": region}
    candidates = {
        "job_id": event.job_id,
        "task_name": event.task_name,
        "task_instance_index": event.task_instance_index,
        "env_id": event.env_id,
        "node_id": event.node_id,
        "instance_id": event.instance_id,
    }
    labels.update({k: str(v) for k, v in candidates.items() if v is not None and str(v) != ""})
    return labels


def _annotations(event: BatchEvent, item: Item, link: str) -> dict[str, str]:
    summary = " · ".join([item.event_name, *(f"{label} {value}" for label, value in item.details)])
    notes = {"summary": summary, "console_url": link}
    if event.state_reason:
        notes["description"] = event.state_reason
    if event.exit_code is not None:
        notes["exit_code"] = str(event.exit_code)
    if event.job_name:
        notes["job_name"] = event.job_name
    if event.env_name:
        notes["env_name"] = event.env_name
    if event.vars:
        notes["event_vars"] = json.dumps(dict(event.vars), ensure_ascii=False, sort_keys=True)
    return notes


def fingerprint(labels: Mapping[str, str]) -> str:
    """16 hex digits identifying the label set, like Alertmanager's."""
    canonical = json.dumps(dict(labels), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def _starts_at(event: BatchEvent) -> str:
    # Alertmanager times are UTC ("Z"): an event time with an offset is converted, not relabelled.
    return event.time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if event.time else ENDS_AT


class WebhookChannel(Channel):
    """POST the Alertmanager payload; any 2xx is a delivery. JSON needs no markup escaping."""

    name = "webhook"

    def render(self, alert: Alert) -> dict[str, Any]:
        """One Alertmanager notification for the group; its alerts are the group's events."""
        region = alert.key.region
        id_label = "job_id" if alert.key.kind == JOB else "env_id"
        group_labels = {"region": region, id_label: alert.key.id}
        alerts: list[dict[str, Any]] = []
        all_labels: list[dict[str, str]] = []
        all_annotations: list[dict[str, str]] = []
        for event in alert.events[:MAX_ALERTS]:
            item = item_of(event)
            labels = labels_of(event, region)
            labels["severity"] = _SEVERITY[item.severity.badge]
            annotations = _annotations(event, item, alert.link)
            all_labels.append(labels)
            all_annotations.append(annotations)
            alerts.append(
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": annotations,
                    "startsAt": _starts_at(event),
                    "endsAt": ENDS_AT,
                    "generatorURL": alert.link,
                    "fingerprint": fingerprint(labels),
                }
            )
        group_key = "{}:{" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(group_labels.items())) + "}"
        return {
            "version": VERSION,
            "groupKey": group_key,
            "truncatedAlerts": max(0, len(alert.events) - MAX_ALERTS),
            "status": "firing",
            "receiver": self.settings.receiver,
            "groupLabels": group_labels,
            "commonLabels": _common(all_labels),
            "commonAnnotations": _common(all_annotations),
            "externalURL": self.settings.console_url,
            "alerts": alerts,
        }
