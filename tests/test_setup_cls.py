from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses

from tests.fakes.cls import ClsBackend, check_shape, fake_cls_api
from tools import setup_cls

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-guangzhou"
SECRET_ID, SECRET_KEY = "AKIDsetupcls0001", "setup-cls-secret-key-0001"
_PATH = re.compile(r"'\$\.([A-Za-z0-9_.]+)'")
_ALIAS = re.compile(r" as (\w+)")


def _every_query(plan: setup_cls.Plan) -> list[str]:
    return [c.query for c in plan.charts] + [a.query for a in plan.alarms]


def _plan(**settings) -> setup_cls.Plan:
    return setup_cls.build_plan(region=REGION, topic_id="topic-1", notice_id="notice-1", **settings)


@pytest.fixture
def cls_account(monkeypatch):
    """A CLS account with an SCF log topic (no index yet) and an alarm notice, and credentials set."""
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", SECRET_KEY)
    backend = ClsBackend()
    topic = backend.add_topic()
    notice = backend.add_notice()
    return backend, topic.topic_id, notice


def _create(topic_id: str, notice: str, *extra: str) -> int:
    argv = ["--region", REGION, "--topic-id", topic_id, "--notice-id", notice, "--create", *extra]
    return setup_cls.main(argv)


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_prints_every_query_and_sends_nothing(capsys):
    # GIVEN no credentials and no route for any request
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # WHEN the command runs without --create
        code = setup_cls.main(["--region", REGION, "--topic-id", "topic-1", "--notice-id", "notice-1"])
        # THEN nothing went out
        assert len(mock.calls) == 0
    assert code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for query in _every_query(_plan()):
        assert query in lines, "each query is printed on a line of its own, ready to paste"
    actions = [json.loads(line)["Action"] for line in lines if line.startswith("{")]
    assert actions == ["CreateIndex", "CreateDashboard", "CreateAlarm", "CreateAlarm", "CreateAlarm"]
    assert "dry run: nothing is sent" in lines[0]


def test_dry_run_without_a_notice_says_alarms_need_one(capsys):
    assert setup_cls.main(["--region", REGION, "--topic-id", "topic-1"]) == 0
    out = capsys.readouterr().out
    assert "--notice-id" in out and "--no-alarms" in out
    alarm = next(json.loads(line) for line in out.splitlines() if '"CreateAlarm"' in line)
    assert alarm["AlarmNoticeIds"] == [setup_cls.NOTICE_PLACEHOLDER]


# -- the plan ----------------------------------------------------------------------------------


def test_index_sub_fields_cover_every_field_the_queries_read():
    # GIVEN the plan's queries and the json index rule
    plan = _plan()
    indexed = setup_cls.sub_field_paths(setup_cls.index_rule("json"))
    # WHEN the JSON paths are read out of the SQL
    referenced = {path for query in _every_query(plan) for path in _PATH.findall(query)}
    # THEN each one is a sub-field of SCF_Message
    assert referenced, "the queries read fields with json_extract_scalar"
    assert referenced <= indexed, f"not indexed: {sorted(referenced - indexed)}"
    assert "summary.failed" in referenced and "node_age_s" in referenced


def test_both_index_modes_turn_analysis_on_for_scf_message():
    for mode in setup_cls.INDEX_MODES:
        rule = setup_cls.index_rule(mode)
        (message,) = [kv for kv in rule["KeyValue"]["KeyValues"] if kv["Key"] == "SCF_Message"]
        assert message["Value"]["Type"] == mode and message["Value"]["SqlFlag"] is True
        assert rule["FullText"]["CaseSensitive"] is False


def test_every_query_is_a_search_then_a_select():
    for query in _every_query(_plan()):
        search, bar, analysis = query.partition(" | ")
        assert bar and search.strip() and "select" not in search.lower(), query
        assert analysis.startswith("select ") and " where " in analysis, query
        assert query.count("(") == query.count(")") and query.count("'") % 2 == 0, query
        assert ";" not in query and "\n" not in query


def test_each_alarm_condition_reads_a_column_its_query_names():
    for spec in _plan().alarms:
        (column,) = re.findall(r"\$1\.(\w+)", spec.condition)
        assert column in _ALIAS.findall(spec.query), spec.name


def test_queries_match_the_strings_the_functions_log():
    # The values the SQL compares with are the literals the functions write (no drift).
    sources = "".join(
        (ROOT / path).read_text()
        for path in (
            "shared/concern.py",
            "functions/log_node_churn/churn/records.py",
            "functions/log_node_churn/churn/summary.py",
            "functions/alert_failures/alerting/concern.py",
            "functions/retry_interrupted/retrying/concern.py",
        )
    )
    quoted = {value for query in _every_query(_plan()) for value in re.findall(r"'([^']*)'", query)}
    separators = {"", "|", "#"}  # what the natural event key is joined with (churn/summary.py event_key)
    literals = {v for v in quoted if not v.startswith("$.") and "%" not in v and v not in separators}
    assert literals, "the queries compare fields with values"
    for value in literals:
        assert f'"{value}"' in sources, f"{value!r} is not what the functions log"


def test_the_docs_show_every_query_as_the_tool_prints_it():
    docs = (ROOT / "docs" / "cls.md").read_text()
    for query in _every_query(setup_cls.build_plan(region=REGION, topic_id="t")):
        assert f"\n{query}\n" in docs


def test_the_abnormal_rate_threshold_is_the_alarm_condition():
    (abnormal, *_) = _plan(abnormal_rate_pct=35.5).alarms
    assert abnormal.condition == "$1.abnormal_rate_pct > 35.5"
    request = setup_cls.alarm_request(_plan(window_min=30), abnormal, "logset-1")
    assert request["AlarmTargets"][0]["StartTimeOffset"] == -30 and request["AlarmPeriod"] == 30
    assert request["MonitorTime"] == {"Type": "Period", "Time": 5}


@pytest.mark.parametrize(
    "bad", [["--abnormal-rate", "0"], ["--abnormal-rate", "101"], ["--window", "0"], ["--window", "1441"]]
)
def test_settings_outside_their_range_are_refused(bad, capsys):
    assert setup_cls.main(["--region", REGION, "--topic-id", "t", *bad]) == 2
    assert bad[0] in capsys.readouterr().err


def test_a_field_the_sdk_model_lacks_stops_the_run():
    from tencentcloud.cls.v20201016 import models

    with pytest.raises(setup_cls.SetupError, match="Nmae"):
        setup_cls.request_model(models, "CreateAlarm", {"Nmae": "misspelt"})


# -- --create against the fake -----------------------------------------------------------------


def test_create_makes_the_index_the_dashboard_and_three_alarms(cls_account, capsys):
    backend, topic_id, notice = cls_account
    with fake_cls_api(backend):
        assert _create(topic_id, notice) == 0
    assert backend.mutations() == [
        "CreateIndex",
        "CreateDashboard",
        "CreateAlarm",
        "CreateAlarm",
        "CreateAlarm",
    ]
    rule = backend.index_of(topic_id)
    assert setup_cls.sub_field_paths(rule) == {f.path for f in setup_cls.SUB_FIELDS}
    (dashboard,) = backend.dashboards.values()
    charts = json.loads(dashboard["Data"])["charts"]
    assert dashboard["DashboardName"] == "batch-events" and len(charts) == len(setup_cls.charts())
    assert {c["query"]["TopicId"] for c in charts} == {topic_id}
    assert len(backend.alarms) == 3
    for alarm in backend.alarms.values():
        assert alarm["AlarmNoticeIds"] == [notice]
        (target,) = alarm["AlarmTargets"]
        assert (target["TopicId"], target["LogsetId"]) == (topic_id, "logset-5c2a")
        assert (target["StartTimeOffset"], target["EndTimeOffset"]) == (-15, 0)
    assert capsys.readouterr().out.count("created:") == 5


def test_create_keeps_the_scf_keys_of_an_existing_index(monkeypatch, cls_account):
    # GIVEN a topic that already has SCF's index (SCF_* keys, SCF_Message as plain text)
    backend, _, notice = cls_account
    topic = backend.add_topic("topic-scf", scf_index=True)
    before = {kv["Key"] for kv in backend.index_of("topic-scf")["KeyValue"]["KeyValues"]}
    with fake_cls_api(backend):
        assert _create(topic.topic_id, notice) == 0
    # THEN ModifyIndex replaced SCF_Message alone
    assert "ModifyIndex" in backend.mutations() and "CreateIndex" not in backend.mutations()
    keys = {kv["Key"]: kv["Value"] for kv in backend.index_of("topic-scf")["KeyValue"]["KeyValues"]}
    assert set(keys) == before
    assert keys["SCF_Message"]["Type"] == "json" and keys["SCF_FunctionName"]["Type"] == "text"


def test_a_second_create_changes_nothing(cls_account, capsys):
    backend, topic_id, notice = cls_account
    with fake_cls_api(backend):
        assert _create(topic_id, notice) == 0
        made = len(backend.mutations())
        capsys.readouterr()
        assert _create(topic_id, notice) == 0
    assert len(backend.mutations()) == made
    out = capsys.readouterr().out
    assert out.count("unchanged:") == 5 and "created:" not in out


def test_a_new_threshold_modifies_only_that_alarm(cls_account):
    backend, topic_id, notice = cls_account
    with fake_cls_api(backend):
        assert _create(topic_id, notice) == 0
        made = len(backend.mutations())
        assert _create(topic_id, notice, "--abnormal-rate", "35") == 0
    assert backend.mutations()[made:] == ["ModifyAlarm"]
    conditions = sorted(a["Condition"] for a in backend.alarms.values())
    assert "$1.abnormal_rate_pct > 35" in conditions and len(backend.alarms) == 3


def test_no_alarms_makes_the_index_and_the_dashboard_only(cls_account):
    backend, topic_id, _ = cls_account
    with fake_cls_api(backend):
        assert setup_cls.main(["--region", REGION, "--topic-id", topic_id, "--no-alarms", "--create"]) == 0
    assert backend.mutations() == ["CreateIndex", "CreateDashboard"]
    assert "DescribeAlarmNotices" not in backend.actions()


def test_an_index_the_api_says_does_not_exist_is_created(cls_account):
    backend, topic_id, notice = cls_account
    backend.script("ResourceNotFound.IndexNotExist", action="DescribeIndex")
    with fake_cls_api(backend):
        assert _create(topic_id, notice) == 0
    assert backend.mutations()[0] == "CreateIndex"


def test_endpoint_override_sends_every_request_there(cls_account):
    backend, topic_id, notice = cls_account
    with fake_cls_api(backend, endpoint="http://127.0.0.1:18999"):
        assert _create(topic_id, notice, "--endpoint", "http://127.0.0.1:18999") == 0
    assert len(backend.alarms) == 3


# -- refusals and errors -----------------------------------------------------------------------


def test_create_without_a_notice_refuses_before_any_call(cls_account, capsys):
    backend, topic_id, _ = cls_account
    with fake_cls_api(backend):
        assert setup_cls.main(["--region", REGION, "--topic-id", topic_id, "--create"]) == 2
    assert backend.actions() == []
    err = capsys.readouterr().err
    assert "--notice-id" in err and "--no-alarms" in err


def test_an_unknown_notice_is_refused_before_anything_is_made(cls_account, capsys):
    backend, topic_id, _ = cls_account
    with fake_cls_api(backend):
        assert _create(topic_id, "notice-missing") == 2
    assert backend.mutations() == []
    assert "alarm notice notice-missing not found" in capsys.readouterr().err


def test_a_topic_in_another_region_is_named_in_the_error(cls_account, capsys):
    backend, topic_id, notice = cls_account
    with fake_cls_api(backend):
        argv = ["--region", "ap-shanghai", "--topic-id", topic_id, "--notice-id", notice, "--create"]
        assert setup_cls.main(argv) == 2
    assert f"topic {topic_id} not found in ap-shanghai" in capsys.readouterr().err


def test_api_error_is_one_clear_line_without_secrets(cls_account, capsys):
    # GIVEN credentials the API refuses
    backend, topic_id, notice = cls_account
    backend.script("AuthFailure.SecretIdNotFound", times=99)
    with fake_cls_api(backend):
        # WHEN --create runs
        code = _create(topic_id, notice)
    # THEN one line names the call and the code, exits non-zero, and shows no secret
    captured = capsys.readouterr()
    assert code == 1 and backend.mutations() == []
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: DescribeTopics failed: AuthFailure.SecretIdNotFound")
    for secret in (SECRET_ID, SECRET_KEY):
        assert secret not in captured.out + captured.err


def test_a_topic_without_the_json_type_is_told_to_use_index_text(cls_account, capsys):
    backend, topic_id, notice = cls_account
    backend.json_index = False
    with fake_cls_api(backend):
        assert _create(topic_id, notice) == 1
        assert "--index text" in capsys.readouterr().err
        assert _create(topic_id, notice, "--index", "text") == 0
    (message,) = [
        kv for kv in backend.index_of(topic_id)["KeyValue"]["KeyValues"] if kv["Key"] == "SCF_Message"
    ]
    assert message["Value"]["Type"] == "text" and len(backend.alarms) == 3


def test_no_credentials_is_a_clear_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.tencentcloud profile either
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        assert _create("topic-1", "notice-1") == 2
    assert "no Tencent Cloud credentials" in capsys.readouterr().err


# -- the fake itself ---------------------------------------------------------------------------


def test_the_fake_refuses_fields_the_sdk_models_do_not_know(cls_account):
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    backend, topic_id, _ = cls_account
    client = setup_cls.connect(REGION).client
    nested = {
        "TopicId": topic_id,
        "Rule": {"KeyValue": {"CaseSensitive": False, "KeyValues": [{"Key": "a"}]}},
    }
    with fake_cls_api(backend):
        with pytest.raises(TencentCloudSDKException, match="unknown field"):
            client.call_json("CreateAlarm", {"Name": "x", "Bogus": 1})
        with pytest.raises(TencentCloudSDKException, match=r"KeyValues\[0\]: missing required Value"):
            client.call_json("CreateIndex", nested)
    with pytest.raises(Exception, match="must be int"):
        check_shape("MonitorTime", {"Type": "Period", "Time": True}, "MonitorTime")
