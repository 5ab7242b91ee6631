"""The Tag API's HTTP layer, on the same TC3 callback as the fake Batch API."""

from __future__ import annotations

from typing import Any, Callable, Optional

from ..tencent import Answer, Dispatch, tencent_callback
from .backend import TagBackend

DEFAULT_ENDPOINT = "https://tag.tencentcloudapi.com"
SERVICE = "tag"
VERSION = "2018-08-13"


def tag_dispatch(backend: TagBackend) -> Dispatch:
    """Action name -> the backend's method."""

    def dispatch(action: str, params: dict[str, Any], region: str) -> Optional[dict[str, Any]]:
        if action == "GetResources":
            return backend.get_resources(params.get("ResourceList"))
        if action == "ModifyResourceTags":
            return backend.modify_resource_tags(params.get("Resource"), params.get("ReplaceTags"))
        return None

    return dispatch


def tag_callback(backend: TagBackend) -> Callable[[Any], Answer]:
    """The fake Tag API as one callback (for a loopback server or `responses`)."""
    return tencent_callback(backend, VERSION, tag_dispatch(backend))
