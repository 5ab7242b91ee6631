"""A fake of the Tencent Cloud Tag API (the retry ledger's durable backend)."""

from .backend import TagBackend
from .routes import DEFAULT_ENDPOINT, SERVICE, VERSION, tag_callback, tag_dispatch

__all__ = ["DEFAULT_ENDPOINT", "SERVICE", "VERSION", "TagBackend", "tag_callback", "tag_dispatch"]
