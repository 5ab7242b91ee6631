"""One tiny place for loading sample events and handlers in tests."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tools.invoke import load_handler as _load_handler

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")


def load_event(name: str) -> Any:
    """A sample from events/, as a fresh object the test may break."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text(encoding="utf-8")))


def event_files() -> list[str]:
    """Every sample file name in events/."""
    return sorted(p.name for p in EVENTS.glob("*.json"))


def trigger_samples() -> list[str]:
    """The samples that are CMQ trigger events or bare Batch messages (not timer or HTTP events)."""
    out = []
    for name in event_files():
        data = load_event(name)
        if isinstance(data, dict) and (
            "Records" in data or "Events" in data or name.startswith("malformed_")
        ):
            out.append(name)
    return out


def load_handler(function: str) -> ModuleType:
    """functions/<function>/index.py, imported the way SCF does."""
    return _load_handler(function)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every stdout line that is a JSON object (the structured logs)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def modules_after(code: str, *paths: Path, flags: tuple[str, ...] = ("-I",)) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`, with the repository (and
    `paths`, e.g. a function's folder) first on its path: what a cold start imports."""
    folders = [str(ROOT), *map(str, paths)]
    script = f"import sys\nsys.path[:0] = {folders!r}\n{code}\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, *flags, "-c", script], capture_output=True, text=True, check=True)
    return set(done.stdout.split())
