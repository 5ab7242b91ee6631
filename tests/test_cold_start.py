"""A handler's import pulls in only what its own path needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT, modules_after

HEAVY = ("tencentcloud", "requests", "urllib3")


def _modules_after_import(function: str) -> set[str]:
    return modules_after("import index", ROOT / "functions" / function)


@pytest.mark.parametrize("function", ["alert_failures", "retry_interrupted", "log_node_churn"])
def test_handler_import_does_not_load_the_sdk_or_requests(function):
    loaded = _modules_after_import(function)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_tests_cannot_reach_the_network():
    import socket

    with pytest.raises(OSError, match="never reach the network"):
        socket.create_connection(("203.0.113.10", 443), timeout=1)


# What a cold start measured as its heaviest standard-library imports (docs/benchmarks.md): none of
# them is needed on any path of any function. `dataclasses` loads inspect, ast and tokenize;
# http.client loads the email package; concurrent.futures loads logging; hashlib loads OpenSSL;
# typing (with contextlib) is 2 ms: annotations are strings, its names are imported for mypy only.
AVOIDED = (
    "dataclasses",
    "inspect",
    "http",
    "email",
    "concurrent",
    "logging",
    "hashlib",
    "typing",
    "contextlib",
)


@pytest.mark.parametrize("function", ["alert_failures", "retry_interrupted", "log_node_churn"])
def test_handler_import_avoids_the_costly_standard_library_modules(function):
    loaded = _modules_after_import(function)
    assert not sorted(m for m in loaded if m.split(".")[0] in AVOIDED)


def test_an_alert_run_with_one_robot_imports_only_that_channel_and_no_optional_feature():
    # GIVEN alert_failures with WeCom alone, no silences, no recovery, no enrichment
    code = (
        "import json, os; os.environ.update(ALERT_DRY_RUN='1', WECOM_WEBHOOK_URL="
        "'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123456')\n"
        "import index\n"
        f"event = json.load(open({str(ROOT / 'events' / 'cmq_topic_job_failed.json')!r}))\n"
        "index.main_handler(event, {'time_limit_in_ms': 3000})"
    )
    loaded = modules_after(code, ROOT / "functions" / "alert_failures")
    # WHEN it alerts one failure THEN only the WeCom channel module and no optional feature was imported
    assert "alerting.channels.wecom" in loaded
    optional = {"dingtalk", "feishu", "slack", "webhook"}
    assert not {f"alerting.channels.{name}" for name in optional} & loaded
    assert not {f"alerting.{m}" for m in ("digest", "recovery", "recover", "silences", "enrich")} & loaded
    assert "threading" not in loaded and "typing" not in loaded


def test_the_alerting_packages_names_are_still_all_there_on_first_use():
    code = (
        f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'functions' / 'alert_failures')!r}]\n"
        "import alerting, alerting.channels as ch\n"
        "missing = [n for n in alerting.__all__ if not hasattr(alerting, n)]\n"
        "missing += [n for n in ch.__all__ if not hasattr(ch, n)]\n"
        "print(missing, ch.channel_class('slack').__name__)\n"
        "try:\n    alerting.nothing\nexcept AttributeError as e:\n    print('AttributeError')"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[] SlackChannel", "AttributeError"]


def test_a_retry_through_the_batch_api_loads_neither_requests_nor_the_sdks_clients():
    # GIVEN retry_interrupted with role credentials, and a Batch API that knows the interrupted job
    from tests.fakes.batch import BatchBackend, batch_callback
    from tests.fakes.loopback import serve

    batch = BatchBackend()
    batch.add_job("job-5ik2gmv8", region="ap-guangzhou")  # the sample's job, FAILED_INTERRUPTED
    event = ROOT / "events" / "cmq_topic_job_failed_interrupted.json"
    with serve({"/": batch_callback(batch)}) as url:
        code = (
            "import json, os; os.environ.update(TENCENTCLOUD_SECRETID='AKIDcold', "
            "TENCENTCLOUD_SECRETKEY='k', TENCENTCLOUD_SESSIONTOKEN='t', RETRY_LEDGER='memory', "
            f"BATCH_ENDPOINT={url!r})\n"
            "import index\n"
            f"index.main_handler(json.load(open({str(event)!r})), {{'time_limit_in_ms': 20000}})"
        )
        loaded = modules_after(code, ROOT / "functions" / "retry_interrupted")
    # WHEN it releases the job's instances THEN it signed its calls without requests, hashlib or any
    # of the SDK (its error type is imported only when a call fails)
    assert batch.actions()[:2] == ["DescribeJob", "TerminateJob"]
    assert "shared.tcapi" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("requests", "urllib3", "hashlib", "uuid", "typing")]
    assert "urllib.parse" not in loaded  # a plain endpoint is read without it (1.5 ms on 3.9)
    assert not [m for m in loaded if m.startswith("tencentcloud")]


def test_the_churn_stream_is_imported_on_the_trigger_path_only():
    # The default delivery is the queue (a timer run), which never streams: its cold start skips it.
    assert "churn.stream" not in _modules_after_import("log_node_churn")
    code = (
        "import contextlib, io, index\n"
        "from tools.generate_event import trigger_event\n"
        "from shared.catalogue import EventName\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    index.main_handler(trigger_event(EventName.COMPUTE_NODE_RUNNING, records=1), {})"
    )
    assert "churn.stream" in modules_after(code, ROOT / "functions" / "log_node_churn")
