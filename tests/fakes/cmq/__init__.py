"""A stateful fake of the TDMQ-CMQ queue data API (backend = state, routes = the HTTP layer)."""

from .backend import CmqBackend, FakeClock
from .routes import cmq_callback, fake_cmq_api

__all__ = ["CmqBackend", "FakeClock", "cmq_callback", "fake_cmq_api"]
