"""Tags bound to resources, with the Tag service's checks and scripted faults: localcloud's Tag fake."""

from localcloud.tag.backend import TagBackend

__all__ = ["TagBackend"]
