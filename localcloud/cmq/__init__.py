"""A stateful fake of the TDMQ-CMQ queue data API (backend = state, routes = the HTTP layer)."""

from .backend import CmqBackend, FakeClock, Message, Queue, WallClock
from .routes import PATH, SECRET_ID, SECRET_KEY, cmq_callback, expected_signature

__all__ = [
    "PATH",
    "SECRET_ID",
    "SECRET_KEY",
    "CmqBackend",
    "FakeClock",
    "Message",
    "Queue",
    "WallClock",
    "cmq_callback",
    "expected_signature",
]
