"""Clipping of text from events: every value placed in a message or payload has a bounded size."""

from __future__ import annotations

ELLIPSIS = "…"
_ELLIPSIS_BYTES = len(ELLIPSIS.encode("utf-8"))


def clip_chars(text: str, limit: int) -> str:
    """At most `limit` characters (0: no limit); a clipped text ends with "…"."""
    if limit <= 0 or len(text) <= limit:
        return text
    return text[: max(1, limit - 1)] + ELLIPSIS


def clip_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut between characters; a clipped text ends with "…"."""
    # A value a few times the limit is cut by characters first: encoding 1 MB to keep 4 KB is waste.
    text = clip_chars(text, limit + 1)
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    kept = data[: max(0, limit - _ELLIPSIS_BYTES)].decode("utf-8", "ignore")
    return kept + ELLIPSIS
