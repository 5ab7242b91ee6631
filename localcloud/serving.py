"""The local cloud served on 127.0.0.1 for a block: one port for every fake, and the page if wanted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

from .cloud import LocalCloud
from .loopback import serve
from .page import page_routes, reset_route


@contextmanager
def running(cloud: Optional[LocalCloud] = None, *, port: int = 0, page: bool = False) -> Iterator[LocalCloud]:
    """The local cloud served on 127.0.0.1 for the block (port 0: a free one); `page`: with its web page."""
    state = cloud or LocalCloud()
    routes = {**state.routes(), **(reset_route(state) if page else {})}
    with serve(routes, pages=page_routes(state) if page else None, port=port) as url:
        state.base_url = url
        yield state
