"""The fakes' callbacks served on 127.0.0.1: localcloud.loopback, under the name the tests import."""

from localcloud.loopback import (
    LOOPBACK_URLS,
    Callback,
    Hang,
    LoopbackCall,
    LoopbackRequest,
    LoopbackServer,
    Mount,
    Reset,
    serve,
    session_server,
)

__all__ = [
    "LOOPBACK_URLS",
    "Callback",
    "Hang",
    "LoopbackCall",
    "LoopbackRequest",
    "LoopbackServer",
    "Mount",
    "Reset",
    "serve",
    "session_server",
]
