"""Run a function locally on an event file the way SCF calls it, and print its logs and return value.

    python -m tools.invoke alert_failures events/cmq_topic_job_failed.json

Settings come from the environment and, when present, a `.env` file at the repository root
(KEY=VALUE lines; the environment wins). The function's folder and the repository root are put
on sys.path, as `make package` lays them side by side in the deployed code.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import traceback
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: invoke, print the return value as JSON; exit 1 when the handler raised."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("function", choices=FUNCTIONS)
    parser.add_argument("event", help="path of an event JSON file (see events/)")
    parser.add_argument("--timeout-ms", type=int, default=30000)
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--env-file", default=str(ROOT / ".env"))
    args = parser.parse_args(argv)
    load_dotenv(Path(args.env_file))
    try:
        event = json.loads(Path(args.event).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read event file {args.event}: {exc}", file=sys.stderr)
        return 2
    handler = load_handler(args.function)
    from shared.errors import ConfigError

    try:
        result = handler.main_handler(event, scf_context(args.function, args.timeout_ms, args.memory_mb))
    except ConfigError as exc:
        print(
            f"--- configuration error (SCF would retry this event until it is fixed): {exc}", file=sys.stderr
        )
        return 2
    except Exception:
        print("--- the handler raised (SCF would retry this event):", file=sys.stderr)
        traceback.print_exc()
        return 1
    print("--- return value:")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
