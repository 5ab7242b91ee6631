"""The CLS HTTP layer: each request checked against the SDK's own models, then answered from the backend.

The SDK drops a field its model does not know (with a warning), so a test through the SDK alone
would never see a misspelt one; the fake checks what arrives on the wire instead: every key a
known attribute of the request model (recursively, types from the models' documentation), and
the fields the API documents as required present. Anything else is InvalidParameter.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional

import responses

from tests.fakes.batch.routes import tencent_callback

from .backend import ClsBackend, ClsError

DEFAULT_ENDPOINT = "https://cls.tencentcloudapi.com"
VERSION = "2020-10-16"

# Required fields, from the CLS API reference (the Python models do not say).
REQUIRED: dict[str, tuple[str, ...]] = {
    "DescribeIndexRequest": ("TopicId",),
    "CreateIndexRequest": ("TopicId", "Rule"),
    "ModifyIndexRequest": ("TopicId",),
    "KeyValueInfo": ("Key", "Value"),
    "ValueInfo": ("Type",),
    "RuleKeyValueInfo": ("CaseSensitive", "KeyValues"),
    "FullTextInfo": ("CaseSensitive",),
    "CreateDashboardRequest": ("DashboardName",),
    "ModifyDashboardRequest": ("DashboardId",),
    "CreateAlarmRequest": ("Name", "AlarmTargets", "MonitorTime", "TriggerCount", "AlarmPeriod"),
    "ModifyAlarmRequest": ("AlarmId",),
    "AlarmTarget": ("TopicId", "Query", "Number", "StartTimeOffset", "EndTimeOffset", "LogsetId"),
    "MonitorTime": ("Type",),
    "Filter": ("Key", "Values"),
}
_TYPE = re.compile(r"^\s*:type (\w+): (.+)$", re.MULTILINE)
_CLASS = re.compile(r":class:`[\w.]+\.(\w+)`")
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (int, float),
}


@functools.cache
def model_fields(name: str) -> dict[str, str]:
    """A model's fields and their documented types (`str`, `list of Filter`, `RuleInfo`, ...)."""
    from tencentcloud.cls.v20201016 import models

    model = getattr(models, name, None)
    if model is None:
        raise KeyError(name)
    known = {attr[1:] for attr in vars(model()) if attr.startswith("_")}
    doc = inspect.getdoc(model.__init__) or ""
    types: dict[str, str] = {}
    for field, declared in _TYPE.findall(doc):
        found = _CLASS.search(declared)
        types[field] = found.group(1) if found else declared.strip()
    untyped = sorted(known - set(types))
    assert not untyped, f"{name}: no documented type for {untyped}"  # a fake that cannot check is a bug
    return {field: types[field] for field in sorted(known)}


def check_shape(name: str, params: Any, where: str) -> None:
    """ClsError(InvalidParameter) unless `params` fits model `name`: known keys, types, required present."""
    if not isinstance(params, dict):
        raise ClsError("InvalidParameter", f"{where} must be an object, not {type(params).__name__}")
    fields = model_fields(name)
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ClsError("InvalidParameter", f"{where}: unknown field(s) {', '.join(unknown)} ({name})")
    missing = [f for f in REQUIRED.get(name, ()) if params.get(f) is None]
    if missing:
        raise ClsError("InvalidParameter", f"{where}: missing required {', '.join(missing)} ({name})")
    for field, value in params.items():
        _check_value(fields[field], value, f"{where}.{field}")


def _check_value(declared: str, value: Any, where: str) -> None:
    if value is None:
        return
    if declared.startswith("list of "):
        if not isinstance(value, list):
            raise ClsError("InvalidParameter", f"{where} must be a list")
        for n, item in enumerate(value):
            _check_value(declared[len("list of ") :], item, f"{where}[{n}]")
        return
    kinds = _PRIMITIVES.get(declared)
    if kinds is None:
        check_shape(declared, value, where)
        return
    # JSON true is not an integer here, whatever Python thinks.
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        raise ClsError("InvalidParameter", f"{where} must be {declared}, not {value!r}")


_ACTIONS = {
    "DescribeTopics": "describe_topics",
    "DescribeIndex": "describe_index",
    "CreateIndex": "create_index",
    "ModifyIndex": "modify_index",
    "DescribeDashboards": "describe_dashboards",
    "CreateDashboard": "create_dashboard",
    "ModifyDashboard": "modify_dashboard",
    "DescribeAlarmNotices": "describe_alarm_notices",
    "DescribeAlarms": "describe_alarms",
    "CreateAlarm": "create_alarm",
    "ModifyAlarm": "modify_alarm",
}


def _dispatch(backend: ClsBackend) -> Callable[[str, dict[str, Any], str], Optional[dict[str, Any]]]:
    def dispatch(action: str, params: dict[str, Any], region: str) -> Optional[dict[str, Any]]:
        method = _ACTIONS.get(action)
        if method is None:
            return None
        check_shape(f"{action}Request", params, action)
        result: dict[str, Any] = getattr(backend, method)(params, region)
        return result

    return dispatch


def register_cls(mock: responses.RequestsMock, backend: ClsBackend, endpoint: str = DEFAULT_ENDPOINT) -> None:
    """Route POST <endpoint>/ to the fake CLS API."""
    mock.add_callback(
        responses.POST,
        f"{endpoint.rstrip('/')}/",
        callback=tencent_callback(backend, VERSION, _dispatch(backend)),
    )


@contextmanager
def fake_cls_api(
    backend: ClsBackend, *, endpoint: str = DEFAULT_ENDPOINT
) -> Iterator[responses.RequestsMock]:
    """Intercept the CLS API for the duration of the block (any other request fails)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register_cls(mock, backend, endpoint)
        yield mock
