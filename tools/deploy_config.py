"""One description of the deployment, read by the serverless.yml renderer, the setup command and tests."""

from __future__ import annotations

from dataclasses import dataclass

DELIVERIES = ("queue", "http", "cmq")
# Timeouts: alerts need room for rate-limit backoff (30 s), retries for TerminateJob's wait (60 s),
# churn only parses and prints (10 s); a polling run may take 50 s on every function (it rarely does).
DEFAULT_DELIVERY = "queue"
# `make bench` measures each function's peak RSS at the largest batch its paths deliver (a 128 KB
# trigger event, a polling run's POLL_MAX_MESSAGES): under 32 MB for each under Python 3.9, so SCF's
# 64 MB (half the GB-s of 128 MB) leaves twice that (docs/benchmarks.md).
MEMORY_MB = 64
# SCF's Python runtimes (CreateFunction accepts Python3.9 and Python3.10, reference section 5). The
# runtime is set on each function: multi-scf's published input rules, checked by the platform on every
# deploy, allow no top-level runtime above Python3.7 and do not check the per-function key.
RUNTIMES = ("Python3.9", "Python3.10")
DEFAULT_RUNTIME = "Python3.9"
# The components CLI that deploys a multi-scf YAML (reference section 5; npm registry, bin `components`).
COMPONENTS_CLI = "@serverless/components@3.18.2"


def python_version(runtime: str) -> str:
    """`Python3.10` -> `3.10`: the interpreter version a runtime name stands for."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r} is not one of {', '.join(RUNTIMES)}")
    return runtime[len("Python") :]


@dataclass(frozen=True)
class FunctionSpec:
    """What serverless.yml declares for one function."""

    name: str
    key: str
    description: str
    memory_mb: int
    timeout_s: int
    settings: tuple[str, ...]

    @property
    def slug(self) -> str:
        """The function's name with dashes, used in queue and subscription names."""
        return self.name.replace("_", "-")


# Settings every function reads (shared/): topic filter, first-deployment capture.
COMMON_SETTINGS = ("BATCH_TOPIC_NAMES", "CAPTURE_RAW_EVENTS")
# Settings of each delivery path (shared/poller.py, shared/push.py). CMQ_QUEUE_NAME is per function.
DELIVERY_SETTINGS = {
    "queue": (
        "CMQ_ENDPOINT",
        "CMQ_SECRET_ID",
        "CMQ_SECRET_KEY",
        "POLL_WAIT_S",
        "POLL_RESERVE_S",
        "POLL_MAX_MESSAGES",
    ),
    "http": ("PUSH_TOKEN",),
    "cmq": (),
}

FUNCTIONS = (
    FunctionSpec(
        name="alert_failures",
        key="alertFailures",
        description="Grouped Batch failure alerts to chat tools and webhooks",
        memory_mb=MEMORY_MB,
        timeout_s=30,
        settings=(
            "ALERT_EVENTS",
            "ALERT_WEBHOOK_URL",
            "ALERT_RECEIVER",
            "WECOM_WEBHOOK_URL",
            "DINGTALK_WEBHOOK_URL",
            "DINGTALK_SECRET",
            "FEISHU_WEBHOOK_URL",
            "FEISHU_SECRET",
            "FEISHU_MSG_TYPE",
            "SLACK_WEBHOOK_URL",
            "ALERT_MENTIONS",
            "WECOM_MENTIONS",
            "DINGTALK_MENTIONS",
            "FEISHU_MENTIONS",
            "SLACK_MENTIONS",
            "ALERT_MAX_ITEMS",
            "ALERT_CONSOLE_URL",
            "ALERT_DRY_RUN",
            "ALERT_ENRICH",
            "BATCH_ENDPOINT",
            "ALERT_HTTP_TIMEOUT_S",
            "ALERT_TIME_MARGIN_S",
            "ALERT_MAX_ATTEMPTS",
            "ALERT_DIGEST_AFTER",
            "ALERT_SILENCES",
            "ALERT_RECOVERY",
            "RETRY_TAG_KEY",
        ),
    ),
    FunctionSpec(
        name="retry_interrupted",
        key="retryInterrupted",
        description="Budgeted, idempotent retry of interrupted Batch jobs",
        memory_mb=MEMORY_MB,
        timeout_s=60,
        settings=(
            "RETRY_EVENTS",
            "RETRY_MAX_ATTEMPTS",
            "RETRY_ON_EXHAUSTED",
            "RETRY_DRY_RUN",
            "RETRY_LEDGER",
            "RETRY_RULES",
            "RETRY_TAG_KEY",
            "RETRY_ACCOUNT_UIN",
            "BATCH_ENDPOINT",
        ),
    ),
    FunctionSpec(
        name="log_node_churn",
        key="logNodeChurn",
        description="Structured compute-node lifecycle logs and churn figures",
        memory_mb=MEMORY_MB,
        timeout_s=10,
        settings=(),
    ),
)

# The queue path: a timer runs each function every 10 s (SCF's cron has a seconds field and allows
# sub-minute schedules), so a message waits 10 s at most for its run; a run that finds the queue empty
# does not long-poll (POLL_WAIT_S=0) and ends in a few milliseconds, which is what an idle month bills.
# A run may take up to its timeout, and a message it took stays invisible to other runs for
# VISIBILITY_FACTOR times that: runs that overlap never handle the same message.
POLL_CRON = "*/10 * * * * * *"
POLL_PERIOD_S = 10
POLL_TIMEOUT_S = 50
VISIBILITY_FACTOR = 2
DEAD_LETTER_MAX_RECEIVES = 5
QUEUE_RETENTION_S = 43200  # the longest TDMQ-CMQ keeps a message (12 h); the default of 1 h is too short


def queue_name(topic: str, spec: FunctionSpec) -> str:
    """The function's own queue, subscribed to the Batch topic."""
    return f"{topic}-{spec.slug}"


def dead_letter_queue_name(topic: str) -> str:
    """Where messages go after DEAD_LETTER_MAX_RECEIVES failed receives."""
    return f"{topic}-dead-letter"


@dataclass(frozen=True)
class CloudCall:
    """One Tencent Cloud API action a function's code can call, and what must be on for it to."""

    function: str
    service: str  # the CAM service: batch, tag, tdmq
    action: str
    feature: str = ""  # "" = always; else the setting or delivery path that turns the call on
    resource: str = "*"  # a CAM resource template; {region}, {uin}, {queue} are filled in


# Batch supports resource-level permissions on jobs for these actions; the Tag API's are operation-level
# (resource `*`). The queue data API's receive is documented on a queue resource, spelled `queue/` in
# TDMQ-CMQ's CAM page and `cmqqueue/` in TDMQ's general list, so both are granted; BatchDeleteMessage
# has no documented resource, so it gets `*` (docs/open-points.md).
_JOB = "qcs::batch:{region}:uin/{uin}:job/*"
_QUEUE = ("qcs::tdmq:{region}:uin/{uin}:queue/{queue}", "qcs::tdmq:{region}:uin/{uin}:cmqqueue/{queue}")
CLOUD_CALLS = (
    CloudCall("alert_failures", "batch", "DescribeJob", "ALERT_ENRICH", _JOB),
    CloudCall("alert_failures", "batch", "DescribeTask", "ALERT_ENRICH", _JOB),
    CloudCall("alert_failures", "batch", "DescribeJob", "ALERT_RECOVERY", _JOB),
    CloudCall("retry_interrupted", "batch", "DescribeJob", "", _JOB),
    CloudCall("retry_interrupted", "batch", "RetryJobs", "", _JOB),
    CloudCall("retry_interrupted", "batch", "TerminateJob", "", _JOB),
    CloudCall("retry_interrupted", "batch", "DescribeTask", "RETRY_RULES", _JOB),
    CloudCall("retry_interrupted", "tag", "GetResources", "RETRY_LEDGER=tags"),
    CloudCall("retry_interrupted", "tag", "ModifyResourceTags", "RETRY_LEDGER=tags"),
    *(
        call
        for spec_name in ("alert_failures", "retry_interrupted", "log_node_churn")
        for call in (
            CloudCall(spec_name, "tdmq", "BatchReceiveMessage", "delivery=queue", "|".join(_QUEUE)),
            CloudCall(spec_name, "tdmq", "BatchDeleteMessage", "delivery=queue"),
        )
    ),
)
