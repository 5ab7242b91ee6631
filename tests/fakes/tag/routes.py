"""The Tag fake behind `responses` (the SDK's requests); localcloud.tag serves it on loopback."""

from __future__ import annotations

import responses

from localcloud.tag import DEFAULT_ENDPOINT, VERSION, tag_callback

from .backend import TagBackend

__all__ = ["DEFAULT_ENDPOINT", "VERSION", "register_tag"]


def register_tag(mock: responses.RequestsMock, backend: TagBackend, endpoint: str = DEFAULT_ENDPOINT) -> None:
    """Route POST <endpoint>/ to the fake Tag API."""
    mock.add_callback(responses.POST, f"{endpoint.rstrip('/')}/", callback=tag_callback(backend))
