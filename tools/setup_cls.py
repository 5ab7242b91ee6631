"""Print, or create through the CLS SDK, the index, dashboard and alarm policies for the bundle's logs.

    python -m tools.setup_cls --region ap-guangzhou --topic-id <SCF log topic id>     # dry run
    python -m tools.setup_cls --region ap-guangzhou --topic-id <id> --notice-id notice-... --create

SCF writes each stdout line to the function's CLS log topic in the field SCF_Message, and each of
our lines is one JSON object. Every query reads it with json_extract_scalar(SCF_Message, '$.x'),
which needs SCF_Message in the key-value index with analysis (SqlFlag) on: the index set up here,
as the json type with a sub-field per field the lines carry, or with --index text where the topic
does not offer the json type (the queries are the same). --create is idempotent: an index, dashboard
or alarm policy that already matches is left alone, one that differs is modified, and the topic's
other index keys (SCF's own SCF_* fields) are kept. Alarm policies need an existing alarm notice
(--notice-id); without one, --create refuses unless --no-alarms. See docs/cls.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from shared.errors import ConfigError
from shared.log import redact, secret_values

MESSAGE = "SCF_Message"
# CLS's default separators: JSON punctuation and white space split a line into searchable words.
TOKENIZER = "@&?|#()='\",;:<>[]{}/ \n\t\r\\"
INDEX_MODES = ("json", "text")
BUCKET = "10 minute"
DEFAULT_NAME = "batch-events"
DEFAULT_ABNORMAL_RATE_PCT = 20.0
DEFAULT_WINDOW_MIN = 15
PERIOD_MIN = 5  # an alarm runs every 5 minutes over the last --window minutes
LUCENE = 0  # AlarmTarget.SyntaxRule: 0 Lucene, 1 CQL
WARN, CRITICAL = 0, 2  # AlarmLevel
NOTICE_PLACEHOLDER = "<--notice-id>"
LOGSET_PLACEHOLDER = "<the topic's logset, read with DescribeTopics>"


class SetupError(ValueError):
    """Arguments or cloud state that cannot make a working setup."""


class ApiFailure(Exception):
    """A CLS call the API refused: the action, Tencent's error code and message."""

    def __init__(self, action: str, code: str, message: str) -> None:
        super().__init__(f"{action} failed: {code}: {message}")
        self.action = action
        self.code = code


# -- the index ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A field of our JSON lines indexed as a sub-field of SCF_Message: its path and CLS type."""

    path: str
    type: str  # text | long | double
    chinese: bool = False


def _fields(kind: str, names: str, chinese: str = "") -> tuple[Field, ...]:
    return tuple(Field(name, kind, name in chinese.split()) for name in names.split())


# What the lines carry (shared/log.py, shared/concern.py, churn/records.py and summary.py,
# alerting/concern.py, retrying/concern.py). Left out: values that are objects or lists
# (event_vars, counts, channels, records, warnings, lifetime_s) and `events`, a number in
# churn_summary and alert lines but a list in retry decisions; json_extract_scalar still reads
# them from the raw line. node_age_s is a number in node_event lines (what the queries use) and
# an object in churn_summary lines, which the double sub-field skips.
SUB_FIELDS: tuple[Field, ...] = (
    *_fields(
        "text",
        "level msg function request_id kind event region env_id env_name node_id instance_id "
        "node_state state_reason event_time msg_id channel group host reason job_id state action "
        "error_code",
        chinese="env_name state_reason reason",
    ),
    *_fields(
        "long",
        "position record_index attempts attempt max_attempts nodes_seen abnormal_nodes "
        "creation_attempts creation_failures",
    ),
    *_fields("double", "ts cpu mem node_age_s abnormal_rate creation_failure_rate"),
    *_fields(
        "long",
        "summary.records summary.events summary.rejected summary.unknown summary.delivered "
        "summary.failed summary.retried summary.exhausted",
    ),
)


def _leaf(field: Field) -> dict[str, Any]:
    if field.type == "text":
        return {"Type": "text", "Tokenizer": TOKENIZER, "SqlFlag": True, "ContainZH": field.chinese}
    # long and double take no tokenizer and no Chinese (ValueInfo's documentation).
    return {"Type": field.type, "SqlFlag": True}


def child_nodes(fields: Sequence[Field]) -> list[dict[str, Any]]:
    """KeyValueInfo entries for ValueInfo.ChildNode; `a.b` paths become a json node `a` with child `b`."""
    nodes: list[dict[str, Any]] = []
    nested: dict[str, list[Field]] = {}
    for field in fields:
        head, _, rest = field.path.partition(".")
        if not rest:
            nodes.append({"Key": head, "Value": _leaf(field)})
            continue
        if head not in nested:
            nested[head] = []
            nodes.append({"Key": head, "Value": {"Type": "json", "SqlFlag": True}})
        nested[head].append(Field(rest, field.type, field.chinese))
    for node in nodes:
        if node["Key"] in nested:
            node["Value"]["ChildNode"] = child_nodes(nested[node["Key"]])
    return nodes


def message_key(mode: str) -> dict[str, Any]:
    """The KeyValueInfo for SCF_Message: json with sub-fields, or text; analysis on either way."""
    if mode == "text":
        value = {"Type": "text", "Tokenizer": TOKENIZER, "SqlFlag": True, "ContainZH": True}
    else:
        value = {
            "Type": "json",
            "SqlFlag": True,
            "OpenIndexForChildOnly": False,
            "ChildNode": child_nodes(SUB_FIELDS),
        }
    return {"Key": MESSAGE, "Value": value}


def index_rule(mode: str, existing: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """A RuleInfo with SCF_Message as we need it; every other key, tag and setting of `existing` kept."""
    rule = dict(existing or {})
    if not rule.get("FullText"):
        rule["FullText"] = {"CaseSensitive": False, "Tokenizer": TOKENIZER, "ContainZH": True}
    key_value = dict(rule.get("KeyValue") or {"CaseSensitive": False})
    # A parent and its child may not both be keys (KeyValueInfo): SCF_Message.x goes with SCF_Message.
    others = [
        kv
        for kv in key_value.get("KeyValues") or []
        if kv.get("Key") != MESSAGE and not str(kv.get("Key", "")).startswith(f"{MESSAGE}.")
    ]
    key_value["KeyValues"] = [*others, message_key(mode)]
    rule["KeyValue"] = key_value
    return rule


def sub_field_paths(rule: dict[str, Any]) -> set[str]:
    """The dotted paths of SCF_Message's sub-fields in a RuleInfo (what json_extract paths can use)."""

    def walk(nodes: list[dict[str, Any]], prefix: str) -> set[str]:
        paths: set[str] = set()
        for node in nodes:
            path = f"{prefix}{node['Key']}"
            children = node["Value"].get("ChildNode")
            paths |= walk(children, f"{path}.") if children else {path}
        return paths

    for kv in (rule.get("KeyValue") or {}).get("KeyValues") or []:
        if kv.get("Key") == MESSAGE:
            return walk(kv["Value"].get("ChildNode") or [], "")
    return set()


# -- the queries -------------------------------------------------------------------------------


def field(path: str) -> str:
    """A field of our JSON line as text (NULL when absent or null)."""
    return f"json_extract_scalar({MESSAGE}, '$.{path}')"


def number(path: str, sql_type: str = "double") -> str:
    """A numeric field of our JSON line."""
    return f"cast({field(path)} as {sql_type})"


def _is(path: str, *values: str) -> str:
    if len(values) == 1:
        return f"{field(path)} = '{values[0]}'"
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{field(path)} in ({quoted})"


def _count_if(condition: str) -> str:
    return f"sum(case when {condition} then 1 else 0 end)"


def _distinct_nodes_if(condition: str) -> str:
    return f"count(distinct case when {condition} then {NODE} end)"


def statement(search: str, columns: Sequence[str], where: str, tail: str = "") -> str:
    """A CLS query: a search part (full-text keywords), then `| select ... where ...` and the rest."""
    sql = f"{search} | select {', '.join(columns)} where {where}"
    return f"{sql} {tail}" if tail else sql


TIME = f"histogram(cast(__TIMESTAMP__ as timestamp), interval {BUCKET}) as analytic_time"
# One event is its name, environment, node and time, whichever delivery logged it (churn/summary.py's
# event_key); a node is its node id, else its CVM instance id, else (a node event naming neither,
# typically a creation failure) that event itself.
EVENT_KEY = (
    f"concat({field('event')}, '|', coalesce({field('env_id')}, ''), '|', "
    f"coalesce({field('node_id')}, {field('instance_id')}, ''), '|', "
    f"coalesce({field('event_time')}, concat({field('msg_id')}, '#', {field('position')})))"
)
NODE = f"coalesce({field('node_id')}, {field('instance_id')}, {EVENT_KEY})"
NODE_EVENT = _is("kind", "node_event")
CREATED, CREATION_FAILED = "COMPUTE_NODE_CREATED", "COMPUTE_NODE_CREATION_FAILED"
ABNORMAL, DELETING = "COMPUTE_NODE_ABNORMAL", "COMPUTE_NODE_DELETING"
DELIVERED, NOT_DELIVERED = "alert delivered", "alert not delivered"
RETRY_DECISION, EXHAUSTED = "retry decision", "retry budget exhausted"


def abnormal_rate_query() -> str:
    """Per environment: distinct abnormal nodes over distinct nodes with an event, in percent."""
    abnormal = _distinct_nodes_if(_is("event", ABNORMAL))
    return statement(
        "node_event",
        [
            f"{field('env_id')} as env_id",
            f"{abnormal} as abnormal_nodes",
            f"count(distinct {NODE}) as nodes_seen",
            f"round(100.0 * {abnormal} / count(distinct {NODE}), 2) as abnormal_rate_pct",
        ],
        f"{NODE_EVENT} and {field('event')} like 'COMPUTE_NODE_%'",
        "group by env_id order by abnormal_rate_pct desc limit 1000",
    )


def delivery_failures_query() -> str:
    """Lines that say an alert did not reach a channel, and summaries that count failed deliveries."""
    failed_run = f"({_is('msg', 'summary')} and {number('summary.failed', 'bigint')} > 0)"
    return statement(
        "alert OR summary",
        ["count(*) as failures", f"{_count_if(_is('msg', NOT_DELIVERED))} as not_delivered_lines"],
        f"{_is('msg', NOT_DELIVERED)} or {failed_run}",
    )


def exhausted_query() -> str:
    """Jobs whose retry budget ran out."""
    return statement(
        "retry",
        ["count(*) as exhausted", f"count(distinct {field('job_id')}) as jobs"],
        _is("msg", EXHAUSTED),
    )


@dataclass(frozen=True)
class Chart:
    """A dashboard chart: its title, how it is drawn, and its CLS query."""

    title: str
    chart_type: str  # line | bar | table
    query: str


def charts() -> tuple[Chart, ...]:
    """The dashboard's charts, in display order."""
    env = f"{field('env_id')} as env_id"
    deliveries = [
        f"{_count_if(_is('msg', DELIVERED))} as delivered",
        f"{_count_if(_is('msg', NOT_DELIVERED))} as failed",
    ]
    lifetime = number("node_age_s")
    return (
        Chart(
            "Node events per environment",
            "line",
            statement(
                "node_event",
                [TIME, env, f"count(distinct {EVENT_KEY}) as events"],
                NODE_EVENT,
                "group by analytic_time, env_id order by analytic_time limit 10000",
            ),
        ),
        Chart(
            "Churn per environment",
            "table",
            statement(
                "node_event",
                [
                    env,
                    f"max({field('env_name')}) as env_name",
                    f"count(distinct {EVENT_KEY}) as events",
                    f"{_distinct_nodes_if(_is('event', CREATED))} as created",
                    f"{_distinct_nodes_if(_is('event', DELETING))} as deleted",
                    f"{_distinct_nodes_if(_is('event', CREATION_FAILED))} as creation_failed",
                    f"{_distinct_nodes_if(_is('event', ABNORMAL))} as abnormal",
                ],
                NODE_EVENT,
                "group by env_id order by events desc limit 1000",
            ),
        ),
        Chart(
            "Node lifetimes per environment (age at COMPUTE_NODE_DELETING, s)",
            "table",
            statement(
                "node_event",
                [
                    env,
                    f"count(distinct {NODE}) as deleted_nodes",
                    f"min({lifetime}) as min_lifetime_s",
                    f"approx_percentile({lifetime}, 0.5) as median_lifetime_s",
                    f"max({lifetime}) as max_lifetime_s",
                ],
                f"{NODE_EVENT} and {_is('event', DELETING)} and {field('node_age_s')} is not null",
                "group by env_id order by deleted_nodes desc limit 1000",
            ),
        ),
        Chart(
            "Abnormal and creation-failure rates per environment (%)",
            "bar",
            statement(
                "node_event",
                [
                    env,
                    f"count(distinct {NODE}) as nodes_seen",
                    f"round(100.0 * {_distinct_nodes_if(_is('event', ABNORMAL))} / count(distinct {NODE}), 2)"
                    " as abnormal_rate_pct",
                    f"{_distinct_nodes_if(_is('event', CREATED, CREATION_FAILED))} as creation_attempts",
                    f"round(100.0 * {_distinct_nodes_if(_is('event', CREATION_FAILED))} / "
                    f"nullif({_distinct_nodes_if(_is('event', CREATED, CREATION_FAILED))}, 0), 2)"
                    " as creation_failure_rate_pct",
                ],
                f"{NODE_EVENT} and {field('event')} like 'COMPUTE_NODE_%'",
                "group by env_id order by abnormal_rate_pct desc limit 1000",
            ),
        ),
        Chart(
            "Alerts delivered and failed",
            "line",
            statement(
                "alert",
                [TIME, *deliveries],
                _is("msg", DELIVERED, NOT_DELIVERED),
                "group by analytic_time order by analytic_time limit 10000",
            ),
        ),
        Chart(
            "Alert deliveries per channel",
            "bar",
            statement(
                "alert",
                [f"{field('channel')} as channel", *deliveries],
                _is("msg", DELIVERED, NOT_DELIVERED),
                "group by channel order by failed desc limit 100",
            ),
        ),
        Chart(
            "Retry decisions by outcome",
            "line",
            statement(
                "retry",
                [TIME, f"{field('action')} as action", "count(*) as jobs"],
                _is("msg", RETRY_DECISION, EXHAUSTED),
                "group by analytic_time, action order by analytic_time limit 10000",
            ),
        ),
        Chart(
            "Exhausted retry budgets",
            "table",
            statement(
                "retry",
                [
                    f"{field('job_id')} as job_id",
                    f"{field('region')} as region",
                    f"max({number('max_attempts', 'bigint')}) as max_attempts",
                    "count(*) as times",
                    "max(__TIMESTAMP__) as last_seen",
                ],
                _is("msg", EXHAUSTED),
                "group by job_id, region order by last_seen desc limit 100",
            ),
        ),
    )


# -- the alarm policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmSpec:
    """An alarm policy: its name, its query, the condition on the query's columns, its level."""

    name: str
    query: str
    condition: str
    level: int
    about: str


def alarms(prefix: str, abnormal_rate_pct: float) -> tuple[AlarmSpec, ...]:
    """The three alarm policies; CLS checks a condition on each row the query returns."""
    return (
        AlarmSpec(
            f"{prefix}: compute-node abnormal rate",
            abnormal_rate_query(),
            f"$1.abnormal_rate_pct > {abnormal_rate_pct:g}",
            WARN,
            f"an environment with more than {abnormal_rate_pct:g}% of its nodes abnormal",
        ),
        AlarmSpec(
            f"{prefix}: alert delivery failures",
            delivery_failures_query(),
            "$1.failures > 0",
            CRITICAL,
            "any `alert not delivered` line, or a summary with failed > 0",
        ),
        AlarmSpec(
            f"{prefix}: retry budget exhausted",
            exhausted_query(),
            "$1.exhausted > 0",
            WARN,
            "any `retry budget exhausted` line",
        ),
    )


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything --create makes, as data: printable, testable, applied by `apply`."""

    region: str
    topic_id: str
    logset_id: str  # "" = read it from the topic
    index_mode: str
    dashboard_name: str
    charts: tuple[Chart, ...]
    alarms: tuple[AlarmSpec, ...]
    notice_id: str
    window_min: int

    @property
    def period_min(self) -> int:
        """How often each alarm runs."""
        return min(PERIOD_MIN, self.window_min)


def build_plan(
    *,
    region: str,
    topic_id: str,
    logset_id: str = "",
    index_mode: str = "json",
    name: str = DEFAULT_NAME,
    abnormal_rate_pct: float = DEFAULT_ABNORMAL_RATE_PCT,
    window_min: int = DEFAULT_WINDOW_MIN,
    notice_id: str = "",
    with_alarms: bool = True,
) -> Plan:
    """The plan for these settings; SetupError names a setting that cannot work."""
    if not region.strip() or not topic_id.strip():
        raise SetupError("--region and --topic-id must not be empty")
    if not 0 < abnormal_rate_pct <= 100:
        raise SetupError(f"--abnormal-rate is a percentage in (0, 100], not {abnormal_rate_pct:g}")
    if not 1 <= window_min <= 1440:
        raise SetupError(f"--window is in minutes, 1-1440 (AlarmTarget offsets), not {window_min}")
    if not name.strip() or "|" in name:
        raise SetupError(f"--name {name!r} must be non-empty and without '|' (CLS refuses it in names)")
    return Plan(
        region=region.strip(),
        topic_id=topic_id.strip(),
        logset_id=logset_id.strip(),
        index_mode=index_mode,
        dashboard_name=name.strip(),
        charts=charts(),
        alarms=alarms(name.strip(), abnormal_rate_pct) if with_alarms else (),
        notice_id=notice_id.strip(),
        window_min=window_min,
    )


def dashboard_data(plan: Plan) -> str:
    """CreateDashboard's Data: a JSON string of the charts, each with its topic and query."""
    entries = [
        {
            "id": f"chart-{n + 1}",
            "title": chart.title,
            "type": chart.chart_type,
            "layout": {"x": (n % 2) * 12, "y": (n // 2) * 8, "w": 12, "h": 8},
            "query": {
                "TopicId": plan.topic_id,
                "Region": plan.region,
                "Query": chart.query,
                "SyntaxRule": LUCENE,
            },
        }
        for n, chart in enumerate(plan.charts)
    ]
    data = {"version": 1, "timezone": "browser", "time": {"start": "now-24h", "end": "now"}}
    return json.dumps({**data, "charts": entries}, ensure_ascii=False, sort_keys=True)


def alarm_request(plan: Plan, spec: AlarmSpec, logset_id: str) -> dict[str, Any]:
    """CreateAlarm's fields for one policy (ModifyAlarm takes the same plus AlarmId)."""
    target = {
        "TopicId": plan.topic_id,
        "LogsetId": logset_id,
        "Number": 1,
        "Query": spec.query,
        "StartTimeOffset": -plan.window_min,
        "EndTimeOffset": 0,
        "SyntaxRule": LUCENE,
    }
    return {
        "Name": spec.name,
        "AlarmTargets": [target],
        "MonitorTime": {"Type": "Period", "Time": plan.period_min},
        "Condition": spec.condition,
        "AlarmLevel": spec.level,
        "TriggerCount": 1,
        # While the condition holds, notify again once per window, not every run.
        "AlarmPeriod": plan.window_min,
        "AlarmNoticeIds": [plan.notice_id or NOTICE_PLACEHOLDER],
        "Status": True,
    }


def dry_run_lines(plan: Plan) -> list[str]:
    """What --create would send, with every query on a line of its own (paste it into CLS)."""
    logset = plan.logset_id or LOGSET_PLACEHOLDER
    rule = index_rule(plan.index_mode)
    lines = [
        f"# dry run: nothing is sent. CLS {plan.region}, SCF log topic {plan.topic_id}; "
        "add --create to apply.",
        f"# 1. index: {MESSAGE} as {plan.index_mode}"
        + (f" with {len(sub_field_paths(rule))} sub-fields" if plan.index_mode == "json" else "")
        + ", analysis on (CreateIndex, or ModifyIndex keeping the topic's other keys)",
        _request_line("CreateIndex", {"TopicId": plan.topic_id, "Rule": rule, "Status": True}),
        f"# 2. dashboard {plan.dashboard_name!r}: {len(plan.charts)} charts "
        "(CreateDashboard, or ModifyDashboard when one of that name differs)",
    ]
    for chart in plan.charts:
        lines += [f"-- {chart.title} ({chart.chart_type})", chart.query]
    lines.append(
        _request_line("CreateDashboard", {"DashboardName": plan.dashboard_name, "Data": dashboard_data(plan)})
    )
    if not plan.alarms:
        lines.append("# 3. alarm policies: none (--no-alarms)")
        return lines
    lines.append(
        f"# 3. {len(plan.alarms)} alarm policies, each every {plan.period_min} min over the last "
        f"{plan.window_min} min (CreateAlarm, or ModifyAlarm when one of that name differs)"
    )
    for spec in plan.alarms:
        lines += [f"-- {spec.name}: fires on {spec.about} ({spec.condition})", spec.query]
        lines.append(_request_line("CreateAlarm", alarm_request(plan, spec, logset)))
    if not plan.notice_id:
        lines.append(
            "# alarm policies need an alarm notice (who is told, and how): create one in the CLS console "
            "(Monitoring Alarm > Notification Groups) and pass --notice-id, or --no-alarms to skip them"
        )
    return lines


def _request_line(action: str, params: dict[str, Any]) -> str:
    return json.dumps({"Action": action, **params}, ensure_ascii=False)


# -- the applier -------------------------------------------------------------------------------


def request_model(models: Any, action: str, params: dict[str, Any]) -> Any:
    """The SDK's request model for `action` filled from `params`; SetupError on a field it lacks.

    The SDK only warns about unknown fields and then drops them, so a misspelt field would be
    silently missing from the request: here it stops the run instead.
    """
    request = getattr(models, f"{action}Request")()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request._deserialize(params)
    useless = [str(w.message) for w in caught if "useless" in str(w.message)]
    if useless:
        raise SetupError(f"{action}: the SDK's request model does not know: {'; '.join(useless)}")
    return request


def _strip(value: Any) -> Any:
    """An SDK answer without its null fields."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def covers(actual: Any, wanted: Any) -> bool:
    """True when `actual` (what the API answers) has every field of `wanted` with the same value.

    Lists of keyed entries (KeyValueInfo) compare by Key, so the order the API answers in and
    fields the API adds (aliases, defaults) do not count as differences.
    """
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and covers(actual[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        if not isinstance(actual, list) or len(actual) != len(wanted):
            return False
        if all(isinstance(w, dict) and "Key" in w for w in wanted):
            by_key = {a.get("Key"): a for a in actual if isinstance(a, dict)}
            return all(covers(by_key.get(w["Key"]), w) for w in wanted)
        return all(covers(a, w) for a, w in zip(actual, wanted))
    return bool(actual == wanted)


class Cls:
    """The CLS calls: typed SDK requests in, plain dicts out, ApiFailure for a refusal."""

    def __init__(self, client: Any, models: Any) -> None:
        self.client = client
        self.models = models

    def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request; the answer's fields without nulls."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        request = request_model(self.models, action, params)
        try:
            response = getattr(self.client, action)(request)
        except TencentCloudSDKException as exc:
            raise ApiFailure(action, str(exc.get_code()), str(exc.get_message())) from None
        answer: dict[str, Any] = _strip(json.loads(response.to_json_string()))
        return answer


def connect(region: str, endpoint: str = "") -> Cls:
    """A ClsClient with the user's credentials (SCF role variables, else the SDK's chain)."""
    from tencentcloud.cls.v20201016 import cls_client, models

    from shared.cloud import client_profile, credentials

    return Cls(cls_client.ClsClient(credentials(), region, client_profile(endpoint)), models)


def _by_name(items: Any, key: str, name: str) -> Optional[dict[str, Any]]:
    # The name filters may match fuzzily: only the exact name counts.
    same = [item for item in items or [] if item.get(key) == name]
    return same[0] if same else None


def check_topic(cls: Cls, plan: Plan) -> str:
    """The topic's logset id; SetupError when the topic is not in this region or not in --logset-id."""
    answer = cls.call("DescribeTopics", {"Filters": [{"Key": "topicId", "Values": [plan.topic_id]}]})
    topic = _by_name(answer.get("Topics"), "TopicId", plan.topic_id)
    if topic is None:
        raise SetupError(
            f"topic {plan.topic_id} not found in {plan.region}: check --region and --topic-id "
            "(SCF console: the function's log configuration names its topic)"
        )
    logset = str(topic.get("LogsetId") or "")
    if plan.logset_id and plan.logset_id != logset:
        raise SetupError(f"topic {plan.topic_id} is in logset {logset}, not --logset-id {plan.logset_id}")
    return logset


def check_notice(cls: Cls, plan: Plan) -> None:
    """SetupError when the alarm notice does not exist (before any alarm policy is made)."""
    answer = cls.call(
        "DescribeAlarmNotices", {"Filters": [{"Key": "alarmNoticeId", "Values": [plan.notice_id]}]}
    )
    if _by_name(answer.get("AlarmNotices"), "AlarmNoticeId", plan.notice_id) is None:
        raise SetupError(f"alarm notice {plan.notice_id} not found in {plan.region} (--notice-id)")


def ensure_index(cls: Cls, plan: Plan) -> str:
    """CreateIndex, or ModifyIndex when the topic's index lacks ours; one line saying which."""
    try:
        current = cls.call("DescribeIndex", {"TopicId": plan.topic_id})
    except ApiFailure as exc:
        if "IndexNotExist" not in exc.code:
            raise
        current = {}
    rule = current.get("Rule")
    wanted = index_rule(plan.index_mode, rule)
    what = f"index of topic {plan.topic_id} ({MESSAGE} as {plan.index_mode})"
    request = {"TopicId": plan.topic_id, "Rule": wanted, "Status": True}
    if not rule:
        cls.call("CreateIndex", request)
        return f"created: {what}"
    if current.get("Status") is True and covers(rule, wanted):
        return f"unchanged: {what}"
    cls.call("ModifyIndex", request)
    return f"updated: {what}, the topic's other keys kept"


def ensure_dashboard(cls: Cls, plan: Plan) -> str:
    """CreateDashboard, or ModifyDashboard when the one of that name has other charts."""
    data = dashboard_data(plan)
    answer = cls.call(
        "DescribeDashboards",
        {"Filters": [{"Key": "dashboardName", "Values": [plan.dashboard_name]}], "Limit": 100},
    )
    found = _by_name(answer.get("DashboardInfos"), "DashboardName", plan.dashboard_name)
    what = f"dashboard {plan.dashboard_name!r} ({len(plan.charts)} charts)"
    if found is None:
        created = cls.call("CreateDashboard", {"DashboardName": plan.dashboard_name, "Data": data})
        return f"created: {what} {created.get('DashboardId', '')}".rstrip()
    if _same_json(found.get("Data"), data):
        return f"unchanged: {what}"
    cls.call(
        "ModifyDashboard",
        {"DashboardId": found["DashboardId"], "DashboardName": plan.dashboard_name, "Data": data},
    )
    return f"updated: {what} {found['DashboardId']}"


def _same_json(text: Any, data: str) -> bool:
    try:
        return bool(json.loads(str(text)) == json.loads(data))
    except ValueError:
        return False


def ensure_alarm(cls: Cls, plan: Plan, spec: AlarmSpec, logset_id: str) -> str:
    """CreateAlarm, or ModifyAlarm when the policy of that name differs."""
    wanted = alarm_request(plan, spec, logset_id)
    answer = cls.call("DescribeAlarms", {"Filters": [{"Key": "name", "Values": [spec.name]}], "Limit": 100})
    found = _by_name(answer.get("Alarms"), "Name", spec.name)
    what = f"alarm policy {spec.name!r} ({spec.condition})"
    if found is None:
        created = cls.call("CreateAlarm", wanted)
        return f"created: {what} {created.get('AlarmId', '')}".rstrip()
    if covers(found, wanted):
        return f"unchanged: {what}"
    cls.call("ModifyAlarm", {"AlarmId": found["AlarmId"], **wanted})
    return f"updated: {what} {found['AlarmId']}"


def apply(plan: Plan, cls: Cls, say: Callable[[str], None] = print) -> None:
    """Check the topic (and notice), then make the index, the dashboard and each alarm policy."""
    if plan.alarms and not plan.notice_id:
        raise SetupError(_NEEDS_NOTICE)
    logset_id = check_topic(cls, plan)
    if plan.alarms:
        check_notice(cls, plan)
    say(ensure_index(cls, plan))
    say(ensure_dashboard(cls, plan))
    for spec in plan.alarms:
        say(ensure_alarm(cls, plan, spec, logset_id))


_NEEDS_NOTICE = (
    "alarm policies need an existing alarm notice (CreateAlarm's AlarmNoticeIds): create one in the "
    "CLS console (Monitoring Alarm > Notification Groups) and pass --notice-id notice-..., "
    "or pass --no-alarms to create only the index and the dashboard"
)


def _failure_line(exc: ApiFailure, plan: Plan) -> str:
    line = f"error: {exc}; stopped there, nothing after it was changed"
    if exc.action in ("CreateIndex", "ModifyIndex") and plan.index_mode == "json":
        line += " (if the topic does not offer the json index type, run again with --index text)"
    return line


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--region", required=True, help="the topic's region, e.g. ap-guangzhou")
    parser.add_argument("--topic-id", required=True, help="the CLS topic the functions log to")
    parser.add_argument("--logset-id", default="", help="the topic's logset (default: read from the topic)")
    parser.add_argument("--notice-id", default="", help="an existing CLS alarm notice for the alarm policies")
    parser.add_argument("--no-alarms", action="store_true", help="only the index and the dashboard")
    parser.add_argument("--index", choices=INDEX_MODES, default="json", help=f"how {MESSAGE} is indexed")
    parser.add_argument("--name", default=DEFAULT_NAME, help="the dashboard's name and the alarms' prefix")
    parser.add_argument(
        "--abnormal-rate",
        type=float,
        default=DEFAULT_ABNORMAL_RATE_PCT,
        help="percent of an environment's nodes abnormal that raises the alarm",
    )
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW_MIN, help="alarm window, minutes")
    parser.add_argument("--endpoint", default="", help="CLS endpoint override, host or http(s)://host:port")
    parser.add_argument("--create", action="store_true", help="create them (default: print them)")
    args = parser.parse_args(argv)
    try:
        plan = build_plan(
            region=args.region,
            topic_id=args.topic_id,
            logset_id=args.logset_id,
            index_mode=args.index,
            name=args.name,
            abnormal_rate_pct=args.abnormal_rate,
            window_min=args.window,
            notice_id=args.notice_id,
            with_alarms=not args.no_alarms,
        )
        if args.create and plan.alarms and not plan.notice_id:
            raise SetupError(_NEEDS_NOTICE)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.create:
        print("\n".join(dry_run_lines(plan)))
        return 0
    secrets = secret_values()
    try:
        apply(plan, connect(plan.region, args.endpoint))
    except (SetupError, ConfigError) as exc:
        print(redact(f"error: {exc}", secrets), file=sys.stderr)
        return 2
    except ApiFailure as exc:
        print(redact(_failure_line(exc, plan), secrets), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
