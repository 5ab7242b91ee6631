"""CLS state: topics and their index, dashboards, alarm notices and alarm policies, with the API's checks.

The checks are the ones the SDK's model documentation states (value ranges, types, exclusive
fields); error codes follow the CLS error-code list where one fits, else InvalidParameter.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any, Optional

from tests.fakes.batch.backend import BatchError, ScriptedFaults

_KEY = re.compile(r"^[A-Za-z0-9\-./@][A-Za-z0-9_\-./@]*$")
_VALUE_TYPES = ("long", "text", "double", "json")
_MAX_KEYS = 300
_MAX_DEPTH = 10
_TIME = "2026-11-20 08:35:00"
_SCF_TEXT = "SCF_FunctionName SCF_Namespace SCF_RequestId SCF_Alias SCF_Qualifier SCF_Level SCF_Type"
_SCF_LONG = "SCF_StartTime SCF_LogTime SCF_Duration SCF_StatusCode SCF_RetryNum"


class ClsError(BatchError):
    """An error the CLS API answers with."""


def scf_default_rule() -> dict[str, Any]:
    """An index like the one SCF gives its log topic (assumed: SCF_* keys, SCF_Message as plain text)."""
    text = {"Type": "text", "Tokenizer": "@&?|#()='\",;:<>[]{}/ \n\t\r\\", "SqlFlag": True}
    keys = [{"Key": k, "Value": dict(text)} for k in _SCF_TEXT.split()]
    keys += [{"Key": k, "Value": {"Type": "long", "SqlFlag": True}} for k in _SCF_LONG.split()]
    keys.append({"Key": "SCF_MemUsage", "Value": {"Type": "double", "SqlFlag": True}})
    keys.append({"Key": "SCF_Message", "Value": {**text, "SqlFlag": False}})
    return {
        "FullText": {"CaseSensitive": False, "Tokenizer": text["Tokenizer"], "ContainZH": False},
        "KeyValue": {"CaseSensitive": False, "KeyValues": keys},
    }


@dataclass
class FakeTopic:
    topic_id: str
    logset_id: str
    region: str
    name: str
    rule: Optional[dict[str, Any]] = None
    status: bool = False


class ClsBackend(ScriptedFaults):
    """One account's CLS, per region. `json_index=False`: the topic does not offer the json type."""

    def __init__(self, *, json_index: bool = True) -> None:
        super().__init__()
        self.json_index = json_index
        self.topics: dict[str, FakeTopic] = {}
        self.notices: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.alarms: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    # -- arranging a scenario ------------------------------------------------------------------
    def add_topic(
        self,
        topic_id: str = "0f8e5c2a-1b2c-4d5e-8f90-123456789abc",
        *,
        logset_id: str = "logset-5c2a",
        region: str = "ap-guangzhou",
        scf_index: bool = False,
    ) -> FakeTopic:
        """A log topic; with `scf_index`, the index SCF sets up (SCF_* keys, SCF_Message as text)."""
        topic = FakeTopic(topic_id, logset_id, region, "SCF_logtopic_default")
        if scf_index:
            topic.rule, topic.status = scf_default_rule(), True
        self.topics[topic_id] = topic
        return topic

    def add_notice(self, name: str = "ops on call", *, region: str = "ap-guangzhou") -> str:
        """An alarm notice; returns its id."""
        notice_id = f"notice-{next(self._ids):04d}"
        self.notices[notice_id] = {"AlarmNoticeId": notice_id, "Name": name, "Type": "All", "_region": region}
        return notice_id

    def index_of(self, topic_id: str) -> dict[str, Any]:
        """The topic's index rule (a test's view of the state)."""
        rule = self.topics[topic_id].rule
        assert rule is not None, "the topic has no index"
        return rule

    def mutations(self) -> list[str]:
        """The actions so far that create or change something."""
        return [a for a in self.actions() if a.startswith(("Create", "Modify"))]

    # -- topics and index ----------------------------------------------------------------------
    def _topic(self, topic_id: Any, region: str) -> FakeTopic:
        topic = self.topics.get(str(topic_id))
        if topic is None or topic.region != region:
            raise ClsError("ResourceNotFound.TopicNotExist", f"topic {topic_id} does not exist in {region}")
        return topic

    def describe_topics(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        wanted = _filter_values(params, "topicId")
        topics = [
            {"TopicId": t.topic_id, "LogsetId": t.logset_id, "TopicName": t.name, "Index": t.status}
            for t in self.topics.values()
            if t.region == region and (wanted is None or t.topic_id in wanted)
        ]
        return {"Topics": topics, "TotalCount": len(topics)}

    def describe_index(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        topic = self._topic(params["TopicId"], region)
        answer: dict[str, Any] = {"TopicId": topic.topic_id, "Status": topic.status, "ModifyTime": _TIME}
        if topic.rule is not None:
            answer["Rule"] = copy.deepcopy(topic.rule)
        return answer

    def create_index(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        topic = self._topic(params["TopicId"], region)
        if topic.rule is not None:
            raise ClsError("ResourceInUse.Index", f"topic {topic.topic_id} already has an index: ModifyIndex")
        self._check_rule(params["Rule"])
        topic.rule, topic.status = copy.deepcopy(params["Rule"]), params.get("Status", True) is not False
        return {}

    def modify_index(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        topic = self._topic(params["TopicId"], region)
        if topic.rule is None:
            raise ClsError("ResourceNotFound.IndexNotExist", f"topic {topic.topic_id} has no index")
        if "Rule" in params:
            self._check_rule(params["Rule"])
            topic.rule = copy.deepcopy(params["Rule"])
        if "Status" in params:
            topic.status = bool(params["Status"])
        return {}

    def _check_rule(self, rule: dict[str, Any]) -> None:
        keys = [kv["Key"] for kv in (rule.get("KeyValue") or {}).get("KeyValues") or []]
        if len(set(keys)) != len(keys):
            raise ClsError("InvalidParameter", f"duplicate key-value index keys: {sorted(keys)}")
        for key in keys:
            if any(other.startswith(f"{key}.") for other in keys):
                raise ClsError("InvalidParameter", f"key {key!r} and a child of it are both keys")
        count = 0
        for kv in (rule.get("KeyValue") or {}).get("KeyValues") or []:
            count += self._check_key(kv, depth=1)
        if count > _MAX_KEYS:
            raise ClsError("LimitExceeded", f"{count} keys in the index, at most {_MAX_KEYS}")

    def _check_key(self, kv: dict[str, Any], depth: int) -> int:
        key, value = kv["Key"], kv["Value"]
        where = f"key {key!r}"
        if not _KEY.match(key) or depth + key.count(".") > _MAX_DEPTH:
            raise ClsError(
                "InvalidParameter", f"{where}: letters, digits and _-./@ only, not starting with _"
            )
        kind = value["Type"]
        if kind not in _VALUE_TYPES:
            raise ClsError("InvalidParameter", f"{where}: Type {kind!r} is not one of {_VALUE_TYPES}")
        if kind in ("long", "double") and (value.get("Tokenizer") or value.get("ContainZH")):
            raise ClsError("InvalidParameter", f"{where}: a {kind} field takes no Tokenizer and no ContainZH")
        if kind != "json" and ("ChildNode" in value or "OpenIndexForChildOnly" in value):
            raise ClsError("InvalidParameter", f"{where}: ChildNode and OpenIndexForChildOnly are json only")
        if kind != "json":
            return 1
        if not self.json_index:
            raise ClsError("OperationDenied", f"{where}: the json index type is not enabled for this topic")
        children = value.get("ChildNode") or []
        names = [c["Key"] for c in children]
        if len(set(names)) != len(names):
            raise ClsError("InvalidParameter", f"{where}: duplicate child keys")
        return 1 + sum(self._check_key(child, depth + 1) for child in children)

    # -- dashboards ----------------------------------------------------------------------------
    def describe_dashboards(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        names = _filter_values(params, "dashboardName")
        found = [
            _public(d)
            for d in self.dashboards.values()
            # dashboardName is a fuzzy filter (DescribeDashboardsRequest): a substring matches.
            if names is None or any(n in d["DashboardName"] for n in names)
        ]
        return {"DashboardInfos": found, "TotalCount": len(found)}

    def create_dashboard(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        name = params["DashboardName"]
        if any(d["DashboardName"] == name for d in self.dashboards.values()):
            raise ClsError("InvalidParameter.DashboardNameConflict", f"dashboard {name!r} exists")
        _check_data(params.get("Data"))
        dashboard_id = f"dashboard-{next(self._ids):04d}"
        self.dashboards[dashboard_id] = {
            "DashboardId": dashboard_id,
            "DashboardName": name,
            "Data": params.get("Data", ""),
            "CreateTime": _TIME,
            "UpdateTime": _TIME,
            "DashboardRegion": region,
        }
        return {"DashboardId": dashboard_id}

    def modify_dashboard(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        dashboard = self.dashboards.get(params["DashboardId"])
        if dashboard is None:
            raise ClsError("ResourceNotFound", f"dashboard {params['DashboardId']} does not exist")
        if "Data" in params:
            _check_data(params["Data"])
            dashboard["Data"] = params["Data"]
        dashboard["DashboardName"] = params.get("DashboardName", dashboard["DashboardName"])
        return {}

    # -- alarm notices and alarm policies ------------------------------------------------------
    def describe_alarm_notices(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        ids = _filter_values(params, "alarmNoticeId")
        found = [
            _public(n)
            for n in self.notices.values()
            if n["_region"] == region and (ids is None or n["AlarmNoticeId"] in ids)
        ]
        return {"AlarmNotices": found, "TotalCount": len(found)}

    def describe_alarms(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        names = _filter_values(params, "name")
        found = [
            _public(a)
            for a in self.alarms.values()
            if a["_region"] == region and (names is None or any(n in a["Name"] for n in names))
        ]
        return {"Alarms": found, "TotalCount": len(found)}

    def create_alarm(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        if any(a["Name"] == params["Name"] and a["_region"] == region for a in self.alarms.values()):
            raise ClsError("InvalidParameter.AlarmConflict", f"alarm policy {params['Name']!r} exists")
        self._check_alarm(params, region)
        alarm_id = f"alarm-{next(self._ids):04d}"
        self.alarms[alarm_id] = {**self._stored(params, region), "AlarmId": alarm_id, "_region": region}
        return {"AlarmId": alarm_id}

    def modify_alarm(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        alarm = self.alarms.get(params["AlarmId"])
        if alarm is None or alarm["_region"] != region:
            raise ClsError(
                "ResourceNotFound.AlarmNotExist", f"alarm policy {params['AlarmId']} does not exist"
            )
        merged = {**alarm, **{k: v for k, v in params.items() if k != "AlarmId"}}
        self._check_alarm(merged, region)
        alarm.update(self._stored(merged, region))
        return {}

    def _stored(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        """What DescribeAlarms answers: the request, targets as AlarmTargetInfo, and times."""
        stored = copy.deepcopy({k: v for k, v in params.items() if not k.startswith("_")})
        for target in stored["AlarmTargets"]:
            topic = self._topic(target["TopicId"], region)
            target.setdefault("SyntaxRule", 0)
            target.update(TopicName=topic.name, LogsetName="SCF_logset_default", BizType=0)
        stored.setdefault("AlarmLevel", 0)
        stored.setdefault("Status", True)
        stored.setdefault("MonitorObjectType", 0)
        stored.update(CreateTime=_TIME, UpdateTime=_TIME)
        return stored

    def _check_alarm(self, params: dict[str, Any], region: str) -> None:
        name = params["Name"]
        if "|" in name or len(name.encode()) > 255:
            raise ClsError("InvalidParameter", f"alarm name {name!r}: at most 255 bytes, no '|'")
        targets = params["AlarmTargets"]
        if [t["Number"] for t in targets] != list(range(1, len(targets) + 1)):
            raise ClsError("InvalidParameter", "AlarmTargets Number must count 1, 2, ... in order")
        for target in targets:
            topic = self._topic(target["TopicId"], region)
            if target["LogsetId"] != topic.logset_id:
                raise ClsError("InvalidParameter", f"LogsetId {target['LogsetId']} is not the topic's logset")
            start, end = target["StartTimeOffset"], target["EndTimeOffset"]
            if not -1440 <= start < end <= 0:
                raise ClsError("InvalidParameter", f"time offsets {start}..{end} not within -1440..0")
            if not str(target["Query"]).strip():
                raise ClsError("InvalidParameter", "an AlarmTarget needs a Query")
        monitor = params["MonitorTime"]
        if monitor["Type"] not in ("Period", "Fixed", "Cron"):
            raise ClsError("InvalidParameter", f"MonitorTime.Type {monitor['Type']!r}")
        if monitor["Type"] != "Cron" and not 1 <= monitor.get("Time", 0) <= 1440:
            raise ClsError("InvalidParameter", "MonitorTime.Time must be 1-1440 minutes")
        if not 1 <= params["TriggerCount"] <= 2000 or not 0 <= params["AlarmPeriod"] <= 1440:
            raise ClsError("InvalidParameter", "TriggerCount 1-2000 and AlarmPeriod 0-1440")
        if ("Condition" in params) == ("MultiConditions" in params):
            raise ClsError("InvalidParameter", "exactly one of Condition and MultiConditions")
        if params.get("AlarmLevel", 0) not in (0, 1, 2):
            raise ClsError("InvalidParameter", f"AlarmLevel {params['AlarmLevel']!r}")
        if ("AlarmNoticeIds" in params) == ("MonitorNotice" in params):
            raise ClsError("InvalidParameter", "exactly one of AlarmNoticeIds and MonitorNotice")
        for notice_id in params.get("AlarmNoticeIds") or []:
            notice = self.notices.get(notice_id)
            if notice is None or notice["_region"] != region:
                raise ClsError("ResourceNotFound.AlarmNoticeNotExist", f"alarm notice {notice_id}")


def _filter_values(params: dict[str, Any], key: str) -> Optional[list[str]]:
    for item in params.get("Filters") or []:
        if item["Key"] == key:
            return list(item["Values"])
    return None


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in item.items() if not k.startswith("_")})


def _check_data(data: Any) -> None:
    # Data's format is not documented; the fake asks only that it be a JSON object.
    if data is None:
        return
    try:
        parsed = json.loads(data)
    except (TypeError, ValueError):
        raise ClsError("InvalidParameter", "Data is not JSON") from None
    if not isinstance(parsed, dict):
        raise ClsError("InvalidParameter", "Data is not a JSON object")
