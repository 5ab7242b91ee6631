"""Every command README.md and docs/*.md show in a code block runs, or is listed here as needing the cloud.

A command is a fenced or indented code line starting with `make `, `.venv/bin/python -m `, `python -m `,
`npx `, `components ` or `SERVERLESS_PLATFORM_VENDOR=` (a line ending in `\\` continues on the next). It is

- listed in CLOUD (a pattern, with the reason): it needs a cloud account or a deployed app; not run;
- a make target in MAKE_DRY (it installs, builds, deploys, rewrites committed files or takes long):
  `make -n` checks that the target exists and its recipe expands;
- a make target in MAKE_RUN, or a `python -m` command: run from the repository root, and it must exit 0.

Runs are offline and leave the repository alone: no credentials and no bundle settings leak in from the
shell (ALERT_DRY_RUN=1 wins over a `.env`), a sitecustomize refuses every connection outside loopback,
placeholders and the user's own files (`<topic id>`, `path/to/your-submit-job.json`, `export.jsonl`) are
replaced by samples in a scratch directory, and so are `/tmp/...` paths, `--patch` files and `>` targets.
A command shown that none of these rules covers fails the test: classify it here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from tests.helpers import ROOT

DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
PREFIXES = (
    "make ",
    ".venv/bin/python -m ",
    "python -m ",
    "npx ",
    "components ",
    "SERVERLESS_PLATFORM_VENDOR=",
)
# Shown, never run: they need a cloud account or a deployed app. (pattern searched in the command, reason)
CLOUD: tuple[tuple[str, str], ...] = (
    (r"--create\b", "creates cloud resources through the SDK with your credentials"),
    (r"^(SERVERLESS_PLATFORM_VENDOR=\S+ )?npx ", "the components CLI (from npm) deploys to your account"),
    (
        r"^(SERVERLESS_PLATFORM_VENDOR=\S+ )?components ",
        "the components CLI deploys or reads the deployed app",
    ),
    (r"\bLIVE=1\b|--live\b", "the real cloud and the real chat channels, on purpose"),
    (r"^\S+ -m tools\.doctor .*--(cloud|send-test)\b", "asks the cloud, or posts to your chat channels"),
)
# Make targets checked with `make -n` only (target -> why it is not run here).
MAKE_DRY = {
    "test": "every check, this test included",
    "lint": "part of make test",
    "typecheck": "part of make test",
    "compat": "part of make test",
    "pytest": "the whole suite, this test included",
    "package": "pip-installs Linux wheels into build/ (network, a minute)",
    "serverless": "rewrites the committed serverless.yml and .env.example",
    "bench": "minutes of benchmarks",
    "clean": "deletes build/ and the caches",
    "doctor": "reads your .env: its result is your settings'",
    "local": "a server that runs until stopped (its page is tested in tests/test_local_page.py)",
    "fuzz": "a campaign of 100,000 inputs, minutes long",
    "settings-doc": "rewrites docs/settings.md (tests/test_settings_reference.py checks it)",
}
# Make targets run for real (offline, quick, and they write nothing but stdout).
MAKE_RUN = frozenset({"invoke", "invoke-all", "policy"})
# A command that would take longer than about 20 s: run as `<module> --help` instead. (pattern, reason)
HELP_ONLY: tuple[tuple[str, str], ...] = ()
# The make stamps: never remade by a docs command (that would pip-install).
STAMPS = (".venv/.installed", ".venv/.installed-runtime")
TIMEOUT_S = 60
MINIMAL_SUBMIT_JOB = {
    "Placement": {"Zone": "ap-guangzhou-3"},
    "Job": {
        "JobName": "render",
        "Tasks": [
            {
                "TaskName": "frames",
                "TaskInstanceNum": 1,
                "Application": {"DeliveryForm": "LOCAL", "Command": "render.sh"},
                "ComputeEnv": {"EnvType": "MANAGED", "EnvData": {"InstanceType": "S5.MEDIUM4"}},
            }
        ],
    },
}
_BUNDLE_NAMES = re.compile(
    r"^(ALERT_|WECOM_|DINGTALK_|FEISHU_|SLACK_|RETRY_|CHURN_|BATCH_|CAPTURE_|CMQ_|POLL_|PUSH_|TENCENT|TDMQ_)"
)
_GUARD = '''\
"""Docs-command test: no connection outside loopback (sitecustomize, on PYTHONPATH for the run)."""
import socket

_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _local(host):
    return isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127."))


def _check(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    if sock.family != getattr(socket, "AF_UNIX", None) and not _local(host):
        raise OSError(f"the docs-command test refuses network connections ({address!r})")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _local(host if isinstance(host, str) else host.decode()):
        raise socket.gaierror(f"the docs-command test resolves no names ({host!r})")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
'''


_INLINE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Shown:
    """One command as a document shows it."""

    file: str
    line: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def shown_commands(paths: tuple[Path, ...] = DOCS, root: Path = ROOT) -> list[Shown]:
    """Every command in a fenced or indented code block (continuation lines joined), and every inline
    code span in the prose that is a command (`make serverless DELIVERY=queue`)."""
    out: list[Shown] = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        fence: Optional[str] = None
        index = 0
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            if stripped.startswith(("```", "~~~")):
                marker = stripped[:3]
                fence = None if fence == marker else (fence or marker)
                index += 1
                continue
            code = fence is not None or line.startswith(("    ", "\t"))
            start = index
            if not code:
                # Inline, only make commands: the prose also names module syntax (`python -m tools.x ARGS`).
                for span in _INLINE.findall(line):
                    if span.strip().startswith("make ") and "<" not in span:
                        out.append(Shown(path.relative_to(root).as_posix(), start + 1, span.strip()))
            if code and stripped.startswith(PREFIXES):
                text = stripped
                while text.endswith("\\") and index + 1 < len(lines):
                    index += 1
                    text = text[:-1].rstrip() + " " + lines[index].strip()
                out.append(Shown(path.relative_to(root).as_posix(), start + 1, text))
            index += 1
    return out


def cloud_reason(text: str) -> Optional[str]:
    """Why the command is not run here, when it needs the cloud."""
    return next((reason for pattern, reason in CLOUD if re.search(pattern, text)), None)


def make_target(text: str) -> Optional[str]:
    """The target of a `make` command (after any VAR=value and -flags), or None."""
    words = shlex.split(text)
    rest = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
    return rest[0] if rest else None


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scratch directory: the guard, the user's files (samples), and every file a command writes."""
    root = tmp_path_factory.mktemp("docs-commands")
    guard = root / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_GUARD, encoding="utf-8")
    (root / "submit-job.json").write_text(json.dumps(MINIMAL_SUBMIT_JOB), encoding="utf-8")
    # A CLS download of log_node_churn's lines: the function's own output on a sample.
    churn = subprocess.run(
        [
            sys.executable,
            *("-m", "tools.invoke", "log_node_churn", "events/cmq_topic_churn_env_lifecycle.json"),
            *("--env-file", os.devnull),
        ],
        cwd=ROOT,
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )
    (root / "export.jsonl").write_text(churn.stdout, encoding="utf-8")
    return root


def environment(workspace: Path) -> dict[str, str]:
    """The shell's environment without the bundle's settings or any credentials; offline; dry-run alerts."""
    env = {k: v for k, v in os.environ.items() if not _BUNDLE_NAMES.match(k)}
    env["ALERT_DRY_RUN"] = "1"  # wins over a .env holding real channel URLs
    env["PYTHONPATH"] = str(workspace / "guard")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def runnable(shown: Shown, workspace: Path) -> str:
    """The command to run: placeholders and files replaced, the interpreter, make's stamps left alone."""
    text = re.sub(r"(?<![\w./-])/tmp/", "{workspace}/", shown.text)
    substitutions = {
        "<topic id>": "6a1f0c3e-0000-4000-8000-000000000000",
        "path/to/your-submit-job.json": str(workspace / "submit-job.json"),
        "export.jsonl": str(workspace / "export.jsonl"),
        "churn.png": str(workspace / "churn.png"),
    }
    for placeholder, value in substitutions.items():
        text = text.replace(placeholder, value)
    text = text.replace("{workspace}", str(workspace))

    def patched(match: re.Match[str]) -> str:  # --patch edits its file in place: edit a copy
        source = Path(match.group(2))
        if not source.is_absolute():
            source = ROOT / source
            assert source.is_file(), f"{shown.where}: --patch {match.group(2)}: no such file (substitute it)"
            copy = workspace / f"patched-{source.name}"
            shutil.copy(source, copy)
            source = copy
        return f"{match.group(1)}{source}"

    text = re.sub(r"(--patch\s+)(\S+)", patched, text)
    text = re.sub(r">\s*(?!/)(\S+)", lambda m: f"> {workspace / Path(m.group(1)).name}", text)
    leftover = re.search(r"<[^<>]+>|\.\.\.", text)
    assert leftover is None, f"{shown.where}: substitute the placeholder {leftover.group(0)!r} in this test"
    if re.match(r"^\S+ -m tools\.doctor\b", text):
        text += f" --env-file {os.devnull}"  # the doctor checks the run's clean environment, not your .env
    python = shlex.quote(sys.executable)
    text = re.sub(r"^(\.venv/bin/python|python) -m ", f"{python} -m ", text)
    for pattern, _ in HELP_ONLY:
        if re.search(pattern, text):
            module = re.match(r"^\S+ -m (\S+)", text)
            assert module, f"{shown.where}: HELP_ONLY applies to `python -m` commands"
            text = f"{python} -m {module.group(1)} --help"
    if text.startswith("make "):
        stamps = " ".join(f"-o {stamp}" for stamp in STAMPS)
        text = f"make {stamps} {text[len('make ') :]}"
    return text


def plan(shown: Shown, workspace: Path) -> tuple[str, Optional[str]]:
    """(what runs, or "" when nothing does; why not, when not)."""
    reason = cloud_reason(shown.text)
    if reason:
        return "", reason
    if shown.text.startswith("make "):
        target = make_target(shown.text)
        assert target in MAKE_RUN or target in MAKE_DRY, (
            f"{shown.where}: `make {target}`: put the target in MAKE_RUN (run it) or MAKE_DRY (make -n) "
            "in tests/test_docs_commands.py"
        )
        if target in MAKE_DRY:
            return f"make -n {shown.text[len('make ') :]}", None
        return runnable(shown, workspace), None
    assert re.match(r"^(\.venv/bin/python|python) -m ", shown.text), (
        f"{shown.where}: {shown.text!r} is neither run nor in CLOUD: "
        "classify it in tests/test_docs_commands.py"
    )
    return runnable(shown, workspace), None


SHOWN = shown_commands()


def test_the_docs_show_commands_and_the_scan_finds_them():
    assert len(SHOWN) >= 10
    assert any(s.text.startswith("make invoke ") for s in SHOWN)


@pytest.mark.parametrize("shown", SHOWN, ids=[s.where for s in SHOWN])
def test_each_command_shown_runs_or_needs_the_cloud(shown: Shown, workspace: Path):
    command, reason = plan(shown, workspace)
    if reason:
        assert command == ""
        return  # shown, not run: needs a cloud account or a deploy (CLOUD)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=ROOT,
        env=environment(workspace),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    took = time.monotonic() - started
    assert result.returncode == 0, (
        f"{shown.where}: `{shown.text}` exited {result.returncode} (ran `{command}`)\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )
    assert took < TIMEOUT_S / 2, (
        f"{shown.where}: took {took:.0f} s: run it with --help (HELP_ONLY) or make -n"
    )


def test_scan_joins_continuations_and_reads_fences_and_indented_blocks(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        textwrap.dedent(
            """\
            Prose that says make sure, runs `make inline`, names `python -m tools.z ARGS` (not a command).

                make invoke EVENT=a.json
                .venv/bin/python -m tools.x --a \\
                    --b

            ```bash
            python -m tools.y
            echo not a command
            ```
            """
        ),
        encoding="utf-8",
    )
    found = [(s.where, s.text) for s in shown_commands((doc,), tmp_path)]
    assert found == [
        ("x.md:1", "make inline"),
        ("x.md:3", "make invoke EVENT=a.json"),
        ("x.md:4", ".venv/bin/python -m tools.x --a --b"),
        ("x.md:8", "python -m tools.y"),
    ]


def test_plan_classifies_and_substitutes(tmp_path):
    def planned(text: str) -> tuple[str, Optional[str]]:
        return plan(Shown("d.md", 1, text), tmp_path)

    assert planned("make test") == ("make -n test", None)
    assert planned("SERVERLESS_PLATFORM_VENDOR=tencent components deploy --noValidation")[0] == ""
    assert planned(".venv/bin/python -m tools.setup_cls --region r --topic-id <topic id> --create")[0] == ""
    command, _ = planned(".venv/bin/python -m tools.generate_event JOB_FAILED --out /tmp/e.json")
    assert command.endswith(f"--out {tmp_path}/e.json") and command.startswith(shlex.quote(sys.executable))
    command, _ = planned(".venv/bin/python -m tools.render_serverless --delivery cmq > serverless.yml")
    assert command.endswith(f"> {tmp_path / 'serverless.yml'}")
    command, _ = planned("make invoke FUNCTION=alert_failures EVENT=events/cmq_topic_job_failed.json")
    assert command.startswith("make -o .venv/.installed -o .venv/.installed-runtime invoke ")
    assert planned(".venv/bin/python -m tools.doctor --delivery queue --cloud")[0] == ""
    command, _ = planned(".venv/bin/python -m tools.doctor")
    assert command.endswith(f"-m tools.doctor --env-file {os.devnull}")
    with pytest.raises(AssertionError, match="classify it"):
        planned("python3 tools/x.py")
    with pytest.raises(AssertionError, match="MAKE_RUN"):
        planned("make deploy-everything")
    with pytest.raises(AssertionError, match="placeholder"):
        planned(".venv/bin/python -m tools.setup_cls --topic-id <your topic>")
