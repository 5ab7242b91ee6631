"""Check your settings before a local run or a deploy: every problem at once, with the functions' own loaders.

    python -m tools.doctor                          # the environment and .env (make doctor)
    python -m tools.doctor --delivery queue         # and what that path (queue, http or cmq) needs
    python -m tools.doctor --delivery queue --cloud # and, with your credentials, what only the cloud knows
    python -m tools.doctor --send-test              # post one "batch-events doctor test" message per channel

Settings come from the environment and the `.env` at the repository root (the environment wins, as for
`make invoke`); nothing is written back to either. The checks:

- a name that looks like a setting (ALERT_..., WECOM_..., a near miss of one) but that no code reads:
  "did you mean"; names are case-sensitive;
- each function's settings as serverless.yml passes them (only those it reads on the path), loaded by
  the function's own loader (alerting.config, retrying.config, shared.poller's PollSettings), with
  each setting also read by the shared/settings.py reader the code declares for it; a loader stops at
  its first error, so the setting it names is set aside and the loader run again, until all are found;
- the path's own needs: the queue path's endpoint and key pair, the http path's PUSH_TOKEN, and the
  variables serverless.yml itself reads (REGION, EXECUTION_ROLE, BATCH_TOPIC) when --delivery is given.

The effective settings of each function are printed with secrets masked. --cloud also asks, with your
own credentials (TENCENTCLOUD_SECRET_ID / _KEY, the CLI's TENCENT_SECRET_ID / _KEY, or a profile), only
read-only APIs: the topic (DescribeCmqTopicDetail), each function's queue and its attributes
(DescribeCmqQueueDetail: receiving from the queue would hide a message for the visibility timeout),
the topic's subscriptions and, on http, that each push carries PUSH_TOKEN (DescribeCmqSubscriptionDetail),
and that the Tag API accepts a job resource (GetResources, as the retry ledger reads it). Chat channels
are contacted only with --send-test. The exit status is 1 when any problem was found.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import hmac
import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from urllib.parse import parse_qs, urlparse

from tools.deploy_config import DELIVERIES, FUNCTIONS, QUEUE_RETENTION_S, FunctionSpec, queue_name
from tools.settings_reference import PENDING, RAW_GET, Setting, default_text
from tools.settings_reference import load as load_reference

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_NAMES = tuple(spec.name for spec in FUNCTIONS)
ALL_FUNCTIONS = "all functions"
# Families of the bundle's names: an unknown name in one of them is most likely a typo.
FAMILIES = (
    "ALERT_",
    "RETRY_",
    "WECOM_",
    "DINGTALK_",
    "FEISHU_",
    "SLACK_",
    "CMQ_",
    "POLL_",
    "PUSH_",
    "BATCH_",
    "CAPTURE_",
    "CHURN_",
)
RETIRED_PREFIX = "CHURN_"
# Names that are not function settings but that the bundle's files read: serverless.yml's own
# variables, the CLI's and the SDK's credentials, the tools' overrides.
OTHER_NAMES = frozenset(
    {
        "REGION",
        "BATCH_TOPIC",
        "EXECUTION_ROLE",
        "TENCENT_SECRET_ID",
        "TENCENT_SECRET_KEY",
        "TENCENT_TOKEN",
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_SESSION_TOKEN",
        "TENCENTCLOUD_SECRETID",
        "TENCENTCLOUD_SECRETKEY",
        "TENCENTCLOUD_SESSIONTOKEN",
        "TDMQ_ENDPOINT",
        "LOCAL_REGION",
        "SERVERLESS_PLATFORM_VENDOR",
        "SLS_GEO_LOCATION",
    }
)
CLOSE_CUTOFF = 0.8
MIN_PUSH_TOKEN = 16
SEND_TEST_BUDGET_S = 20.0
TEST_TITLE = "batch-events doctor test"
TEST_JOB_ID = "job-doctortest"
PLACEHOLDER_JOB_ID = "job-00000000"  # GetResources on a job that does not exist answers an empty list
_NAME_TOKEN = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")

Loader = Callable[[Mapping[str, str]], Any]


class CloudError(Exception):
    """A Tencent Cloud API's error answer (or no answer)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Report:
    """What the doctor found: problems (exit 1), notes, each function's effective settings, cloud checks."""

    paths: tuple[str, ...] = ()
    sources: list[str] = field(default_factory=list)
    effective: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _problems: dict[str, list[str]] = field(default_factory=dict)

    def problem(self, scope: str, message: str) -> None:
        """Record a problem once per message; the scopes (functions) it applies to are merged."""
        scopes = self._problems.setdefault(message, [])
        if scope not in scopes:
            scopes.append(scope)

    @property
    def problems(self) -> list[str]:
        """Every problem, `[scope] message`, in the order found."""
        out = []
        for message, found in self._problems.items():
            scopes = found
            if set(FUNCTION_NAMES) <= set(found):
                scopes = [ALL_FUNCTIONS, *(s for s in found if s not in FUNCTION_NAMES)]
            out.append(f"[{', '.join(scopes)}] {message}")
        return out

    def text(self) -> str:
        """The report as the command prints it."""
        lines = [f"settings from: {', '.join(self.sources)}"]
        lines.append(
            "delivery path: "
            + (", ".join(self.paths) if self.paths else "none chosen (pass --delivery queue, http or cmq)")
        )
        for function, rows in self.effective.items():
            lines += ["", f"{function}:"]
            if not rows:
                lines.append("  (no settings)")
            width = max((len(name) for name, _ in rows), default=0)
            lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
        if self.checks:
            lines += ["", "cloud:", *(f"  {line}" for line in self.checks)]
        if self.notes:
            lines += ["", "notes:", *(f"  - {note}" for note in self.notes)]
        problems = self.problems
        lines.append("")
        if problems:
            lines.append(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}:")
            lines += [f"  - {p}" for p in problems]
        else:
            lines.append("no problems found")
        return "\n".join(lines) + "\n"


# --- reading the environment -------------------------------------------------------------------------


def read_environment(env_file: Optional[Path], base: Mapping[str, str], report: Report) -> dict[str, str]:
    """A copy of `base` with the .env lines it does not set (tools.invoke.load_dotenv, on the copy)."""
    from tools.invoke import load_dotenv

    env = dict(base)
    report.sources.append("the environment")
    if env_file is None:
        return env
    try:
        loaded = load_dotenv(env_file, env)
    except SystemExit as exc:  # load_dotenv's message names the file and line
        report.problem("env file", str(exc))
        return env
    if env_file.is_file():
        report.sources.append(f"{env_file} ({len(loaded)} names)")
    return env


def _function_folders() -> None:
    """Each function's folder on sys.path, for its own package (alerting, retrying, churn)."""
    for entry in (ROOT, *(ROOT / "functions" / f for f in FUNCTION_NAMES)):
        if str(entry) not in sys.path:
            sys.path.insert(0, str(entry))


def known_names(settings: Sequence[Setting]) -> set[str]:
    """Every name the bundle reads: the functions' settings and the other names above."""
    return {s.name for s in settings} | set(OTHER_NAMES)


def unknown_names(env: Mapping[str, str], known: set[str], report: Report) -> None:
    """Names that look like the bundle's but that no code reads."""
    upper = {name.upper(): name for name in known}
    for name in sorted(env):
        if name in known:
            continue
        family = name.upper().startswith(FAMILIES)
        close = difflib.get_close_matches(name.upper(), list(upper), n=1, cutoff=CLOSE_CUTOFF)
        if not family and not close:
            continue
        if name.upper() in upper:
            report.problem(
                "names", f"{name} is not read: names are case-sensitive; did you mean {upper[name.upper()]}?"
            )
        elif name in PENDING:
            report.problem("names", f"{name} is not read by this version of the code yet")
        elif name.upper().startswith(RETIRED_PREFIX):
            report.problem(
                "names",
                f"{name} is not read: log_node_churn has no settings (the churn figures are in CLS, "
                "docs/cls.md)",
            )
        elif close:
            report.problem(
                "names", f"{name} is not a setting any code reads; did you mean {upper[close[0]]}?"
            )
        else:
            report.problem("names", f"{name} is not a setting any code reads (docs/settings.md lists them)")


def detect_paths(env: Mapping[str, str], settings: Sequence[Setting]) -> tuple[str, ...]:
    """The paths whose own settings (read on that path only) are set."""
    found = []
    for delivery in DELIVERIES:
        own = [s.name for s in settings if s.paths == (delivery,)]
        if any(env.get(name, "").strip() for name in own):
            found.append(delivery)
    return tuple(found)


def _topic(env: Mapping[str, str]) -> str:
    return env.get("BATCH_TOPIC", "").strip()


def function_env(
    env: Mapping[str, str], spec: FunctionSpec, paths: Sequence[str], settings: Sequence[Setting]
) -> dict[str, str]:
    """The function's environment as serverless.yml gives it: the settings it reads on the paths."""
    names = [s.name for s in settings if any(s.read_on(spec.name, p) for p in paths or ("cmq",))]
    out = {name: env[name] for name in names if name in env}
    if "queue" in paths and _topic(env):
        out["CMQ_QUEUE_NAME"] = queue_name(_topic(env), spec)
    return out


# --- loading with the functions' own code ------------------------------------------------------------


def _named_setting(message: str, env: Mapping[str, str]) -> Optional[str]:
    """The first setting a ConfigError names that is set (the one to set aside to find the next error)."""
    for token in _NAME_TOKEN.findall(message):
        if env.get(token, "").strip():
            return str(token)
    return None


def every_error(load: Loader, env: Mapping[str, str]) -> list[str]:
    """Each ConfigError `load` raises, the setting it names set aside before the next try."""
    from shared.errors import ConfigError

    trial = dict(env)
    errors: list[str] = []
    for _ in range(len(trial) + 1):
        try:
            load(trial)
            return errors
        except ConfigError as exc:
            errors.append(str(exc))
            culprit = _named_setting(str(exc), trial)
            if culprit is None:
                return errors
            del trial[culprit]
        except Exception as exc:  # a loader's bug must not hide the other findings
            errors.append(f"the loader raised {type(exc).__name__}: {exc}")
            return errors
    return errors


def declared_reads(setting: Setting, function: str, env: Mapping[str, str]) -> list[str]:
    """The setting read by each shared/settings.py reader the function's code declares for it."""
    import shared.settings as readers
    from shared.errors import ConfigError
    from tools.settings_reference import NOT_LITERAL

    errors = []
    for read in setting.reads:
        if read.reader == RAW_GET or (read.function not in (None, function)):
            continue
        if any(value is NOT_LITERAL for value in read.args.values()):
            continue  # the function's loader reads it (e.g. an events default from the catalogue)
        reader = getattr(readers, read.reader, None)
        if reader is None:
            continue
        try:
            reader(setting.name, env=env, **dict(read.args))
        except ConfigError as exc:
            errors.append(str(exc))
    return errors


def loaders(function: str, paths: Sequence[str]) -> list[Loader]:
    """The function's own configuration loaders on those paths."""
    _function_folders()
    out: list[Loader] = []
    if function == "alert_failures":
        from alerting.config import load_config as load_alert

        out.append(load_alert)
    elif function == "retry_interrupted":
        from retrying.config import load_config as load_retry

        out.append(load_retry)
    if "queue" in paths:
        from shared.poller import PollSettings

        out.append(PollSettings.from_env)
    return out


def path_checks(fenv: Mapping[str, str], paths: Sequence[str]) -> list[str]:
    """What the paths need beyond the loaders: the endpoints parse, the key pair is whole, a push token."""
    from shared.errors import ConfigError

    errors = []
    batch = fenv.get("BATCH_ENDPOINT", "").strip()
    if batch:
        from shared.cloud import parse_endpoint

        try:
            parse_endpoint(batch)
        except ConfigError as exc:
            errors.append(f"BATCH_ENDPOINT: {exc}")
    if "queue" in paths:
        endpoint = fenv.get("CMQ_ENDPOINT", "").strip()
        if endpoint:
            from shared.cmq_data import CmqDataClient

            try:
                CmqDataClient(endpoint, "check", "check")
            except ConfigError as exc:
                errors.append(str(exc))
        pair = [fenv.get(n, "").strip() for n in ("CMQ_SECRET_ID", "CMQ_SECRET_KEY")]
        if any(pair) and not all(pair):
            errors.append(
                "set both CMQ_SECRET_ID and CMQ_SECRET_KEY or neither: with one of them the poller "
                "ignores it and uses the execution role's credentials"
            )
    if "http" in paths and not fenv.get("PUSH_TOKEN", "").strip():
        errors.append("PUSH_TOKEN is not set: the function refuses every push (403)")
    return errors


def _plain(text: str) -> str:
    """Markdown default text for a terminal: no backticks, no enclosing parentheses."""
    text = text.replace("`", "")
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def shown_value(name: str, value: str, secrets: Sequence[str]) -> str:
    """A value fit to print: a secret setting masked, secrets inside any other value scrubbed."""
    from shared.log import REDACTED, is_secret_name, redact

    if is_secret_name(name):
        return f"{REDACTED} (set, {len(value)} characters)"
    return redact(value, secrets)


def check_functions(
    env: Mapping[str, str], paths: Sequence[str], settings: Sequence[Setting], report: Report
) -> dict[str, dict[str, str]]:
    """Load every function's configuration; record its effective settings and every error."""
    from shared.log import redact, secret_values

    secrets = secret_values(env)
    envs: dict[str, dict[str, str]] = {}
    for spec in FUNCTIONS:
        fenv = function_env(env, spec, paths, settings)
        envs[spec.name] = fenv
        errors: list[str] = []
        rows: list[tuple[str, str]] = []
        for setting in settings:
            if not any(setting.read_on(spec.name, p) for p in paths or ("cmq",)):
                continue
            value = fenv.get(setting.name, "").strip()
            if value:
                shown = shown_value(setting.name, value, secrets)
                if setting.name == "CMQ_QUEUE_NAME" and _topic(env):
                    shown += " (from BATCH_TOPIC, as serverless.yml sets it)"
                rows.append((setting.name, shown))
            else:
                rows.append((setting.name, f"unset: {_plain(default_text(setting))}"))
            errors += declared_reads(setting, spec.name, fenv)
        try:
            found = loaders(spec.name, paths)
        except Exception as exc:  # the function's own code does not import: nothing else can be checked
            found = []
            errors.append(f"the function's configuration code does not import: {type(exc).__name__}: {exc}")
        for load in found:
            errors += every_error(load, fenv)
        errors += path_checks(fenv, paths)
        report.effective[spec.name] = rows
        for error in errors:
            report.problem(spec.name, redact(error, secrets))
    if "queue" in paths and not _topic(env) and env.get("CMQ_QUEUE_NAME", "").strip():
        report.notes.append(
            "CMQ_QUEUE_NAME is used as it is, for every function (a local run); serverless.yml ignores it "
            "and names each function's queue <BATCH_TOPIC>-<function>"
        )
    token = env.get("PUSH_TOKEN", "").strip()
    if "http" in paths and token and len(token) < MIN_PUSH_TOKEN:
        report.notes.append(
            f"PUSH_TOKEN has {len(token)} characters: use a long random one (`openssl rand -hex 32`)"
        )
    return envs


def deploy_variables(env: Mapping[str, str], delivery: str, report: Report) -> None:
    """The variables serverless.yml itself reads on that path (REGION, EXECUTION_ROLE, BATCH_TOPIC)."""
    from tools.render_serverless import render

    used = set(re.findall(r"\$\{env:([A-Z0-9_]+)\}", render(delivery)))
    for name in sorted(used & {"REGION", "EXECUTION_ROLE", "BATCH_TOPIC"}):
        if not env.get(name, "").strip():
            report.problem(
                "deploy", f"{name} is not set: serverless.yml reads ${{env:{name}}} on the {delivery} path"
            )


# --- the cloud (--cloud) -----------------------------------------------------------------------------


def user_credentials(env: Mapping[str, str]) -> tuple[Any, str]:
    """Your credentials: the SDK's names, the CLI's names, SCF's role names, else the SDK's default chain."""
    from tencentcloud.common import credential

    for id_name, key_name, token_name in (
        ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"),
        ("TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_TOKEN"),
        ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"),
    ):
        secret_id, secret_key = env.get(id_name, "").strip(), env.get(key_name, "").strip()
        if secret_id and secret_key:
            token = env.get(token_name, "").strip() or None
            return credential.Credential(secret_id, secret_key, token), f"{id_name} / {key_name}"
    from shared.cloud import credentials

    return credentials({}), "the SDK's default chain (profile or instance role)"


def call(client: Any, models: Any, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """One API call through the SDK, as a dict; CloudError for an error answer."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    request = getattr(models, f"{action}Request")()
    request._deserialize(dict(params))
    try:
        response = getattr(client, action)(request)
    except TencentCloudSDKException as exc:
        raise CloudError(str(exc.get_code()), str(exc.get_message())) from None
    data = json.loads(response.to_json_string())
    return data if isinstance(data, dict) else {}


def subscriptions(client: Any, models: Any, topic: str) -> list[dict[str, Any]]:
    """Every subscription of the topic (pages of 50)."""
    out: list[dict[str, Any]] = []
    while True:
        page = call(
            client,
            models,
            "DescribeCmqSubscriptionDetail",
            {"TopicName": topic, "Offset": len(out), "Limit": 50},
        )
        items = [s for s in page.get("SubscriptionSet") or [] if isinstance(s, dict)]
        out += items
        if not items or len(out) >= int(page.get("TotalCount") or 0):
            return out


def check_queue(client: Any, models: Any, spec: FunctionSpec, name: str, report: Report) -> None:
    """The function's queue exists, and keeps a message hidden for longer than a polling run."""
    from tools.render_serverless import timeout_for

    try:
        queue = call(client, models, "DescribeCmqQueueDetail", {"QueueName": name}).get("QueueDescribe") or {}
    except CloudError as exc:
        report.problem(
            spec.name,
            f"queue {name}: DescribeCmqQueueDetail answered {exc} (setup_delivery --create makes it)",
        )
        return
    visibility = int(queue.get("VisibilityTimeout") or 0)
    retention = int(queue.get("MsgRetentionSeconds") or 0)
    timeout = timeout_for(spec, "queue")
    parts = [f"visibility {visibility} s", f"retention {retention} s"]
    if visibility < timeout:
        report.problem(
            spec.name,
            f"queue {name}: visibility timeout {visibility} s is shorter than the {timeout} s polling run: "
            "a message being handled would be handed to the next run",
        )
    if retention and retention < QUEUE_RETENTION_S:
        report.notes.append(
            f"queue {name} keeps messages {retention} s; setup_delivery asks for {QUEUE_RETENTION_S} s"
        )
    policy = queue.get("DeadLetterPolicy")
    if isinstance(policy, dict) and policy.get("DeadLetterQueue"):
        parts.append(
            f"dead letters to {policy['DeadLetterQueue']} after {policy.get('MaxReceiveCount')} receives"
        )
    else:
        report.notes.append(
            f"queue {name} has no dead-letter policy: a message that keeps failing stays until it expires"
        )
    report.checks.append(f"ok: queue {name} exists ({', '.join(parts)})")


def check_push_tokens(subs: Iterable[Mapping[str, Any]], token: str, topic: str, report: Report) -> None:
    """Each http subscription of the topic pushes with ?token=PUSH_TOKEN."""
    pushes = [s for s in subs if str(s.get("Protocol", "")).lower() == "http"]
    if not pushes:
        report.problem("http", f"topic {topic} has no http subscription: nothing pushes to the functions")
        return
    for sub in pushes:
        name = sub.get("SubscriptionName", "?")
        given = (parse_qs(urlparse(str(sub.get("Endpoint", ""))).query).get("token") or [""])[0]
        if not given:
            report.problem("http", f"subscription {name} pushes without ?token=: every push is refused (401)")
        elif not token or not hmac.compare_digest(given.encode(), token.encode()):
            report.problem(
                "http",
                f"subscription {name} pushes with a token that is not PUSH_TOKEN: every push is refused "
                "(403)",
            )
        else:
            report.checks.append(f"ok: subscription {name} pushes with PUSH_TOKEN")


def check_tag_api(
    cred: Any, region: str, env: Mapping[str, str], report: Report, *, uin: str, job_id: str
) -> None:
    """GetResources on a job resource, named as the retry ledger names it (read-only)."""
    _function_folders()
    from retrying.ledger import job_resource
    from tencentcloud.tag.v20180813 import models, tag_client

    from shared.cloud import client_profile

    if env.get("RETRY_LEDGER", "").strip().lower() == "memory":
        report.checks.append("skipped: the Tag API (RETRY_LEDGER=memory keeps no tags)")
        return
    if not uin:
        report.notes.append(
            "the Tag API was not checked: set RETRY_ACCOUNT_UIN (or pass --uin) to name a job resource"
        )
        return
    resource = job_resource(region, uin, job_id)
    client = tag_client.TagClient(cred, region, client_profile(""))
    try:
        data = call(client, models, "GetResources", {"ResourceList": [resource]})
    except CloudError as exc:
        report.problem(
            "retry_interrupted",
            f"the Tag API refused GetResources on {resource}: {exc} (see docs/open-points.md; "
            "RETRY_LEDGER=memory is the fallback)",
        )
        return
    found = len(data.get("ResourceTagMappingList") or [])
    report.checks.append(f"ok: the Tag API answers GetResources on {resource} ({found} tagged)")


def check_cloud(
    env: Mapping[str, str], paths: Sequence[str], report: Report, *, uin: str = "", job_id: str = ""
) -> None:
    """The read-only cloud checks (--cloud)."""
    from tencentcloud.tdmq.v20200217 import models, tdmq_client

    from shared.cloud import client_profile
    from shared.errors import ConfigError

    region = env.get("REGION", "").strip()
    if not region:
        report.problem("cloud", "REGION is not set: the cloud checks need the region of the topic and queues")
        return
    try:
        cred, source = user_credentials(env)
    except ConfigError as exc:
        report.problem("cloud", str(exc))
        return
    report.checks.append(
        f"credentials: {source} (your own, not the execution role's: its policy is not tested)"
    )
    topic = _topic(env)
    tdmq = tdmq_client.TdmqClient(cred, region, client_profile(env.get("TDMQ_ENDPOINT", "")))
    if paths and not topic:
        report.problem("cloud", "BATCH_TOPIC is not set: the topic and its subscriptions cannot be looked up")
    elif paths:
        try:
            call(tdmq, models, "DescribeCmqTopicDetail", {"TopicName": topic})
            report.checks.append(f"ok: topic {topic} exists in {region}")
        except CloudError as exc:
            report.problem("cloud", f"topic {topic}: DescribeCmqTopicDetail answered {exc}")
    subs: Optional[list[dict[str, Any]]] = None
    if topic and ("queue" in paths or "http" in paths):
        try:
            subs = subscriptions(tdmq, models, topic)
        except CloudError as exc:
            report.problem("cloud", f"topic {topic}: DescribeCmqSubscriptionDetail answered {exc}")
    if "queue" in paths and topic:
        for spec in FUNCTIONS:
            name = queue_name(topic, spec)
            check_queue(tdmq, models, spec, name, report)
            if subs is None:
                continue
            if any(str(s.get("Protocol", "")).lower() == "queue" and s.get("Endpoint") == name for s in subs):
                report.checks.append(f"ok: topic {topic} delivers to queue {name}")
            else:
                report.problem(
                    spec.name,
                    f"no subscription of topic {topic} delivers to queue {name} (setup_delivery --create)",
                )
    if "http" in paths and subs is not None:
        check_push_tokens(subs, env.get("PUSH_TOKEN", "").strip(), topic, report)
    check_tag_api(
        cred,
        region,
        env,
        report,
        uin=uin or env.get("RETRY_ACCOUNT_UIN", "").strip(),
        job_id=job_id or PLACEHOLDER_JOB_ID,
    )


# --- test messages (--send-test) ---------------------------------------------------------------------


def _replace_existing(obj: Any, **changes: Any) -> Any:
    """`obj` (a settings NamedTuple, or a dataclass) with only the fields it has changed (the config
    may gain or lose some)."""
    if hasattr(obj, "_replace"):
        return obj._replace(**{k: v for k, v in changes.items() if k in obj._fields})
    names = {f.name for f in dataclasses.fields(obj)}
    return dataclasses.replace(obj, **{k: v for k, v in changes.items() if k in names})


def test_message(region: str) -> Any:
    """The parsed input of one JOB_RUNNING event of a job named TEST_TITLE: a NOTICE, not a failure."""
    from shared.envelope import parse_bodies
    from shared.models import SourceRecord

    event = {
        "EventVersion": "1.0",
        "EventTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Region": region,
        "EventName": "JOB_RUNNING",
        "Batch": {
            "JobId": TEST_JOB_ID,
            "JobName": TEST_TITLE,
            "JobState": "RUNNING",
            "StateReason": "a test message from tools.doctor --send-test; no job failed",
        },
    }
    return parse_bodies([(SourceRecord(msg_id=None), json.dumps({"Events": [event]}))])


def send_tests(
    fenv: Mapping[str, str], report: Report, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """One test message per configured channel, sent by alert_failures' own concern (its channels,
    signing and sender), with the channels' mentions, enrichment and the dry run switched off."""
    import io

    _function_folders()
    try:
        from alerting.concern import alert_failures
        from alerting.config import load_config
        from alerting.mentions import Mentions
    except Exception as exc:  # the function's code does not import: already a problem above
        report.notes.append(f"no test message sent: alert_failures' code does not import ({exc})")
        return
    from shared.catalogue import EventName
    from shared.errors import ConfigError
    from shared.invocation import Invocation
    from shared.log import JsonLogger

    try:
        cfg = load_config(fenv)
    except ConfigError:
        report.notes.append("no test message sent: alert_failures' settings have problems (below)")
        return
    if not cfg.channels:
        report.notes.append("no test message sent: no chat channel or webhook is configured")
        return
    region = fenv.get("REGION", "").strip() or "ap-guangzhou"
    quiet = _replace_existing(
        cfg,
        channels=tuple(_replace_existing(c, mentions=Mentions()) for c in cfg.channels),
        events=frozenset(cfg.events) | {EventName.JOB_RUNNING},
        dry_run=False,
        enrich=False,
    )
    stream = io.StringIO()
    invocation = Invocation(
        function_name="alert_failures", region=region, time_limit_ms=int(SEND_TEST_BUDGET_S * 1000)
    )
    outcome = alert_failures(
        test_message(region),
        invocation,
        JsonLogger("alert_failures", "doctor", stream),
        config=quiet,
        sleep=sleep,
    )
    reasons: dict[str, str] = {}
    for line in stream.getvalue().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("msg") == "alert not delivered":
            reasons[str(record.get("channel"))] = str(record.get("reason", ""))
    channels = outcome.summary.get("channels") or {}
    for name, counts in channels.items():
        if counts.get("delivered"):
            report.checks.append(f"ok: {name} accepted the test message")
        else:
            why = reasons.get(name) or "not sent (silenced, or no group was made)"
            report.problem("alert_failures", f"{name} did not take the test message: {why}")


# --- the command -------------------------------------------------------------------------------------


def diagnose(
    base: Mapping[str, str],
    *,
    env_file: Optional[Path] = None,
    delivery: Optional[str] = None,
    cloud: bool = False,
    send_test: bool = False,
    uin: str = "",
    job_id: str = "",
) -> Report:
    """Everything the command checks, as a Report."""
    report = Report()
    env = read_environment(env_file, base, report)
    settings, reference_problems = load_reference()
    for problem in reference_problems:
        report.notes.append(f"settings reference: {problem}")
    unknown_names(env, known_names(settings), report)
    paths = (delivery,) if delivery else detect_paths(env, settings)
    report.paths = paths
    if delivery:
        deploy_variables(env, delivery, report)
    envs = check_functions(env, paths, settings, report)
    if cloud:
        check_cloud(env, paths, report, uin=uin, job_id=job_id)
    if send_test:
        send_tests({**envs["alert_failures"], "REGION": env.get("REGION", "")}, report)
    elif any(env.get(s.name, "").strip() for s in settings if s.name.endswith("_WEBHOOK_URL")):
        report.notes.append("chat channels were not contacted: --send-test posts one test message to each")
    return report


def main(argv: Optional[Sequence[str]] = None, environ: Optional[Mapping[str, str]] = None) -> int:
    """Command line: print the report; exit 1 when it lists a problem."""
    import os

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--delivery", choices=DELIVERIES, help="the path to check (default: the one set up)")
    parser.add_argument("--env-file", default=str(ROOT / ".env"), help="default: .env at the repository root")
    parser.add_argument("--cloud", action="store_true", help="also run the read-only cloud checks")
    parser.add_argument("--send-test", action="store_true", help="post one test message to each channel")
    parser.add_argument(
        "--uin", default="", help="account UIN for the Tag API check (default RETRY_ACCOUNT_UIN)"
    )
    parser.add_argument(
        "--job-id", default="", help=f"a job for the Tag API check (default {PLACEHOLDER_JOB_ID})"
    )
    args = parser.parse_args(argv)
    report = diagnose(
        os.environ if environ is None else environ,
        env_file=Path(args.env_file) if args.env_file else None,
        delivery=args.delivery,
        cloud=args.cloud,
        send_test=args.send_test,
        uin=args.uin,
        job_id=args.job_id,
    )
    sys.stdout.write(report.text())
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
