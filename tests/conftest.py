"""Tests run with the repository root on sys.path, as the deployed code has `shared` beside index.py."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
# The repository root (for `shared`, `tools`, `tests`) and each function's folder (for its own
# package: alerting, retrying, churn), as SCF has them side by side in a function's code root.
for _path in (
    ROOT,
    *(ROOT / "functions" / f for f in ("alert_failures", "retry_interrupted", "log_node_churn")),
):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# Settings that would change a function's behaviour must never leak in from the developer's shell.
_BUNDLE_PREFIXES = (
    "ALERT_",
    "WECOM_",
    "DINGTALK_",
    "FEISHU_",
    "SLACK_",
    "RETRY_",
    "CHURN_",
    "BATCH_",
    "CAPTURE_",
)


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127.")):
        return _real_connect(self, address)  # type: ignore[arg-type]
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)  # type: ignore[arg-type]
    raise OSError(f"tests never reach the network: connection to {address!r} refused")


_real_getaddrinfo = socket.getaddrinfo


def _no_lookups(host: object, *args: object, **kwargs: object) -> object:
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    if name is None or not isinstance(name, str) or name == "localhost" or _is_address(name):
        return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
    raise socket.gaierror(socket.EAI_NONAME, f"tests never look up real names: {name!r}")


def _is_address(name: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside loopback fails at once (fakes are `responses` or 127.0.0.1 servers),
    and so does a name lookup (the query itself would leave the machine): an address is connected
    to, or refused, as it is."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    monkeypatch.setattr(socket, "getaddrinfo", _no_lookups)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(_BUNDLE_PREFIXES) or key.startswith("TENCENTCLOUD_"):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture
def robots():
    """The fake chat robots and webhook receiver (tests/fakes/chat), for the alert tests."""
    from tests.fakes.chat import fake_chat

    with fake_chat() as backend:
        yield backend
