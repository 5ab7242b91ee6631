"""Cold start and peak memory of the package itself, under SCF's Python 3.9, in isolated processes.

`make package`'s output is built once (tools.package.build, bytecode compiled for 3.9), and each run is
a fresh `python3.9 -I -S -B` (PYTHONDONTWRITEBYTECODE=1) that sees only one function's built folder
beside the standard library (bench/probe.py), as tests/test_package.py runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

from tools import package, render_serverless
from tools.deploy_config import POLL_TIMEOUT_S

from .figures import median
from .scenarios import (
    FUNCTIONS,
    SAMPLE,
    TIMER_EVENT,
    WORKLOAD,
    Services,
    context,
    message_body,
    push_event,
    spread_event,
)

PROBE = (Path(__file__).parent / "probe.py").read_text(encoding="utf-8")
BASELINE_CODE = "import json, base64"
# Measured beside the cases, in the same rounds, to say what the figures leave out or what they are
# up against: the Tencent SDK's clients' own import (what retry_interrupted would start with if it
# called Batch through them instead of shared/tcapi.py: they import requests), from the package's
# folder with the SDK's Batch service added (SDK_PEER), and what https adds to a cold start on the real
# endpoints (the cases talk plain http to loopback fakes): importing ssl and making shared.http's
# verifying context (tls_setup less http_import).
SDK_PEER = "retry_interrupted_with_sdk_clients"
REFERENCES = {
    "sdk_import": (
        SDK_PEER,
        "import json, base64\n"
        "from tencentcloud.common import credential\n"
        "from tencentcloud.batch.v20170312 import batch_client",
    ),
    "tls_setup": ("alert_failures", "import json, base64\nfrom shared import http\nhttp.tls_context()"),
    "http_import": ("alert_failures", "import json, base64\nfrom shared import http"),
}
ISOLATED = ("-I", "-S", "-B")
MONOLITHIC_SDK = "tencentcloud-sdk-python==3.1.195"  # the release requirements.txt's common matches


def deployed_memory_mb(delivery: str = "queue") -> dict[str, int]:
    """Each function's memorySize in the serverless.yml that render_serverless writes."""
    spec = yaml.safe_load(render_serverless.render(delivery))
    return {Path(f["src"]).name: int(f["memorySize"]) for f in spec["inputs"]["functions"].values()}


def deployed_timeout_s(delivery: str) -> dict[str, int]:
    """Each function's timeout in serverless.yml for this delivery path."""
    spec = yaml.safe_load(render_serverless.render(delivery))
    return {Path(f["src"]).name: int(f["timeout"]) for f in spec["inputs"]["functions"].values()}


@contextmanager
def built_package() -> Iterator[tuple[Path, dict[str, int]]]:
    """`make package`'s output for Python3.9 in a temporary folder, and each function's size in bytes."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        out = Path(tmp) / "build"
        sizes = package.build(out, "Python3.9")
        yield out, sizes


@dataclass(frozen=True)
class Case:
    """One way to invoke a function in a fresh process: the event, the settings, and what to reset first."""

    function: str
    path: str  # trigger, queue, push
    event: Path
    prepare: Callable[[], None]
    env: dict[str, str]
    context: dict[str, Any]
    messages: int = 1  # what a timer run finds in the queue


def _write(folder: Path, name: str, payload: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


def cases(
    svc: Services, folder: Path, memory_mb: dict[str, int], sizes: Optional[dict[str, dict[str, int]]] = None
) -> list[Case]:
    """Each function on each path with one message: a CMQ-trigger sample, and a timer run that finds
    one message in the queue. With `sizes` (function -> path -> records): the batch each path delivers."""

    def reset(function: str, bodies: tuple[str, ...]) -> None:
        svc.new_batch()
        svc.new_queue(function, bodies)

    def make(function: str, path: str, event: Path, timeout_s: int, bodies: tuple[str, ...] = ()) -> Case:
        env = svc.env(function, "queue" if bodies else "push" if path == "push" else "trigger")
        ctx = context(function, memory_mb[function], timeout_s)
        return Case(function, path, event, partial(reset, function, bodies), env, ctx, max(1, len(bodies)))

    timeouts = deployed_timeout_s("cmq")
    out = []
    for function in FUNCTIONS:
        if sizes is None:
            out.append(make(function, "trigger", SAMPLE[function], timeouts[function]))
            out.append(make(function, "queue", TIMER_EVENT, POLL_TIMEOUT_S, (message_body(function, 0),)))
            continue
        for path, records in sizes[function].items():
            if path.startswith("trigger"):
                event = spread_event(WORKLOAD[function], records)
                out.append(make(function, path, _write(folder, f"{function}-{path}.json", event), 60))
            elif path == "queue":
                bodies = tuple(message_body(function, n) for n in range(records))
                out.append(make(function, path, TIMER_EVENT, POLL_TIMEOUT_S, bodies))
            elif path == "push":
                event = push_event(message_body(function, 0))
                out.append(make(function, path, _write(folder, f"{function}-push.json", event), 13))
    return out


def _command(python: str, root: Path, case: Case, mode: str, extra: Sequence[str] = ()) -> list[str]:
    probe = [str(root / case.function), str(case.event), json.dumps(case.context), mode]
    return [python, *ISOLATED, *extra, "-c", PROBE, *probe]


def _env(case: Optional[Case]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **(case.env if case else {})}


def report(python: str, root: Path, case: Case) -> dict[str, Any]:
    """One invocation's report line: modules, heavy packages, peak RSS, the handler's answer."""
    case.prepare()
    done = _run(_command(python, root, case, "report"), _env(case))
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    result: dict[str, Any] = json.loads(line[len("BENCH ") :])
    return result


def problems(case: Case, info: dict[str, Any]) -> list[str]:
    """What says the invocation did not do its work (empty when it did)."""
    found = [f"loaded from outside the package: {', '.join(info['outside'])}"] if info["outside"] else []
    answer = info["result"] if isinstance(info["result"], dict) else {}
    if case.path == "push":
        answer = json.loads(answer.get("body") or "{}").get("summary", {})
    if case.path == "queue" and answer.get("deleted") != case.messages:
        found.append(f"the timer run deleted {answer.get('deleted')} of {case.messages} messages")
    if answer.get("rejected") or not answer.get("events"):
        found.append(f"handled {answer.get('events')} events, rejected {answer.get('rejected')}")
    return found


class ProbeFailed(RuntimeError):
    """The function could not be imported or invoked from its built folder."""


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise ProbeFailed(lines[-1][:300])
    return done


def usable(python: str, root: Path, run_cases: Sequence[Case]) -> tuple[list[Case], dict[str, str]]:
    """The cases whose function runs from its folder, and why the others do not (code mid-change)."""
    ok, broken = [], {}
    for case in run_cases:
        case.prepare()
        try:
            _run(_command(python, root, case, "time"), _env(case))
        except ProbeFailed as exc:
            broken[f"{case.function}/{case.path}"] = str(exc)
        else:
            ok.append(case)
    return ok, broken


def cold_start(
    python: str, root: Path, run_cases: Sequence[Case], repeat: int, import_repeat: int = 3
) -> dict[str, Any]:
    """Process start to first invocation done: the median of `repeat` runs of each case and of the
    baseline `python3.9 -I -S -B -c "import json, base64"`, interleaved round by round so that a busy
    machine slows them alike; then `import_repeat` runs under `-X importtime` for the breakdown (medians
    too). A case that fails is reported with its error, the others measured."""
    samples: dict[str, list[float]] = defaultdict(list)
    inside: dict[str, list[dict[str, float]]] = defaultdict(list)
    baseline = [python, *ISOLATED, "-c", BASELINE_CODE]
    _run(baseline, _env(None))
    add_sdk_peer(python, root)
    references = {name: _reference(python, root, *spec) for name, spec in REFERENCES.items()}
    for command in references.values():
        _run(command, _env(None))
    run_cases, broken = usable(python, root, run_cases)  # also warms the page cache
    for _ in range(repeat):
        start = time.perf_counter()
        _run(baseline, _env(None))
        samples["baseline"].append(time.perf_counter() - start)
        for name, command in references.items():
            start = time.perf_counter()
            _run(command, _env(None))
            samples[name].append(time.perf_counter() - start)
        for case in run_cases:
            case.prepare()
            command, env = _command(python, root, case, "time"), _env(case)
            start = time.perf_counter()
            done = _run(command, env)
            samples[f"{case.function}/{case.path}"].append(time.perf_counter() - start)
            line = next(x for x in done.stderr.splitlines() if x.startswith("BENCHTIME "))
            inside[f"{case.function}/{case.path}"].append(json.loads(line[len("BENCHTIME ") :]))
    base = median(samples["baseline"])
    out: dict[str, Any] = {
        "python": python,
        "repeat": repeat,
        "baseline_s": base,
        "cases": {},
        "broken": broken,
        "references": {
            name: {"median_s": median(samples[name]), "ratio": median(samples[name]) / base}
            for name in references
        },
    }
    baseline_modules = set(parse_import_times(import_times(baseline, _env(None))))
    for case in run_cases:
        key = f"{case.function}/{case.path}"
        info = report(python, root, case)
        texts = []
        for _ in range(import_repeat):
            case.prepare()
            texts.append(import_times(_command(python, root, case, "time", ("-X", "importtime")), _env(case)))
        out["cases"][key] = {
            "median_s": median(samples[key]),
            "ratio": median(samples[key]) / base,
            "modules": info["modules"],
            "heavy": info["heavy"],
            "import_ms": median(t["import_ms"] for t in inside[key]),
            "invoke_ms": median(t["invoke_ms"] for t in inside[key]),
            "problems": problems(case, info),
            "imports": import_breakdown(median_import_times(texts), baseline_modules, root / case.function),
            "pulled_in": pulled_in(texts, baseline_modules),
        }
    return out


def _pinned(name: str) -> str:
    """`name==version` as requirements-dev.txt pins it."""
    for line in (package.ROOT / "requirements-dev.txt").read_text().splitlines():
        if line.split("==", 1)[0].strip() == name:
            return line.split("#", 1)[0].strip()
    raise LookupError(f"{name} is not pinned in requirements-dev.txt")


def add_sdk_peer(python: str, root: Path) -> Path:
    """retry_interrupted's built folder with the SDK's Batch service added, byte-compiled like the
    package: where the sdk_import reference runs (the SDK's `tencentcloud` is one regular package, so
    its services must sit in the same folder as its common part)."""
    peer = root / SDK_PEER
    if peer.is_dir():
        return peer
    shutil.copytree(root / "retry_interrupted", peer)
    with tempfile.TemporaryDirectory(prefix="bench-sdk-") as tmp:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        wheel = _pinned("tencentcloud-sdk-python-batch")
        subprocess.run([*pip, "--no-compile", "--target", tmp, wheel], check=True, capture_output=True)
        shutil.copytree(Path(tmp) / "tencentcloud" / "batch", peer / "tencentcloud" / "batch")
    package.compile_bytecode(peer / "tencentcloud" / "batch", python)
    return peer


def _reference(python: str, root: Path, function: str, code: str) -> list[str]:
    """A reference snippet run like a case: isolated, seeing only the function's built folder."""
    setup = (
        f"import sys; sys.path[:] = [{str(root / function)!r}]"
        " + [p for p in sys.path if p.startswith(sys.base_prefix)]\n"
    )
    return [python, *ISOLATED, "-c", setup + code]


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")
PROJECT = frozenset({"index", "shared", "alerting", "retrying", "churn"})


def import_times(command: list[str], env: dict[str, str]) -> str:
    """The `-X importtime` report of one run of the command."""
    if "importtime" not in command:
        command = [command[0], "-X", "importtime", *command[1:]]
    return _run(command, env).stderr


def parse_import_times(text: str) -> dict[str, int]:
    """`-X importtime`'s stderr as module -> self time in microseconds."""
    return {name: own for name, own, _, _ in import_tree(text)}


def import_tree(text: str) -> list[tuple[str, int, int, Optional[str]]]:
    """`-X importtime`'s lines as (module, self us, cumulative us, the module that imported it)."""
    parsed = []
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            depth = (len(match.group(3)) - 1) // 2
            parsed.append((match.group(4), int(match.group(1)), int(match.group(2)), depth))
    # Children are printed before their parent, indented one level more: read backwards, a line's
    # parent is the last one seen one level up.
    out = []
    above: dict[int, str] = {}
    for name, own, cumulative, depth in reversed(parsed):
        above[depth] = name
        out.append((name, own, cumulative, above.get(depth - 1) if depth else None))
    out.reverse()
    return out


def median_import_times(texts: Sequence[str]) -> dict[str, float]:
    """Module -> the median of its own import time (us) over several `-X importtime` reports."""
    runs = [parse_import_times(text) for text in texts]
    names = {name for run in runs for name in run}
    return {name: median(run.get(name, 0) for run in runs) for name in names}


def pulled_in(texts: Sequence[str], baseline: set[str], top: int = 4) -> list[tuple[str, str, float]]:
    """The heaviest modules outside the project that project modules import directly (and the baseline
    does not): (importer, module, median cumulative ms over the reports), heaviest first."""
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for text in texts:
        for name, _, cumulative, parent in import_tree(text):
            outside = name.split(".")[0] not in PROJECT and name not in baseline
            if outside and parent and parent.split(".")[0] in PROJECT:
                found[(parent, name)].append(cumulative / 1000)
    ranked = [
        (parent, name, median(ms + [0.0] * (len(texts) - len(ms)))) for (parent, name), ms in found.items()
    ]
    return sorted(ranked, key=lambda item: -item[2])[:top]


def import_breakdown(
    times: Mapping[str, float], baseline: set[str], folder: Path, top: int = 5
) -> dict[str, Any]:
    """Own import time (ms) of the modules the baseline does not import: the project's, the third-party
    packages shipped in `folder`, the standard library's, and the heaviest top-level packages."""
    groups: dict[str, float] = defaultdict(float)
    kinds = {"project": 0.0, "third_party": 0.0, "stdlib": 0.0}
    for module, us in times.items():
        if module in baseline:
            continue
        name = module.split(".")[0]
        groups[name] += us
        if name in PROJECT:
            kinds["project"] += us
        elif (folder / name).exists() or (folder / f"{name}.py").exists():
            kinds["third_party"] += us
        else:
            kinds["stdlib"] += us
    ordered = sorted(groups.items(), key=lambda kv: -kv[1])
    return {
        **{f"{k}_ms": v / 1000 for k, v in kinds.items()},
        "top_ms": {name: us / 1000 for name, us in ordered[:top]},
    }


def peak_memory(python: str, root: Path, run_cases: Sequence[Case], repeat: int) -> dict[str, Any]:
    """Peak RSS (VmHWM, MB) of a fresh process invoking each case once; the median of `repeat`."""
    out: dict[str, Any] = {}
    for case in run_cases:
        try:
            infos = [report(python, root, case) for _ in range(repeat)]
        except ProbeFailed as exc:
            out[f"{case.function}/{case.path}"] = {"peak_mb": None, "problems": [f"could not run: {exc}"]}
            continue
        out[f"{case.function}/{case.path}"] = {
            "peak_mb": median(info["peak_rss_mb"] for info in infos),
            "problems": problems(case, infos[0]),
        }
    return out


def monolithic_sdk_mb() -> float:
    """Unpacked size of the monolithic tencentcloud-sdk-python wheel, for comparison."""
    with tempfile.TemporaryDirectory(prefix="bench-mono-") as tmp:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        options = ["--no-deps", "--no-compile", "--target", tmp]
        subprocess.run([*pip, *options, MONOLITHIC_SDK], check=True, capture_output=True)
        return package.size_of(Path(tmp)) / 1e6
