"""The hostile-input campaign: every handler on every delivery path, with the fakes, held to the contract.

    python -m tools.fuzz --count 100000 --seed 7          # `make fuzz`; never part of `make test`
    python -m tools.fuzz --seed 7 --replay 1234           # one input again, with its logs and traceback

Inputs come from the mutation engine in tests/strategies.py, driven by `random.Random(f"{seed}-{n}")`
for input n, so any input is reproduced from the seed and its number. Handler and path go round-robin.
The contract (also asserted by tests/test_hostile_inputs.py, through the same `Harness`):

- trigger path: a JSON-serialisable summary counting every record, or RetryableFailure only when a
  redelivery can help (never, with healthy fakes); no other exception;
- queue path: never raises; received = deleted + left_for_redelivery + delete_failed, and with healthy
  fakes every message is deleted (a poison message is not redelivered, nor are the good ones beside it);
- push path: never raises; {statusCode, headers, body}: 200 with the right token, 401/403 without;
- every stdout line is one JSON object and encodes as UTF-8, and so does the return value;
- no run takes longer than its time limit (plus a small slack).

Exit status 0 when nothing broke the contract, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import random
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

import pytest

from shared.errors import ConfigError, RetryableFailure
from tests.fakes.batch import BatchBackend, fake_batch_api
from tests.fakes.batch.scenario import sample_cloud, sample_jobs
from tests.fakes.chat import CHANNELS, ChatBackend, channel_env, fake_chat
from tests.fakes.cmq import ENDPOINT as CMQ_ENDPOINT
from tests.fakes.cmq import CmqBackend, fake_cmq_api
from tests.helpers import FUNCTIONS, load_handler
from tests.strategies import (
    BUILDERS,
    CLASSES,
    PATHS,
    TOKEN,
    Case,
    PushCase,
    QueueCase,
    RandomSource,
    TriggerCase,
    decode_sample_body,
    delivery_event,
)

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MS = 5000
SLACK_S = 0.5
CMQ_SECRET_KEY = "cmq-secret-key"  # noqa: S105 - the fake queue's key
QUEUE = "batch-events-hostile"
CONTEXT = {
    "request_id": "hostile-1",
    "function_name": "hostile",
    "tencentcloud_region": "ap-guangzhou",
    "tencentcloud_uin": "100000000001",
}
COMBOS = tuple((function, path) for path in PATHS for function in FUNCTIONS)

# --- the contract, one check per clause ---------------------------------------------------------


def check_lines(text: str) -> list[tuple[str, str]]:
    """Every stdout line must be one JSON object that encodes as UTF-8: (kind, detail) per bad line."""
    bad: list[tuple[str, str]] = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError as exc:
            bad.append(("stdout line is not JSON", f"{exc}: {line[:120]!r}"))
            continue
        msg = record.get("msg") if isinstance(record, dict) else None
        if not isinstance(record, dict):
            bad.append(("stdout line is not a JSON object", repr(line[:120])))
            continue
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad.append(
                (f"stdout line is not UTF-8: {msg!r} line", f"{exc.reason} at {exc.start}: {line[:160]!r}")
            )
    return bad


def check_encodable(result: Any) -> list[tuple[str, str]]:
    """The return value must be JSON that encodes as UTF-8."""
    try:
        json.dumps(result, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        return [(f"return value is not JSON/UTF-8 ({type(exc).__name__})", str(exc)[:200])]
    return []


def _counts(summary: Mapping[str, Any]) -> tuple[int, int, int]:
    def number(key: str) -> int:
        value = summary.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

    return number("records"), number("events"), number("rejected")


def check_summary(summary: Any, records: int, where: str) -> tuple[int, list[tuple[str, str]]]:
    """`records` counted, and each of them an event or a rejection: (records unaccounted, problems)."""
    if not isinstance(summary, Mapping):
        return records, [(f"{where}: summary is not a dict", type(summary).__name__)]
    counted, events, rejected = _counts(summary)
    problems: list[tuple[str, str]] = []
    missing = 0
    if counted != records:
        problems.append((f"{where}: summary.records is not the number of records", f"{counted} != {records}"))
        missing += abs(records - counted) if counted >= 0 else records
    if events < 0 or rejected < 0 or events + rejected < records:
        problems.append(
            (
                f"{where}: records neither events nor rejected",
                f"events={events} rejected={rejected} of {records}",
            )
        )
        missing = max(missing, records - max(0, events) - max(0, rejected))
    return missing, problems


def check_trigger(case: TriggerCase, result: Any) -> tuple[int, list[tuple[str, str]]]:
    """Clause 1 for a returned summary."""
    return check_summary(result, case.records, "trigger")


def good_event_count(case: QueueCase) -> int:
    """How many events the good messages of a queue case hold."""
    return sum(
        len(decode_sample_body(body)["Events"]) for n, body in enumerate(case.bodies) if n not in case.poison
    )


def check_queue(case: QueueCase, result: Any, backend: CmqBackend) -> tuple[int, list[tuple[str, str]]]:
    """Clause 2: every message received and deleted (healthy fakes); the good ones' events parsed."""
    sent = len(case.bodies)
    missing, problems = check_summary(result, sent, "queue")
    if not isinstance(result, Mapping):
        return missing, problems

    def number(key: str) -> int:
        value = result.get(key)
        return value if isinstance(value, int) else -1

    received, deleted = number("received"), number("deleted")
    left, failed = number("left_for_redelivery"), number("delete_failed")
    if received != sent:
        problems.append(("queue: not every message was received", f"{received} of {sent}"))
    if received != deleted + left + failed:
        problems.append(
            (
                "queue: received != deleted + left_for_redelivery + delete_failed",
                f"{received} {deleted} {left} {failed}",
            )
        )
        missing = max(missing, abs(received - deleted - left - failed))
    if left > 0:
        problems.append(("queue: message left for redelivery with healthy fakes", f"{left} of {sent}"))
    remaining = backend.visible_count(QUEUE)
    if remaining:
        problems.append(("queue: messages still in the queue after the run", f"{remaining} of {sent}"))
    events = result.get("events")
    good = good_event_count(case)
    if isinstance(events, int) and events < good:
        problems.append(("queue: the good messages' events were not all parsed", f"events={events} < {good}"))
    return missing, problems


def check_push(case: PushCase, result: Any) -> tuple[int, list[tuple[str, str]]]:
    """Clause 3: an HTTP answer; 200 with the right token (handled or poison), 401/403 without."""
    if not isinstance(result, Mapping):
        return 0, [("push: answer is not a dict", type(result).__name__)]
    status, body = result.get("statusCode"), result.get("body")
    problems: list[tuple[str, str]] = []
    if (
        not isinstance(status, int)
        or not isinstance(body, str)
        or not isinstance(result.get("headers"), Mapping)
    ):
        return 0, [("push: answer is not {statusCode: int, headers, body: str}", repr(result)[:200])]
    if not case.authenticated:
        if status not in (401, 403):
            problems.append((f"push: wrong token answered {status}, not 401/403", ""))
        return 0, problems
    if status != 200:
        problems.append((f"push: right token answered {status}, not 200", body[:200]))
        return 0, problems
    try:
        summary = json.loads(body).get("summary")
    except (ValueError, AttributeError):
        return 0, [("push: 200 body is not JSON with a summary", body[:200])]
    return check_summary(summary, 1, "push")


# --- one run -------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What one run did, and every way it broke the contract."""

    function: str
    path: str
    case: Case
    limit_s: float
    elapsed_s: float = 0.0
    result: Any = None
    exception: Optional[BaseException] = None
    traceback: str = ""
    unaccounted: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    bad_output: list[tuple[str, str]] = field(default_factory=list)
    stdout: str = ""

    def __repr__(self) -> str:
        return f"Verdict({self.function} on the {self.path} path, {self.case!r})"

    @property
    def allowed_exception(self) -> bool:
        """RetryableFailure or ConfigError on the trigger path: the handler's way to ask for a retry."""
        return self.path == "trigger" and isinstance(self.exception, (RetryableFailure, ConfigError))

    @property
    def escaped(self) -> bool:
        """An exception the path must never let out."""
        return self.exception is not None and not self.allowed_exception

    @property
    def over_time(self) -> bool:
        """Longer than the time limit, plus the slack."""
        return self.elapsed_s > self.limit_s + SLACK_S

    @property
    def ok(self) -> bool:
        """No clause broken."""
        return not (self.escaped or self.problems or self.bad_output or self.over_time or self.unaccounted)

    def where(self) -> str:
        """The deepest frame of the bundle's own code in the traceback (file:line in function)."""
        return exception_site(self.exception) if self.exception is not None else ""

    def describe(self) -> str:
        """Everything wrong with this run, for an assertion message."""
        lines = [f"{self.function} on the {self.path} path: {self.case!r}"]
        if self.escaped:
            lines.append(f"escaped {type(self.exception).__name__} at {self.where()}: {self.exception}"[:400])
            lines.append(self.traceback)
        lines += [f"contract: {kind} ({detail})"[:400] for kind, detail in self.problems]
        if self.unaccounted:
            lines.append(f"records not accounted for: {self.unaccounted}")
        lines += [f"output: {kind} ({detail})"[:400] for kind, detail in self.bad_output]
        if self.over_time:
            lines.append(f"took {self.elapsed_s:.2f}s, limit {self.limit_s:.1f}s")
        return "\n".join(lines)


def exception_site(exc: BaseException) -> str:
    """file:line in function of the deepest frame under shared/ or functions/ (else the deepest)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith((str(ROOT / "shared"), str(ROOT / "functions")))]
    if not (own or frames):
        return "?"
    frame = (own or frames)[-1]
    path = Path(frame.filename)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def _traceback_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc, limit=-8, chain=True))[-4000:]


class Harness:
    """The three handlers with every fake active: Batch API, TDMQ-CMQ queue, chat robots.

    The environment is set once (through `monkeypatch`); each run gets a fresh Batch backend, queue
    and retry ledger, and the fakes are opened for that run only (they record every request, so a
    campaign-long fake would hold every 1 MB body it was sent).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, chat: ChatBackend) -> None:
        self.monkeypatch = monkeypatch
        self.chat = chat
        self.jobs = sample_jobs()
        self.handlers: dict[str, ModuleType] = {name: load_handler(name) for name in FUNCTIONS}
        self.batch = BatchBackend()
        self.cmq = CmqBackend()

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        monkeypatch: pytest.MonkeyPatch,
        *,
        chat: Optional[ChatBackend] = None,
        channels: Sequence[str] = (),
    ) -> Iterator[Harness]:
        """Settings for the block: role credentials, memory ledger, queue, push token, channels."""
        for folder in (ROOT, *(ROOT / "functions" / name for name in FUNCTIONS)):
            if str(folder) not in sys.path:  # as SCF lays them out (tests/conftest.py does the same)
                sys.path.insert(0, str(folder))
        with sample_cloud(monkeypatch):
            for key, value in {
                "CMQ_QUEUE_NAME": QUEUE,
                "CMQ_ENDPOINT": CMQ_ENDPOINT,
                "CMQ_SECRET_ID": "AKIDqueue",
                "CMQ_SECRET_KEY": CMQ_SECRET_KEY,
                "POLL_RESERVE_S": "1",  # a 5 s function keeps 4 s to receive in
                "PUSH_TOKEN": TOKEN,
            }.items():
                monkeypatch.setenv(key, value)
            harness = cls(monkeypatch, chat if chat is not None else ChatBackend())
            saved: dict[str, Optional[str]] = {key: os.environ.get(key) for key in channel_env(*CHANNELS)}
            harness.use_channels(channels)
            try:
                yield harness
            finally:
                for name, before in saved.items():
                    if before is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = before

    def use_channels(self, channels: Sequence[str]) -> None:
        """alert_failures sends to these fake channels from now on (none: a dry run). Set in
        os.environ directly (`open` restores them): a campaign switches them on every run."""
        for key in channel_env(*CHANNELS):
            os.environ.pop(key, None)
        if channels:
            os.environ.update(channel_env(*channels))

    def _fresh(self) -> None:
        import retrying

        retrying.reset_memory_ledger()
        self.batch = BatchBackend()
        for job_id, region in self.jobs.items():
            self.batch.add_job(job_id, region=region)
        self.cmq = CmqBackend()
        self.cmq.create_queue("dead-letters")
        self.cmq.create_queue(QUEUE, dead_letter="dead-letters", max_receive_count=5)
        self.chat.received.clear()

    @contextlib.contextmanager
    def _fakes(self) -> Iterator[None]:
        with (
            fake_batch_api(self.batch),
            fake_cmq_api(self.cmq, CMQ_ENDPOINT, CMQ_SECRET_KEY),
            fake_chat(self.chat),
        ):
            yield

    def run(self, function: str, case: Case, limit_ms: int = LIMIT_MS) -> Verdict:
        """Run `case` through `function`'s handler on the case's path and check every clause."""
        self._fresh()
        path = (
            "trigger" if isinstance(case, TriggerCase) else "queue" if isinstance(case, QueueCase) else "push"
        )
        verdict = Verdict(function, path, case, limit_ms / 1000)
        if isinstance(case, QueueCase):
            for body in case.bodies:
                self.cmq.send(QUEUE, body)
            event: Any = delivery_event("timer_poll_queue.json")
        else:
            event = case.event
        context = {**CONTEXT, "time_limit_in_ms": limit_ms}
        out, err = io.StringIO(), io.StringIO()
        try:
            with self._fakes():
                start = time.monotonic()
                try:
                    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                        verdict.result = self.handlers[function].main_handler(event, context)
                except Exception as exc:
                    verdict.exception = exc
                    verdict.traceback = _traceback_text(exc)
                verdict.elapsed_s = time.monotonic() - start
        except AssertionError as broken:  # a fake's callback raised on what the handler sent
            verdict.problems.append(("a fake could not read what the handler sent", str(broken)[-300:]))
        verdict.stdout = out.getvalue()
        verdict.bad_output = check_lines(verdict.stdout)
        if verdict.exception is None:
            verdict.bad_output += check_encodable(verdict.result)
            if isinstance(case, TriggerCase):
                verdict.unaccounted, verdict.problems = check_trigger(case, verdict.result)
            elif isinstance(case, QueueCase):
                verdict.unaccounted, verdict.problems = check_queue(case, verdict.result, self.cmq)
            else:
                verdict.unaccounted, verdict.problems = check_push(case, verdict.result)
        elif verdict.allowed_exception:
            # Allowed on the trigger path, but with healthy fakes and a valid configuration no
            # hostile content is a reason to ask SCF for another delivery.
            kind = f"trigger: {type(verdict.exception).__name__} raised with healthy fakes"
            verdict.problems.append((kind, str(verdict.exception)[:200]))
        return verdict


# --- the campaign --------------------------------------------------------------------------------


@dataclass
class Finding:
    """One kind of failure: how often, and its first occurrence (plain text, so workers can send it)."""

    count: int = 0
    first_input: int = -1
    first: str = ""
    detail: str = ""
    traceback: str = ""

    def merge(self, other: Finding) -> None:
        """Add another worker's tally; the earlier input stays the first."""
        self.count += other.count
        if self.first_input < 0 or 0 <= other.first_input < self.first_input:
            self.first_input, self.first = other.first_input, other.first
            self.detail, self.traceback = other.detail, other.traceback


def _merge_findings(into: dict[str, Finding], other: Mapping[str, Finding]) -> None:
    for key, finding in other.items():
        into.setdefault(key, Finding()).merge(finding)


@dataclass
class Campaign:
    """Tallies over every run; the first run of each kind of failure is kept."""

    seed: int
    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    escaped: dict[str, Finding] = field(default_factory=dict)
    problems: dict[str, Finding] = field(default_factory=dict)
    output: dict[str, Finding] = field(default_factory=dict)
    allowed: Counter[str] = field(default_factory=Counter)
    unaccounted: int = 0
    bad_lines: int = 0
    over_time: list[tuple[float, int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @staticmethod
    def _note(groups: dict[str, Finding], key: str, number: int, verdict: Verdict, detail: str) -> None:
        finding = groups.setdefault(key, Finding())
        finding.count += 1
        if finding.first_input < 0:
            finding.first_input = number
            finding.first = f"{verdict.function}/{verdict.path} {verdict.case!r}"[:400]
            finding.detail = detail[:300]
            finding.traceback = verdict.traceback if verdict.escaped else ""

    def add(self, number: int, verdict: Verdict) -> None:
        """Count one run."""
        self.runs[(verdict.function, verdict.path)] += 1
        if verdict.escaped and verdict.exception is not None:
            key = f"{type(verdict.exception).__name__} at {verdict.where()}"
            self._note(self.escaped, key, number, verdict, str(verdict.exception)[:200])
        elif verdict.exception is not None:
            self.allowed[type(verdict.exception).__name__] += 1
        for kind, detail in verdict.problems:
            self._note(self.problems, kind, number, verdict, detail)
        for kind, detail in verdict.bad_output:
            self._note(self.output, kind, number, verdict, detail)
        self.bad_lines += sum(1 for kind, _ in verdict.bad_output if kind.startswith("stdout"))
        self.unaccounted += verdict.unaccounted
        if verdict.over_time:
            what = f"{verdict.function}/{verdict.path} {verdict.case!r}"[:300]
            self.over_time.append((verdict.elapsed_s, number, what))

    def merge(self, other: Campaign) -> None:
        """Add another worker's campaign."""
        self.runs.update(other.runs)
        self.allowed.update(other.allowed)
        for mine, theirs in ((self.escaped, other.escaped), (self.problems, other.problems)):
            _merge_findings(mine, theirs)
        _merge_findings(self.output, other.output)
        self.unaccounted += other.unaccounted
        self.bad_lines += other.bad_lines
        self.over_time += other.over_time

    @property
    def clean(self) -> bool:
        """True when no run broke any clause."""
        return not (self.escaped or self.problems or self.output or self.unaccounted or self.over_time)

    def report(self) -> str:
        """The campaign's findings, grouped, with the first example of each."""
        total = sum(self.runs.values())
        out = [f"hostile-input campaign: seed {self.seed}, {total} inputs run in {self.seconds:.1f} s"]
        out.append(f"  {'':20}" + "".join(f"{p:>10}" for p in PATHS))
        for function in FUNCTIONS:
            out.append(f"  {function:20}" + "".join(f"{self.runs[(function, p)]:>10}" for p in PATHS))
        out.append(f"\nescaped exceptions: {sum(f.count for f in self.escaped.values())}")
        by_type = Counter[str]()
        for key, finding in self.escaped.items():
            by_type[key.split(" at ", 1)[0]] += finding.count
        out += [f"  {name}: {count}" for name, count in by_type.most_common()]
        for key, finding in _by_count(self.escaped):
            out.append(_shown(key, finding))
            out.append("      " + finding.traceback.rstrip().replace("\n", "\n      "))
        out.append(f"\nrecords not accounted for: {self.unaccounted}")
        out.append(f"contract violations: {sum(f.count for f in self.problems.values())}")
        out += [_shown(key, finding) for key, finding in _by_count(self.problems)]
        if self.allowed:
            shown = ", ".join(f"{name} {count}" for name, count in self.allowed.items())
            out.append(f"  (RetryableFailure/ConfigError on the trigger path, counted above: {shown})")
        returned = sum(f.count for k, f in self.output.items() if k.startswith("return value"))
        out.append(f"\nlines not JSON/UTF-8: {self.bad_lines} (return values: {returned})")
        out += [_shown(key, finding) for key, finding in _by_count(self.output)]
        out.append(f"\nruns over the time limit (+{SLACK_S} s): {len(self.over_time)}")
        slowest = sorted(self.over_time, reverse=True)[:5]
        out += [f"  {seconds:.2f} s  input #{number}: {what}" for seconds, number, what in slowest]
        out.append("\nclean" if self.clean else "\nCONTRACT BROKEN (replay one input: --seed S --replay N)")
        return "\n".join(out)


def _by_count(findings: Mapping[str, Finding]) -> list[tuple[str, Finding]]:
    return sorted(findings.items(), key=lambda item: (-item[1].count, item[0]))


def _shown(key: str, finding: Finding) -> str:
    text = f"  [{finding.count}x] {key}\n      first: input #{finding.first_input} {finding.first}"
    return text + (f"\n      {finding.detail}" if finding.detail else "")


def case_for(seed: int, number: int) -> tuple[str, str, Case]:
    """Input `number` of the campaign with `seed`: (function, path, case)."""
    function, path = COMBOS[number % len(COMBOS)]
    src = RandomSource(random.Random(f"{seed}-{number}"))
    return function, path, BUILDERS[path](src, CLASSES)


def channels_for(function: str, number: int) -> tuple[str, ...]:
    """alert_failures sends to every fake channel on every other round, and dry-runs on the others."""
    return CHANNELS if function == "alert_failures" and (number // len(COMBOS)) % 2 == 1 else ()


def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run reaches the network: only loopback and Unix sockets connect (the fakes are local)."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        local = isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127."))
        if local or self.family == getattr(socket, "AF_UNIX", None):
            return real(self, address)
        raise OSError(f"the campaign never reaches the network: connection to {address!r} refused")

    monkeypatch.setattr(socket.socket, "connect", connect)


def work(seed: int, numbers: range, max_seconds: float) -> Campaign:
    """Run inputs `numbers` of the campaign in this process (a worker of `main`)."""
    campaign = Campaign(seed=seed)
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as monkeypatch:
        _loopback_only(monkeypatch)
        with Harness.open(monkeypatch) as harness:
            for number in numbers:
                if max_seconds and time.monotonic() - start > max_seconds:
                    break
                function, _, case = case_for(seed, number)
                harness.use_channels(channels_for(function, number))
                campaign.add(number, harness.run(function, case))
    return campaign


def replay(seed: int, number: int) -> int:
    """Run one input again and show everything about it."""
    function, _, case = case_for(seed, number)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _loopback_only(monkeypatch)
        with Harness.open(monkeypatch, channels=channels_for(function, number)) as harness:
            verdict = harness.run(function, case)
    print(verdict.describe() if not verdict.ok else f"{function}: {case!r}\nok")
    print(f"took {verdict.elapsed_s:.3f} s; result: {repr(verdict.result)[:1000]}")
    for line in verdict.stdout.splitlines()[:40]:
        print("  | " + line[:300].encode("utf-8", "backslashreplace").decode("utf-8"))
    return 0 if verdict.ok else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the campaign and print the report; 0 when the contract held for every input."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="inputs to run (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="the campaign's seed (default 0)")
    parser.add_argument("--max-seconds", type=float, default=0.0, help="stop after this long (0: no limit)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)"
    )
    parser.add_argument("--replay", type=int, default=None, metavar="N", help="run input N only, verbosely")
    args = parser.parse_args(argv)
    if args.replay is not None:
        return replay(args.seed, args.replay)
    start = time.monotonic()
    jobs = max(1, min(args.jobs, args.count))
    # Input n is seeded by (seed, n) alone, so how the inputs are split between workers changes nothing
    # but the order a worker runs them in. Workers are spawned: a fork would copy the fakes' servers
    # without their threads.
    slices = [range(k, args.count, jobs) for k in range(jobs)]
    if jobs == 1:
        parts = [work(args.seed, slices[0], args.max_seconds)]
    else:
        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            parts = pool.starmap(work, [(args.seed, numbers, args.max_seconds) for numbers in slices])
    campaign = Campaign(seed=args.seed)
    for part in parts:
        campaign.merge(part)
    campaign.seconds = time.monotonic() - start
    print(campaign.report())
    return 0 if campaign.clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
