"""Text from outside made safe to encode: every lone surrogate (a JSON `\\ud800` escape) becomes U+FFFD."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd"


def clean_text(value: str) -> str:
    """`value` with every lone surrogate replaced by U+FFFD; ASCII text is returned as it is."""
    return value if value.isascii() else _SURROGATE.sub(_REPLACEMENT, value)


def has_surrogate(value: str) -> bool:
    """True when `value` holds a lone surrogate (it could not be encoded as UTF-8)."""
    return not value.isascii() and _SURROGATE.search(value) is not None
