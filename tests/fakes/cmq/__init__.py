"""A stateful fake of the TDMQ-CMQ queue data API (backend = state, routes = the HTTP layer on loopback)."""

from .backend import CmqBackend, FakeClock
from .routes import ENDPOINT, HOST, cmq_callback, fake_cmq_api

__all__ = ["ENDPOINT", "HOST", "CmqBackend", "FakeClock", "cmq_callback", "fake_cmq_api"]
