"""Tags bound to resources (six-segment names), with the Tag service's checks and scripted faults."""

from __future__ import annotations

import re
from typing import Any

from ..tencent import BatchError, ScriptedFaults

_RESOURCE = re.compile(r"^qcs::[a-z]+:[a-z0-9-]*:uin/\d+:[a-z]+/.+$")
_VALUE = re.compile(r"^[A-Za-z0-9 +\-=._:/@]{0,255}$")


class TagBackend(ScriptedFaults):
    """resource name -> {key: value}."""

    def __init__(self) -> None:
        super().__init__()
        self.resources: dict[str, dict[str, str]] = {}

    def get_resources(self, names: Any) -> dict[str, Any]:
        """GetResources: the tags of each listed resource that has any."""
        if not isinstance(names, list) or not names:
            raise BatchError("InvalidParameter", "ResourceList must list resources")
        mappings = [
            {
                "Resource": name,
                "Tags": [{"TagKey": k, "TagValue": v} for k, v in self.resources[name].items()],
            }
            for name in names
            if name in self.resources
        ]
        return {"ResourceTagMappingList": mappings, "PaginationToken": ""}

    def modify_resource_tags(self, resource: Any, replace: Any) -> dict[str, Any]:
        """ModifyResourceTags: bind or replace each tag on the resource."""
        if not isinstance(resource, str) or not _RESOURCE.match(resource):
            raise BatchError("InvalidParameterValue.ResourceDescriptionError", f"bad resource {resource!r}")
        for tag in replace or []:
            if not _VALUE.match(str(tag.get("TagValue", ""))):
                raise BatchError("InvalidParameterValue.TagValueCharacterIllegal", repr(tag))
            self.resources.setdefault(resource, {})[str(tag["TagKey"])] = str(tag["TagValue"])
        return {}
