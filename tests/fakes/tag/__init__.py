"""A fake of the Tencent Cloud Tag API (the retry ledger's durable backend)."""

from .backend import TagBackend
from .routes import fake_tag_api, register_tag

__all__ = ["TagBackend", "fake_tag_api", "register_tag"]
