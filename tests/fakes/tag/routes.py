"""The Tag API's HTTP layer, on the same TC3 callback as the fake Batch API."""

from __future__ import annotations

from typing import Any, Callable, Optional

import responses

from tests.fakes.batch.routes import tencent_callback

from .backend import TagBackend

DEFAULT_ENDPOINT = "https://tag.tencentcloudapi.com"
VERSION = "2018-08-13"


def _dispatch(backend: TagBackend) -> Callable[[str, dict[str, Any], str], Optional[dict[str, Any]]]:
    def dispatch(action: str, params: dict[str, Any], region: str) -> Optional[dict[str, Any]]:
        if action == "GetResources":
            return backend.get_resources(params.get("ResourceList"))
        if action == "ModifyResourceTags":
            return backend.modify_resource_tags(params.get("Resource"), params.get("ReplaceTags"))
        return None

    return dispatch


def register_tag(mock: responses.RequestsMock, backend: TagBackend, endpoint: str = DEFAULT_ENDPOINT) -> None:
    """Route POST <endpoint>/ to the fake Tag API."""
    mock.add_callback(
        responses.POST,
        f"{endpoint.rstrip('/')}/",
        callback=tencent_callback(backend, VERSION, _dispatch(backend)),
    )
