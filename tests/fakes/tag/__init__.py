"""A fake of the Tencent Cloud Tag API (the retry ledger's durable backend)."""

from .backend import TagBackend
from .routes import register_tag

__all__ = ["TagBackend", "register_tag"]
