"""Build what serverless.yml deploys: build/<function>/ = index.py + its package + shared/ + runtime deps.

    python -m tools.package                   # all three functions into build/
    python -m tools.package --python-version 3.10

Runtime requirements are installed for the SCF runtime (Linux x86_64, CPython 3.9 by default) from
binary wheels, whatever Python runs this. Nothing else goes in: no tests, events, caches or tools.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
_JUNK = ("__pycache__", "*.pyc", "*.pyo", "tests", "test", ".*")  # ".*": tool caches (.mypy_cache, ...)
# The cloud services each function's code calls (all optional paths); the other SDK service
# packages of requirements.txt are left out of its directory.
SERVICES = {
    "alert_failures": {"batch"},
    "retry_interrupted": {"batch", "tag"},
    "log_node_churn": {"monitor"},
}


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_JUNK), dirs_exist_ok=True)


def install_requirements(target: Path, requirements: Path, python_version: str) -> None:
    """pip-install the pinned runtime requirements as wheels for the SCF runtime into `target`."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target), "--requirement", str(requirements),
        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:",
    ]  # fmt: skip
    subprocess.run(command, check=True)
    for junk in ("bin",):
        shutil.rmtree(target / junk, ignore_errors=True)
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def _drop_unused_services(target: Path, keep: set[str]) -> None:
    for service in (target / "tencentcloud").iterdir():
        if service.is_dir() and service.name not in keep | {"common"}:
            shutil.rmtree(service)
            for info in target.glob(f"tencentcloud_sdk_python_{service.name}-*.dist-info"):
                shutil.rmtree(info)


def size_of(path: Path) -> int:
    """Bytes of all files below `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(
    out: Path, python_version: str = "3.9", functions: Sequence[str] = FUNCTIONS, root: Path = ROOT
) -> dict[str, int]:
    """Build each function's code directory under `out`; returns their sizes in bytes."""
    shutil.rmtree(out, ignore_errors=True)
    deps = out / ".deps"
    install_requirements(deps, root / "requirements.txt", python_version)
    sizes = {}
    for function in functions:
        target = out / function
        _copy_tree(root / "functions" / function, target)
        _copy_tree(root / "shared", target / "shared")
        _copy_tree(deps, target)
        _drop_unused_services(target, SERVICES.get(function, set()))
        sizes[function] = size_of(target)
    shutil.rmtree(deps)
    return sizes


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: build and print the sizes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--python-version", default="3.9", choices=("3.9", "3.10"))
    args = parser.parse_args(argv)
    sizes = build(args.out, args.python_version)
    for function, size in sizes.items():
        print(f"{args.out / function}: {size / 1_000_000:.1f} MB")
    print(f"total: {sum(sizes.values()) / 1_000_000:.1f} MB (Python {args.python_version}, linux x86_64)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
