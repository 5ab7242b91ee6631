"""A local cloud: loopback fakes of the Batch, Tag and TDMQ-CMQ APIs and of the chat robots.

Shared by the tests (tests/fakes re-exports it) and the tools (`make invoke`, `make local`). Standard
library and the repository's `shared` only, so that it runs where only the runtime requirements are
installed; never deployed (tools/package.py copies only functions/ and shared/).
"""

from .batch import BatchBackend
from .chat import ChatBackend, Received
from .cloud import FUNCTIONS, ApiCall, LocalCloud, Mark
from .cmq import CmqBackend
from .guard import loopback_only
from .report import Report, report
from .serving import running
from .tag import TagBackend

__all__ = [
    "FUNCTIONS",
    "ApiCall",
    "BatchBackend",
    "ChatBackend",
    "CmqBackend",
    "LocalCloud",
    "Mark",
    "Received",
    "Report",
    "TagBackend",
    "loopback_only",
    "report",
    "running",
]
