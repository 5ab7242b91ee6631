"""Envelope parsing, the event catalogue, settings, logging and the runtime the three functions share."""

from .catalogue import EVENT_GROUPS, FAILURE_EVENTS, Category, EventName, normalise_event_name
from .concern import Outcome, process
from .envelope import parse_message, parse_trigger_event
from .errors import BatchEventsError, ConfigError, RetryableFailure
from .invocation import Invocation
from .log import JsonLogger, redact, redact_url
from .models import BatchEvent, ParsedInput, Rejection, SourceRecord
from .runtime import run

__all__ = [
    "EVENT_GROUPS",
    "FAILURE_EVENTS",
    "BatchEvent",
    "BatchEventsError",
    "Category",
    "ConfigError",
    "EventName",
    "Invocation",
    "JsonLogger",
    "Outcome",
    "ParsedInput",
    "Rejection",
    "RetryableFailure",
    "SourceRecord",
    "normalise_event_name",
    "parse_message",
    "parse_trigger_event",
    "process",
    "redact",
    "redact_url",
    "run",
]
