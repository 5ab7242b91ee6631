"""Queues with visibility timeouts, receive counts, dead-letter queues and scripted faults: localcloud's."""

from localcloud.cmq.backend import CmqBackend, FakeClock, Message, Queue

__all__ = ["CmqBackend", "FakeClock", "Message", "Queue"]
