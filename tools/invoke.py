"""Run a function locally on an event file the way SCF calls it, and print its logs and return value.

    python -m tools.invoke alert_failures events/cmq_topic_job_failed.json
    python -m tools.invoke --all            # every function on every sample, one line each
    python -m tools.invoke --live FUNCTION EVENT   # (or LIVE=1) the real cloud and channels

By default the function runs against the local cloud (localcloud/): fakes of the Batch, Tag and
TDMQ-CMQ APIs and of the five chat robots on 127.0.0.1, seeded from the sample, with every setting
that reaches the cloud pointed at them. Nothing leaves the machine; the run ends with what it would
have done in the cloud. `--live` runs with the settings of the environment and `.env` as they are.

Settings come from the environment and, when present, a `.env` file at the repository root
(KEY=VALUE lines; the environment wins). The function's folder and the repository root are put
on sys.path, as `make package` lays them side by side in the deployed code. Logs and the return
value go to stdout; the notes around them (mode, what the run did) to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import sys
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional, Sequence

if TYPE_CHECKING:
    from shared.tcapi import ApiClient

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
LIVE_BANNER = (
    "--- LIVE: the real Tencent Cloud APIs and the chat channels set in the environment and .env; "
    "API calls and messages are real"
)
LOCAL_BANNER = (
    "--- local cloud on {url}: Batch, Tag, TDMQ-CMQ and the five chat robots are fakes on this machine; "
    "nothing leaves it (--live for the real cloud)"
)
# The summary figures invoke-all shows, when the function's summary has them.
FIGURES = (
    "records",
    "events",
    "rejected",
    "groups",
    "delivered",
    "failed",
    "retried",
    "terminated",
    "skipped",
    "environments",
)


def load_dotenv(path: Path, environ: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Read KEY=VALUE lines (comments, blanks and `export ` allowed); set those not already set."""
    target = os.environ if environ is None else environ
    loaded: dict[str, str] = {}
    if not path.is_file():
        return loaded
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("export "):
            text = text[len("export ") :].strip()
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SystemExit(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        loaded[key] = value
        target.setdefault(key, value)
    return loaded


def load_handler(function: str) -> ModuleType:
    """Import functions/<function>/index.py as SCF would (its folder first on sys.path)."""
    if function not in FUNCTIONS:
        raise SystemExit(f"unknown function {function!r}; choose one of: {', '.join(FUNCTIONS)}")
    folder = ROOT / "functions" / function
    for entry in (str(ROOT), str(folder)):
        if entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
    spec = importlib.util.spec_from_file_location(f"{function}_index", folder / "index.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {folder / 'index.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scf_context(function: str, timeout_ms: int, memory_mb: int) -> dict[str, Any]:
    """A context dict shaped like the one SCF passes to Python handlers."""
    return {
        "request_id": f"local-{uuid.uuid4()}",
        "function_name": function,
        "function_version": "$LATEST",
        "namespace": "default",
        "time_limit_in_ms": timeout_ms,
        "memory_limit_in_mb": memory_mb,
        "tencentcloud_region": os.environ.get("LOCAL_REGION", "ap-guangzhou"),
        "tencentcloud_appid": "1250000000",
        "tencentcloud_uin": "100000000001",
        "environ": "",
    }


@dataclass
class Run:
    """How one invocation ended: ok, retry (RetryableFailure), config (ConfigError) or error."""

    status: str
    result: Any = None
    message: str = ""
    trace: str = ""
    report: Any = None  # localcloud.Report in local runs
    refused: list[str] = field(default_factory=list)  # what tried to leave the machine in a local run
    figures: dict[str, Any] = field(default_factory=dict)
    previews: list[list[str]] = field(default_factory=list)  # dry-run messages, as plain text


def invoke_handler(function: str, event: Any, context: dict[str, Any]) -> Run:
    """Call the handler; its exception, if any, classified."""
    from shared.errors import ConfigError, RetryableFailure

    handler = load_handler(function)
    try:
        with _Tee() as tee:
            result = handler.main_handler(event, context)
        return Run("ok", result=result, previews=tee.previews())
    except RetryableFailure as exc:
        return Run("retry", message=str(exc))
    except ConfigError as exc:
        return Run("config", message=str(exc))
    except Exception as exc:
        return Run("error", message=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())


class _Tee(io.TextIOBase):
    """stdout as it is, keeping the dry-run lines alert_failures logs, to show them readably after."""

    def __init__(self) -> None:
        self._out = sys.stdout
        self._dry: list[dict[str, Any]] = []
        self._partial = ""

    def __enter__(self) -> _Tee:
        sys.stdout = self
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout = self._out

    def write(self, text: str) -> int:
        self._out.write(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if '"alert (dry run' in line:
                with contextlib.suppress(ValueError):
                    self._dry.append(json.loads(line))
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def previews(self) -> list[list[str]]:
        """Each dry-run message's title and lines (one channel's copy when several are configured)."""
        from localcloud.render import text_lines

        out: list[list[str]] = []
        channels = [line.get("channel") for line in self._dry]
        first = next((c for c in channels if c != "webhook"), None)
        for line in self._dry:
            if line.get("channel") == "text":
                out.append([str(line.get("title", "")), *[str(x) for x in line.get("lines") or []]])
            elif line.get("channel") == first:
                out.append(text_lines(str(first), line.get("body")))
        return out


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` set for the block, as it was afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def tag_api_at(local: str) -> Iterator[None]:
    """Tag API clients built for `local` (http://127.0.0.1:PORT) for the block.

    The functions have no setting for the Tag endpoint (BATCH_ENDPOINT is the Batch API's only), so the
    local run points the client factory there itself; kept clients are dropped before and after.
    """
    from shared import cloud

    real = cloud.tag_client

    def local_tag_client(
        region: str, *, endpoint: str = "", timeout_s: float = 10, cred: Any = None
    ) -> ApiClient:
        return real(region, endpoint=endpoint or local, timeout_s=timeout_s, cred=cred)

    cloud.forget_clients()
    cloud.tag_client = local_tag_client
    try:
        yield
    finally:
        cloud.tag_client = real
        cloud.forget_clients()


def run_local(
    function: str,
    event: Any,
    timeout_ms: int = 30000,
    memory_mb: int = 128,
    *,
    banner: bool = False,
    cloud: Any = None,
) -> Run:
    """One invocation against the local cloud seeded from `event` (a fresh one, or a running `cloud`);
    what it did is in `report`, and anything that tried to leave the machine in `refused`."""
    from localcloud import running

    if cloud is not None:
        return _run_in(cloud, function, event, timeout_ms=timeout_ms, memory_mb=memory_mb, banner=banner)
    with running() as fresh:
        return _run_in(fresh, function, event, timeout_ms=timeout_ms, memory_mb=memory_mb, banner=banner)


def _run_in(cloud: Any, function: str, event: Any, *, timeout_ms: int, memory_mb: int, banner: bool) -> Run:
    from localcloud import loopback_only, report

    if banner:
        note(LOCAL_BANNER.format(url=cloud.base_url))
    settings = {**cloud.env(function), **cloud.seed(event, function)}
    mark = cloud.mark()
    with environment(settings), tag_api_at(cloud.base_url), loopback_only() as refused:
        run = invoke_handler(function, event, scf_context(function, timeout_ms, memory_mb))
    run.report = report(cloud, mark)
    run.refused = list(refused)
    run.figures = figures(run.result)
    return run


def figures(result: Any) -> dict[str, Any]:
    """The key numbers of a return value (a push's answer: its status and its body's summary)."""
    if not isinstance(result, dict):
        return {}
    out: dict[str, Any] = {}
    summary = result
    if "statusCode" in result:
        out["http"] = result["statusCode"]
        try:
            body = json.loads(result.get("body") or "{}")
        except ValueError:
            body = {}
        summary = body.get("summary") or {} if isinstance(body, dict) else {}
    # Counts that are zero say nothing, except how much arrived.
    shown = {key: summary[key] for key in FIGURES if isinstance(summary.get(key), int)}
    out.update({key: n for key, n in shown.items() if n or key in ("records", "events")})
    return out


def note(text: str) -> None:
    """A line for the person running the tool (stderr), after whatever stdout holds so far."""
    sys.stdout.flush()
    print(text, file=sys.stderr, flush=True)


def _print_run(run: Run) -> int:
    if run.status == "config":
        note(f"--- configuration error (SCF would retry this event until it is fixed): {run.message}")
        code = 2
    elif run.status == "retry":
        note(f"--- the handler raised RetryableFailure (SCF would deliver this event again): {run.message}")
        code = 1
    elif run.status == "error":
        note("--- the handler raised (SCF would retry this event):\n" + run.trace.rstrip())
        code = 1
    else:
        print("--- return value:")
        print(json.dumps(run.result, ensure_ascii=False, indent=2), flush=True)
        code = 0
    for lines in run.previews:
        note("--- dry run, the message as a person reads it:\n" + "\n".join("  | " + line for line in lines))
    if run.report is not None:
        note("--- in the cloud, this run would have done:\n" + "\n".join(run.report.lines()))
    if run.refused:
        note("--- refused (a setting points outside the local cloud): " + "; ".join(run.refused))
        code = code or 1
    return code


def sample_files() -> list[Path]:
    """Every sample: events/*.json, then events/delivery/*.json."""
    events = ROOT / "events"
    return sorted(events.glob("*.json")) + sorted((events / "delivery").glob("*.json"))


def invoke_all(timeout_ms: int, memory_mb: int) -> int:
    """Every function on every sample offline, one line each; 1 unless every run ended ok (the fakes are
    healthy, so a RetryableFailure is as unexpected as an error)."""
    print("local cloud: every function on every sample in events/ and events/delivery/, offline", flush=True)
    counts = {"ok": 0, "retry": 0, "config": 0, "error": 0}
    width = max(len(str(p.relative_to(ROOT))) for p in sample_files())
    from localcloud import running

    with running() as cloud:
        for path in sample_files():
            event = json.loads(path.read_text(encoding="utf-8"))
            for function in FUNCTIONS:
                cloud.reset()  # one server for every run, each run on a clean state
                with contextlib.redirect_stdout(io.StringIO()):
                    run = run_local(function, event, timeout_ms, memory_mb, cloud=cloud)
                if run.refused and run.status == "ok":
                    run.status, run.message = "error", "tried to leave the machine: " + "; ".join(run.refused)
                counts[run.status] += 1
                print(
                    f"{_outcome(run):<24} {function:<18} {path.relative_to(ROOT)!s:<{width}}  {_line(run)}",
                    flush=True,
                )
                if run.trace:
                    print("    " + run.trace.rstrip().replace("\n", "\n    "), flush=True)
    total = sum(counts.values())
    print(
        f"{total} runs: {counts['ok']} ok, {counts['retry']} raised RetryableFailure, "
        f"{counts['config'] + counts['error']} error(s)",
        flush=True,
    )
    return 0 if counts["ok"] == total else 1


def _outcome(run: Run) -> str:
    return {"ok": "ok", "retry": "raised RetryableFailure", "config": "error (config)"}.get(
        run.status, "error"
    )


def _line(run: Run) -> str:
    parts = [f"{key}={value}" for key, value in run.figures.items()]
    if run.report is not None:
        parts += [f"{key}={value}" for key, value in run.report.figures().items() if value]
    if run.status != "ok":
        parts.append(run.message.splitlines()[0][:160] if run.message else "")
    return " ".join(p for p in parts if p)


def _live_requested(flag: bool) -> bool:
    return flag or os.environ.get("LIVE", "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: invoke, print the return value as JSON; exit 1 when the handler raised."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("function", nargs="?", choices=FUNCTIONS)
    parser.add_argument("event", nargs="?", help="path of an event JSON file (see events/)")
    parser.add_argument("--all", action="store_true", help="every function on every sample, offline")
    parser.add_argument("--live", action="store_true", help="the real cloud and channels (also: LIVE=1)")
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--env-file", default=str(ROOT / ".env"))
    args = parser.parse_args(argv)
    live = _live_requested(args.live)
    if args.all:
        if live or args.function or args.event:
            parser.error("--all runs every function on every sample against the local cloud only")
    elif not (args.function and args.event):
        parser.error("give a FUNCTION and an EVENT file, or --all")
    if live:
        note(LIVE_BANNER)
    load_dotenv(Path(args.env_file))
    if args.all:
        return invoke_all(args.timeout_ms, args.memory_mb)
    try:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read event file {args.event}: {exc}", file=sys.stderr)
        return 2
    if live:
        return _print_run(
            invoke_handler(args.function, event, scf_context(args.function, args.timeout_ms, args.memory_mb))
        )
    return _print_run(run_local(args.function, event, args.timeout_ms, args.memory_mb, banner=True))


if __name__ == "__main__":
    raise SystemExit(main())
