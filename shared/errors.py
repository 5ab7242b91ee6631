"""Exceptions raised by the shared package; one base class."""

from __future__ import annotations


class BatchEventsError(Exception):
    """Base class of every error this bundle raises on purpose."""


class ConfigError(BatchEventsError):
    """A setting is missing or has a value the bundle cannot use."""


class RetryableFailure(BatchEventsError):
    """Work failed in a way a later delivery of the same event can fix; SCF should retry."""
