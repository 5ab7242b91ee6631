"""Build what serverless.yml deploys: build/ (inputs.src) holding one code folder per function.

    python -m tools.package                       # all three functions into build/, for Python3.9
    python -m tools.package --runtime Python3.10

build/<function>/ = index.py + the function's package + shared/ + only the runtime dependencies its
code can import (log_node_churn: no Tencent SDK). Requirements are installed for the SCF runtime
(Linux x86_64, CPython of the runtime's version) from binary wheels, whatever Python runs this.

SCF's code directory is read-only, so Python cannot cache bytecode there: a package without it is
compiled from source on every cold start. When an interpreter of the runtime's version is on this
machine (pyenv's, or python3.X on PATH), every module is compiled with it (`unchecked-hash` .pyc, so
the timestamps an unzip sets do not matter); otherwise the package ships source only, and says so.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

from shared.http import HASHED_CA_DIR
from tools.deploy_config import DEFAULT_RUNTIME, RUNTIMES, python_version

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("alert_failures", "retry_interrupted", "log_node_churn")
_JUNK = ("__pycache__", "*.pyc", "*.pyo", "tests", "test", ".*")  # ".*": tool caches (.mypy_cache, ...)
# The SDK talks HTTP through `requests`; shared/http.py (webhooks, the queue API) through the standard
# library, with certifi's CA bundle when it is there, so every function ships certifi.
REQUESTS_STACK = ("requests", "urllib3", "charset_normalizer", "idna")
ALWAYS = ("certifi",)
# What each function's code can import of the runtime requirements: the SDK services it calls
# (None: no SDK, and so no requests either).
SDK_SERVICES: dict[str, Optional[frozenset[str]]] = {
    # Batch and Tag are called through shared/tcapi.py: the SDK's common package only (its error type,
    # and the credential chain off SCF).
    "alert_failures": frozenset(),  # ALERT_ENRICH's DescribeJob / DescribeTask
    "retry_interrupted": frozenset(),
    "log_node_churn": None,
}


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_JUNK), dirs_exist_ok=True)


def install_requirements(target: Path, requirements: Path, version: str) -> None:
    """pip-install the pinned runtime requirements as wheels for the SCF runtime into `target`."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target), "--requirement", str(requirements),
        "--platform", "manylinux2014_x86_64", "--implementation", "cp",
        "--python-version", version, "--only-binary=:all:",
    ]  # fmt: skip
    subprocess.run(command, check=True)
    shutil.rmtree(target / "bin", ignore_errors=True)
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def _dist_infos(deps: Path, top_level: str) -> list[Path]:
    """The .dist-info folders whose top_level.txt (or RECORD) names `top_level`."""
    found = []
    for info in deps.glob("*.dist-info"):
        names = (info / "top_level.txt").read_text().split() if (info / "top_level.txt").exists() else []
        if not names and (info / "RECORD").exists():
            names = sorted({line.split("/", 1)[0] for line in (info / "RECORD").read_text().splitlines()})
        if top_level in names:
            found.append(info)
    return found


def _copy_deps(deps: Path, target: Path, function: str) -> None:
    """Only what the function can import: certifi, and the SDK services it calls with requests."""
    services = SDK_SERVICES[function]
    tops = list(ALWAYS) + ([*REQUESTS_STACK, "tencentcloud"] if services is not None else [])
    for top in tops:
        source = deps / top
        if source.is_dir():
            _copy_tree(source, target / top)
        for info in _dist_infos(deps, top):
            _copy_tree(info, target / info.name)
    if services is None:
        return
    for service in (target / "tencentcloud").iterdir():
        if service.is_dir() and service.name not in services | {"common"}:
            shutil.rmtree(service)
            for info in target.glob(f"tencentcloud_sdk_python_{service.name}-*.dist-info"):
                shutil.rmtree(info)


_PEM = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----[ \t]*(?:\r?\n|$)", re.DOTALL
)


def hash_ca_bundle(bundle: Path, folder: Path) -> int:
    """Write each certificate of a PEM bundle to `folder` as `<subject hash>.<n>`, the layout OpenSSL
    reads as a CA directory (what `c_rehash` makes): a handshake then loads only the certificates it
    needs (shared/http.py, HASHED_CA_DIR). The hash is `openssl x509 -subject_hash`'s; returns how
    many were written, 0 (and no folder) when the openssl command is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return 0
    text = bundle.read_bytes()
    certificates = _PEM.findall(text)
    if len(certificates) != text.count(b"-----BEGIN CERTIFICATE-----"):
        raise ValueError(f"{bundle}: {len(certificates)} certificates read of {text.count(b'BEGIN CERT')}")
    folder.mkdir(parents=True, exist_ok=True)
    taken: dict[str, int] = {}
    for pem in certificates:
        done = subprocess.run(
            [openssl, "x509", "-noout", "-subject_hash"], input=pem, capture_output=True, check=True
        )
        subject = done.stdout.decode("ascii").strip()
        n = taken.get(subject, 0)
        taken[subject] = n + 1
        (folder / f"{subject}.{n}").write_bytes(pem)
    return len(certificates)


def find_python(version: str) -> Optional[str]:
    """An interpreter of `version` (e.g. 3.9) on this machine, or None."""
    candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    on_path = shutil.which(f"python{version}")
    for candidate in [*candidates, *([on_path] if on_path else [])]:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def compile_bytecode(target: Path, python: str) -> None:
    """Every module's .pyc, built by the runtime's interpreter, checked by hash and not by mtime."""
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        str(target),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def size_of(path: Path) -> int:
    """Bytes of all files below `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(
    out: Path,
    runtime: str = DEFAULT_RUNTIME,
    functions: Sequence[str] = FUNCTIONS,
    root: Path = ROOT,
    bytecode: bool = True,
) -> dict[str, int]:
    """Build each function's code folder under `out`; returns their sizes in bytes."""
    version = python_version(runtime)
    python = find_python(version) if bytecode else None
    if bytecode and python is None:
        print(f"no python{version} on this machine: the package ships source only", file=sys.stderr)
    shutil.rmtree(out, ignore_errors=True)
    deps = out.parent / f".{out.name}-deps"
    shutil.rmtree(deps, ignore_errors=True)
    install_requirements(deps, root / "requirements.txt", version)
    bundle = deps / "certifi" / "cacert.pem"
    if bundle.is_file() and not hash_ca_bundle(bundle, bundle.parent / HASHED_CA_DIR):
        print("no openssl command here: the package verifies TLS with the whole CA bundle", file=sys.stderr)
    sizes = {}
    try:
        for function in functions:
            target = out / function
            _copy_tree(root / "functions" / function, target)
            _copy_tree(root / "shared", target / "shared")
            _copy_deps(deps, target, function)
            if python is not None:
                compile_bytecode(target, python)
            sizes[function] = size_of(target)
    finally:
        shutil.rmtree(deps, ignore_errors=True)
    return sizes


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: build and print the sizes."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=RUNTIMES)
    parser.add_argument("--no-bytecode", action="store_true", help="ship source only")
    args = parser.parse_args(argv)
    sizes = build(args.out, args.runtime, bytecode=not args.no_bytecode)
    for function, size in sizes.items():
        print(f"{args.out / function}: {size / 1_000_000:.1f} MB")
    print(f"total: {sum(sizes.values()) / 1_000_000:.1f} MB ({args.runtime}, linux x86_64)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
