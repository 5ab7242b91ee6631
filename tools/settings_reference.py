"""docs/settings.md, generated from the settings the code reads, and the check that it has not drifted.

    python -m tools.settings_reference            # print docs/settings.md
    python -m tools.settings_reference --write    # rewrite docs/settings.md
    python -m tools.settings_reference --check    # exit 1 (with a diff) when docs/settings.md differs

The declarations are the code's own: an AST scan of functions/** and shared/** finds every call of a
shared/settings.py reader (`env_str("NAME", default, env)`, `env_int(..., minimum=, maximum=)`, ...) and
every raw `environ.get("NAME", ...)`. From each read it takes the name, who reads it (the function's
folder; a shared/ module is read by all three, poller.py and cmq_data.py only on the queue path,
push.py only on http), its type (which reader), its default (the literal argument, or a module-level
literal constant it names) and its bounds. The only hand-written part is DESCRIPTIONS below: one line
per setting, and, where the code's default is empty or not a literal, what an unset value means.

A setting the code reads without a description, a description of a setting no code reads (unless the
name is in PENDING), a read whose name is not a literal, and two reads of one setting that disagree
on its type or default are all errors.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
DOC = Path("docs") / "settings.md"
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
# Shared modules that only one delivery path imports at run time (as tests/test_deploy.py has them).
PATH_ONLY = {"poller.py": "queue", "cmq_data.py": "queue", "push.py": "http"}
ALL = "all"
# Names SCF's execution role injects (shared/cloud.py): not settings a user sets.
INJECTED_PREFIX = "TENCENTCLOUD_"
# Readers that are not shared/settings.py functions: raw reads of the environment mapping.
RAW_GET = "get"
_RAW_OWNERS = {"environ", "source", "env"}
_READERS_MODULE = Path("shared") / "settings.py"


@dataclass(frozen=True)
class Doc:
    """The hand-written part of one setting."""

    text: str
    # What an unset value means: given exactly where the code's default is empty or not a literal.
    unset: str = ""


# One line per setting, in the order docs/settings.md lists them (taken from the former hand-written
# page). `unset` only where the code's default is empty or not a literal: elsewhere the code's
# literal default is shown, and a hand-written one would only drift from it.
DESCRIPTIONS: dict[str, Doc] = {
    "BATCH_TOPIC_NAMES": Doc(
        "comma list of topic names to accept; CMQ-trigger records from other topics are rejected", "(any)"
    ),
    "CAPTURE_RAW_EVENTS": Doc("log the first N raw records each instance receives (first deployment)"),
    "CMQ_QUEUE_NAME": Doc(
        "the function's own queue",
        "(required; `serverless.yml` sets `<BATCH_TOPIC>-<function>`, dashes for underscores, e.g. "
        "`batch-events-alert-failures`)",
    ),
    "CMQ_ENDPOINT": Doc(
        "the queue API endpoint from the TDMQ console, e.g. `https://cmq-gz.public.tencenttdmq.com` "
        "(a private one exists for in-VPC calls)",
        "(required)",
    ),
    "CMQ_SECRET_ID": Doc(
        "the SecretId of a dedicated key pair for the queue API, if it refuses the role's temporary "
        "credentials (set both or neither)",
        "(the execution role's)",
    ),
    "CMQ_SECRET_KEY": Doc("the SecretKey of that key pair", "(the execution role's)"),
    "POLL_WAIT_S": Doc(
        "long-poll wait of the first receive of a run; 0 because the next run comes in 10 s, and an idle "
        "run that waits bills the wait"
    ),
    "POLL_RESERVE_S": Doc("seconds kept for handling and deleting; receiving stops when less is left"),
    "POLL_MAX_MESSAGES": Doc("messages at most per run"),
    "PUSH_TOKEN": Doc(
        "the shared token every push must carry as `?token=`; unset, every push is refused", "(required)"
    ),
    "ALERT_EVENTS": Doc(
        "names or groups that alert; an unknown name is an error listing the valid ones",
        "the 8 failure events",
    ),
    "ALERT_WEBHOOK_URL": Doc(
        'generic webhook: the Alertmanager payload, version "4" (http:// works)', "(off)"
    ),
    "ALERT_RECEIVER": Doc("the payload's `receiver`"),
    "WECOM_WEBHOOK_URL": Doc("WeCom group robot URL (`...send?key=...`)", "(off)"),
    "DINGTALK_WEBHOOK_URL": Doc("DingTalk robot URL", "(off)"),
    "DINGTALK_SECRET": Doc("DingTalk robot signing secret", "(unsigned)"),
    "FEISHU_WEBHOOK_URL": Doc("Feishu/Lark bot URL", "(off)"),
    "FEISHU_SECRET": Doc("Feishu/Lark bot signing secret", "(unsigned)"),
    "FEISHU_MSG_TYPE": Doc("`card` (interactive) or `post` (rich text)"),
    "SLACK_WEBHOOK_URL": Doc("Slack incoming webhook URL", "(off)"),
    "ALERT_MENTIONS": Doc(
        "whom every chat message mentions: `all`, user ids, DingTalk mobile numbers", "(none)"
    ),
    "WECOM_MENTIONS": Doc("the same as `ALERT_MENTIONS`, for WeCom only", "`ALERT_MENTIONS`"),
    "DINGTALK_MENTIONS": Doc("the same as `ALERT_MENTIONS`, for DingTalk only", "`ALERT_MENTIONS`"),
    "FEISHU_MENTIONS": Doc("the same as `ALERT_MENTIONS`, for Feishu only", "`ALERT_MENTIONS`"),
    "SLACK_MENTIONS": Doc("the same as `ALERT_MENTIONS`, for Slack only", "`ALERT_MENTIONS`"),
    "ALERT_MAX_ITEMS": Doc("events shown in full per message"),
    "ALERT_CONSOLE_URL": Doc("base of the console links"),
    "ALERT_DRY_RUN": Doc("`1`: log each configured channel's body instead of sending it"),
    "ALERT_ENRICH": Doc("`1`: add DescribeJob / DescribeTask details"),
    "ALERT_HTTP_TIMEOUT_S": Doc("timeout of each request, 0.5-60"),
    "ALERT_TIME_MARGIN_S": Doc("seconds of the SCF timeout kept free, at least 0"),
    "ALERT_MAX_ATTEMPTS": Doc("tries per message when rate-limited"),
    "ALERT_DIGEST_AFTER": Doc("more groups than this in one run become one digest message per chat channel"),
    "ALERT_SILENCES": Doc(
        "`;`-separated silence rules: `job:`, `env:`, `event:`, `region:`, `var:` conditions joined by "
        "`&`, each rule with an optional `@` UTC-time expiry",
        "(none)",
    ),
    "ALERT_RECOVERY": Doc(
        "`1`: a JOB_SUCCEED of an automatically retried job sends a recovery notice (a resolved alert "
        "on the webhook)"
    ),
    "RETRY_EVENTS": Doc(
        "events that trigger a decision (names or groups); others are ignored without an API call",
        "the 3 interrupted events",
    ),
    "RETRY_MAX_ATTEMPTS": Doc("retries per job; the event var `max_retries` overrides it per job"),
    "RETRY_ON_EXHAUSTED": Doc("`terminate`: TerminateJob a FAILED_INTERRUPTED job that gets no more retries"),
    "RETRY_DRY_RUN": Doc("`1`: decide and log, change nothing (no RetryJobs, TerminateJob or ledger writes)"),
    "RETRY_LEDGER": Doc("`tags`: durable, a tag on the job; `memory`: in-process, for local runs and tests"),
    "RETRY_TAG_KEY": Doc("the tag key of the retry ledger on each job"),
    "RETRY_ACCOUNT_UIN": Doc(
        "account UIN naming job resources; set it for local runs with `tags`", "(SCF context)"
    ),
    "RETRY_RULES": Doc("which failures to retry, by exit code and reason", "(retry every failure)"),
    "BATCH_ENDPOINT": Doc(
        "the Batch API: a host (e.g. `batch.internal.tencentcloudapi.com`) or an `http(s)://host:port` URL, "
        "nothing more (no path, query or credentials; `alert_failures` calls it only with `ALERT_ENRICH`)",
        "`batch.tencentcloudapi.com`",
    ),
}

# Described names no code reads yet (a setting whose code is being written): the drift check tolerates
# them, docs/settings.md leaves them out, and tools.doctor says they are not read yet. A name in it that
# the code reads is an error, so that the set cannot go stale: remove it when its code lands. (Issue 16's
# ALERT_DIGEST_AFTER, ALERT_SILENCES and ALERT_RECOVERY were here until functions/alert_failures read them.)
PENDING: frozenset[str] = frozenset()


class _NotLiteral:
    """The marker of a default that is not a literal (an expression, a name from another module)."""

    def __repr__(self) -> str:
        return "<not a literal>"


NOT_LITERAL: Any = _NotLiteral()


@dataclass(frozen=True)
class Reader:
    """A shared/settings.py reader: its parameters (positional order) and their literal defaults."""

    name: str
    params: tuple[str, ...]
    defaults: Mapping[str, Any]


@dataclass(frozen=True)
class Read:
    """One place the code reads a setting."""

    name: str
    reader: str  # a shared/settings.py reader (env_int, ...) or RAW_GET
    file: str  # relative to the repository root
    line: int
    function: Optional[str]  # None: a shared/ module, read by every function
    path: Optional[str]  # None: every delivery path; else the one path whose modules read it
    # The call's arguments by parameter name (`env` left out); NOT_LITERAL where one is not a literal.
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> Any:
        """The default the read gives an unset setting (a list reader's is empty)."""
        if "default" in self.args:
            return self.args["default"]
        return ""

    @property
    def where(self) -> str:
        """file:line, for messages."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Setting:
    """Everything known of one setting: what the code declares, and its description."""

    name: str
    reader: str
    default: Any
    minimum: Any
    maximum: Any
    choices: tuple[str, ...]
    # function -> the delivery paths it reads the setting on (ALL for every path)
    read_by: Mapping[str, tuple[str, ...]]
    reads: tuple[Read, ...]
    doc: Doc

    @property
    def secret(self) -> bool:
        """What the functions' logger treats as a secret (shared/log.py is_secret_name)."""
        from shared.log import is_secret_name

        return is_secret_name(self.name)

    @property
    def functions(self) -> tuple[str, ...]:
        """The functions that read it, in FUNCTIONS order."""
        return tuple(f for f in FUNCTIONS if f in self.read_by)

    @property
    def paths(self) -> tuple[str, ...]:
        """(ALL,) when some function reads it on every path; else the paths it is read on."""
        found = {p for paths in self.read_by.values() for p in paths}
        return (ALL,) if ALL in found else tuple(sorted(found))

    def read_on(self, function: str, delivery: str) -> bool:
        """True when `function` reads it on `delivery`."""
        paths = self.read_by.get(function, ())
        return ALL in paths or delivery in paths

    @property
    def has_literal_default(self) -> bool:
        """True when the code's default is a literal that says something (not empty)."""
        return self.default is not NOT_LITERAL and self.default not in ("", None, (), [])


# --- the scan ---------------------------------------------------------------------------------------


def _literal(node: Optional[ast.AST], constants: Mapping[str, Any]) -> Any:
    if node is None:
        return NOT_LITERAL
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NOT_LITERAL


def module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level `NAME = <literal>` assignments (e.g. DEFAULT_TAG_KEY = "batch-events-retry")."""
    out: dict[str, Any] = {}
    for node in tree.body:
        target: Optional[ast.expr] = None
        value: Optional[ast.expr] = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None:
            literal = _literal(value, {})
            if literal is not NOT_LITERAL:
                out[target.id] = literal
    return out


def readers(root: Path = ROOT) -> dict[str, Reader]:
    """Every `env_*` function of shared/settings.py, with its parameters and their literal defaults."""
    tree = ast.parse((root / _READERS_MODULE).read_text(encoding="utf-8"))
    out: dict[str, Reader] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("env_"):
            continue
        positional = [a.arg for a in node.args.args]
        defaults: dict[str, Any] = {}
        for name, default in zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults):
            defaults[name] = _literal(default, {})
        for arg, kw_default in zip(node.args.kwonlyargs, node.args.kw_defaults):
            if kw_default is not None:
                defaults[arg.arg] = _literal(kw_default, {})
        params = tuple(positional + [a.arg for a in node.args.kwonlyargs])
        out[node.name] = Reader(node.name, params, defaults)
    return out


def _called_name(call: ast.Call) -> Optional[str]:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _is_raw_get(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "getenv"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "getenv":
        return True
    owner = func.value
    owner_name = (
        owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
    )
    return func.attr == "get" and owner_name in _RAW_OWNERS


def _bind(reader: Reader, call: ast.Call, constants: Mapping[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name, the reader's own defaults filled in; `env` left out."""
    args: dict[str, Any] = dict(reader.defaults)
    for name, node in zip(reader.params, call.args):
        args[name] = _literal(node, constants)
    for keyword in call.keywords:
        if keyword.arg is not None:
            args[keyword.arg] = _literal(keyword.value, constants)
    args.pop("env", None)
    args.pop("name", None)
    return args


def _source_files(root: Path) -> list[tuple[Path, Optional[str], Optional[str]]]:
    """(file, function or None for shared, path or None for every path) of every module that may read."""
    files: list[tuple[Path, Optional[str], Optional[str]]] = []
    for path in sorted((root / "shared").glob("*.py")):
        if path.relative_to(root) != _READERS_MODULE:  # the readers themselves, reading their `name`
            files.append((path, None, PATH_ONLY.get(path.name)))
    for function in FUNCTIONS:
        for path in sorted((root / "functions" / function).rglob("*.py")):
            if "__pycache__" not in path.parts:
                files.append((path, function, None))
    return files


def scan(root: Path = ROOT) -> tuple[list[Read], list[str]]:
    """Every setting read in functions/** and shared/**, and the reads that cannot be declarations."""
    known = readers(root)
    reads: list[Read] = []
    problems: list[str] = []
    for path, function, delivery in _source_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        constants = module_constants(tree)
        relative = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            called = _called_name(node)
            raw = _is_raw_get(node)
            if called not in known and not raw:
                continue
            name = _literal(node.args[0], constants)
            if not isinstance(name, str):
                if not raw:  # `source.get(key)` is any mapping; an env_* reader always reads a setting
                    problems.append(
                        f"{relative}:{node.lineno}: {called} reads a setting whose name is not a literal "
                        "(read every setting by its literal name, so that the scan and a search find it)"
                    )
                continue
            if raw and (not name.isupper() or len(name) < 3):
                continue
            if name.startswith(INJECTED_PREFIX):
                continue
            if called in known and not raw:
                args = _bind(known[called], node, constants)
                reader = called
            else:
                default = _literal(node.args[1], constants) if len(node.args) > 1 else None
                args = {"default": default}
                reader = RAW_GET
            reads.append(Read(name, reader, relative, node.lineno, function, delivery, args))
    return reads, problems


# --- declarations -> settings ------------------------------------------------------------------------


def _one(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def code_settings(reads: Sequence[Read]) -> tuple[dict[str, Setting], list[str]]:
    """One Setting per name read (descriptions not yet attached), and where the reads disagree."""
    by_name: dict[str, list[Read]] = {}
    for read in reads:
        by_name.setdefault(read.name, []).append(read)
    out: dict[str, Setting] = {}
    problems: list[str] = []
    for name, group in by_name.items():
        kinds = _one(r.reader for r in group)
        defaults = _one(r.default for r in group if r.default is not NOT_LITERAL)
        if len(kinds) > 1:
            problems.append(
                f"{name} is read as {' and '.join(kinds)} ({', '.join(r.where for r in group)}): one type"
            )
        if len(defaults) > 1:
            shown = " and ".join(repr(d) for d in defaults)
            problems.append(f"{name} has the defaults {shown} ({', '.join(r.where for r in group)})")
        has_non_literal = any(r.default is NOT_LITERAL for r in group)
        default = NOT_LITERAL if has_non_literal or not defaults else defaults[0]
        read_by: dict[str, set[str]] = {}
        for read in group:
            for function in (read.function,) if read.function else FUNCTIONS:
                read_by.setdefault(function, set()).add(read.path or ALL)
        first = group[0].args
        choices = first.get("choices", ())
        out[name] = Setting(
            name=name,
            reader=kinds[0],
            default=default,
            minimum=first.get("minimum"),
            maximum=first.get("maximum"),
            choices=tuple(choices) if isinstance(choices, (tuple, list)) else (),
            read_by={f: (ALL,) if ALL in p else tuple(sorted(p)) for f, p in read_by.items()},
            reads=tuple(group),
            doc=Doc(""),
        )
    return out, problems


def check(
    found: Mapping[str, Setting], descriptions: Mapping[str, Doc], pending: Iterable[str] = ()
) -> list[str]:
    """What keeps the descriptions from matching the code's declarations (empty when they do)."""
    waiting = set(pending)
    problems: list[str] = []
    for name in sorted(set(found) - set(descriptions)):
        where = ", ".join(r.where for r in found[name].reads)
        problems.append(
            f"{name} is read by the code ({where}) but has no description: add one to "
            "DESCRIPTIONS in tools/settings_reference.py"
        )
    for name in sorted(set(descriptions) - set(found) - waiting):
        problems.append(
            f"{name} is described in tools/settings_reference.py but no code reads it: remove it (or, "
            "while the code that reads it is being written, add it to PENDING)"
        )
    for name in sorted(waiting & set(found)):
        problems.append(
            f"{name} is read by the code now: remove it from PENDING in tools/settings_reference.py"
        )
    for name in sorted(waiting - set(descriptions)):
        problems.append(f"{name} is in PENDING but has no description")
    for name, setting in sorted(found.items()):
        doc = descriptions.get(name)
        if doc is None:
            continue
        if not doc.text.strip():
            problems.append(f"{name}: the description is empty")
        if setting.has_literal_default and doc.unset:
            problems.append(
                f"{name}: the code's default is {show_value(setting.default)}: drop the hand-written "
                f"unset text {doc.unset!r}"
            )
        if not setting.has_literal_default and not doc.unset:
            problems.append(
                f"{name}: the code's default is empty or not a literal: say in DESCRIPTIONS what an unset "
                "value means (Doc(..., unset=...))"
            )
    return problems


def load(root: Path = ROOT) -> tuple[list[Setting], list[str]]:
    """The settings the code reads, described, in DESCRIPTIONS order; and every problem found."""
    reads, problems = scan(root)
    found, conflicts = code_settings(reads)
    problems += conflicts + check(found, DESCRIPTIONS, PENDING)
    order = {name: i for i, name in enumerate(DESCRIPTIONS)}
    settings = [
        _with_doc(found[name], DESCRIPTIONS.get(name, Doc("")))
        for name in sorted(found, key=lambda n: (order.get(n, len(order)), n))
    ]
    return settings, problems


def _with_doc(setting: Setting, doc: Doc) -> Setting:
    from dataclasses import replace

    return replace(setting, doc=doc)


def settings_read(function: str, delivery: str, settings: Sequence[Setting]) -> list[Setting]:
    """The settings `function` reads on `delivery`, in the reference's order."""
    return [s for s in settings if s.read_on(function, delivery)]


# --- rendering ---------------------------------------------------------------------------------------

_TYPES = {
    "env_str": "text",
    "env_bool": "yes/no (`1`/`0`)",
    "env_int": "whole number",
    "env_float": "number",
    "env_list": "comma list",
    "env_events": "event names or groups",
    RAW_GET: "text",
}


def show_value(value: Any) -> str:
    """A default as the docs show it: `1`/`0` for yes/no, numbers without a needless `.0`."""
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, (tuple, list, frozenset, set)):
        return ", ".join(show_value(v) for v in value)
    return f"`{value}`"


def _bound(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def type_text(setting: Setting) -> str:
    """The reader as words, with the choices or bounds the code passes it."""
    if setting.reader == "env_choice":
        return "one of " + ", ".join(f"`{c}`" for c in setting.choices)
    text = _TYPES.get(setting.reader, setting.reader)
    low, high = setting.minimum, setting.maximum
    if low is not None and high is not None:
        text += f", {_bound(low)}-{_bound(high)}"
    elif low is not None:
        text += f", at least {_bound(low)}"
    elif high is not None:
        text += f", at most {_bound(high)}"
    return text


def default_text(setting: Setting) -> str:
    """The code's literal default, else the description's word for unset."""
    if setting.has_literal_default:
        return show_value(setting.default)
    return setting.doc.unset or "(empty)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _read_by(setting: Setting) -> str:
    if setting.functions == FUNCTIONS:
        return ALL
    return ", ".join(f"`{f}`" for f in setting.functions)


def _path(setting: Setting) -> str:
    return ALL if setting.paths == (ALL,) else ", ".join(f"`{p}`" for p in setting.paths)


HEADER = """\
# Settings

<!-- Generated by `python -m tools.settings_reference --write` from the settings the code reads
(functions/**, shared/**) and the descriptions in tools/settings_reference.py: edit those, not this page.
A test fails when this page and the code differ. -->

Settings are environment variables (in SCF: the function's environment, filled by `serverless.yml` from
`${env:...}`; locally: your shell or a `.env` file at the repository root, which `make invoke` reads).
Names starting with `SCF_`, `QCLOUD_` or `TENCENTCLOUD_` are reserved by SCF, so the bundle's own
settings never use them. A bad value stops the function with an error that names the setting;
`.venv/bin/python -m tools.doctor` (`make doctor`) checks your environment and `.env` with the functions'
own loaders and lists every problem at once.

**read by**: the functions that read the setting; **path**: the delivery paths on which they read it
(`all`, or only `queue` or `http`); **secret**: the functions' logs scrub its value, and `tools.doctor`
masks it.
"""

FOOTER = """\
`log_node_churn` has no settings of its own: the former `CHURN_METRICS`, `CHURN_METRICS_ENDPOINT` and
`CHURN_METRICS_TIMEOUT_S` are gone with Cloud Monitor's retired `PutMonitorData`; the churn figures are in
CLS ([cls.md](cls.md)).

`serverless.yml` passes each function only the settings it reads on the chosen delivery path, under the
function's `environment:` key ([deploy.md](deploy.md)); SCF allows 4 KB of environment variables per
function in all, which a test checks with every setting at a realistic maximum. For local runs,
`make invoke` reads the same `.env`: see [functions.md](functions.md#sample-events) before putting real
channel URLs in it.
"""


def render(settings: Sequence[Setting]) -> str:
    """The whole of docs/settings.md."""
    lines = [
        HEADER,
        "| setting | read by | path | type | default | secret | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in settings:
        cells = [
            f"`{s.name}`",
            _read_by(s),
            _path(s),
            type_text(s),
            default_text(s),
            "yes" if s.secret else "",
            s.doc.text or "(no description)",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n\n" + FOOTER


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: print, write or check docs/settings.md."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help=f"exit 1 when {DOC} differs (prints a diff)")
    mode.add_argument("--write", action="store_true", help=f"rewrite {DOC}")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings, problems = load(args.root)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    text = render(settings)
    target = args.root / DOC
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{DOC} (committed)",
                f"{DOC} (from the code)",
            )
            sys.stderr.writelines(diff)
            print(f"{DOC} is out of date: run `python -m tools.settings_reference --write`", file=sys.stderr)
            return 1
        return 1 if problems else 0
    if args.write:
        if problems:
            print(f"{DOC} not written: fix the errors above first", file=sys.stderr)
            return 1
        target.write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
