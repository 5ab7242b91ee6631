"""Alertmanager's identities, computed as Alertmanager computes them, so that receivers match alerts.

- An alert's `fingerprint` is prometheus/common's `LabelSet.Fingerprint()` (model/signature.go,
  `labelSetToFingerprint`): FNV-1a 64 over the label names in sorted order, each name and each value
  followed by the byte 0xff, printed as 16 lowercase hex digits (`Fingerprint.String`, `%016x`).
- A notification's `groupKey` is the dispatcher's `aggrGroup.GroupKey()`: the route's key, a colon and
  the group labels as `LabelSet.String()` prints them: `{}:{job_id="job-1", region="ap-guangzhou"}`
  (names sorted, values quoted like Go's %q, joined by ", "; `{}` is the root route's key).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Mapping

FNV_OFFSET = 14695981039346656037
FNV_PRIME = 1099511628211
SEPARATOR = 0xFF  # cannot occur in UTF-8
_MASK = (1 << 64) - 1
ROOT_ROUTE = "{}"
_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_GO_ESCAPES.update({"\t": "\\t", "\v": "\\v"})


def _fnv1a(value: int, data: bytes) -> int:
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & _MASK
    return value


def signature(labels: Mapping[str, str]) -> int:
    """prometheus/common LabelsToSignature: the 64-bit FNV-1a hash of the sorted label pairs."""
    value = FNV_OFFSET
    for name in sorted(labels):
        value = _fnv1a(value, name.encode("utf-8") + bytes([SEPARATOR]))
        value = _fnv1a(value, labels[name].encode("utf-8") + bytes([SEPARATOR]))
    return value


def fingerprint(labels: Mapping[str, str]) -> str:
    """The alert's fingerprint as Alertmanager's webhook sends it: 16 lowercase hex digits."""
    return f"{signature(labels):016x}"


def go_quote(text: str) -> str:
    """A string quoted as Go's strconv.Quote (%q) does: printable characters kept, others escaped."""
    out = ['"']
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def label_set_text(labels: Mapping[str, str]) -> str:
    """prometheus/common LabelSet.String(): `{a="1", b="2"}`."""
    return "{" + ", ".join(f"{name}={go_quote(labels[name])}" for name in sorted(labels)) + "}"


def group_key(group_labels: Mapping[str, str], route: str = ROOT_ROUTE) -> str:
    """Alertmanager's groupKey for a group of the root route: `{}:{job_id="...", region="..."}`."""
    return f"{route}:{label_set_text(group_labels)}"
