"""Tests run with the repository root on sys.path, as the deployed code has `shared` beside index.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(_BUNDLE_PREFIXES) or key.startswith("TENCENTCLOUD_"):
            monkeypatch.delenv(key, raising=False)
