"""A handler's import pulls in only what its own path needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT

HEAVY = ("tencentcloud", "requests", "urllib3")


def _modules_after_import(function: str) -> set[str]:
    code = (
        "import sys; sys.path[:0] = [{root!r}, {folder!r}]\n"
        "import importlib.util as u\n"
        "s = u.spec_from_file_location('h', {index!r}); m = u.module_from_spec(s); s.loader.exec_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))"
    ).format(
        root=str(ROOT),
        folder=str(ROOT / "functions" / function),
        index=str(ROOT / "functions" / function / "index.py"),
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("function", ["alert_failures", "retry_interrupted", "log_node_churn"])
def test_handler_import_does_not_load_the_sdk_or_requests(function):
    loaded = _modules_after_import(function)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


def test_tests_cannot_reach_the_network():
    import socket

    with pytest.raises(OSError, match="never reach the network"):
        socket.create_connection(("203.0.113.10", 443), timeout=1)


# What a cold start measured as its heaviest standard-library imports (docs/benchmarks.md): none of
# them is needed on any path of any function. `dataclasses` loads inspect, ast and tokenize;
# http.client loads the email package; concurrent.futures loads logging; hashlib loads OpenSSL.
AVOIDED = ("dataclasses", "inspect", "http", "email", "concurrent", "logging", "hashlib")


@pytest.mark.parametrize("function", ["alert_failures", "retry_interrupted", "log_node_churn"])
def test_handler_import_avoids_the_costly_standard_library_modules(function):
    loaded = _modules_after_import(function)
    assert not sorted(m for m in loaded if m.split(".")[0] in AVOIDED)
