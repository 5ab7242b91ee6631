"""Hostile inputs for every handler on every delivery path, made by breaking the samples in events/.

One mutation engine serves the hypothesis strategies (tests/test_hostile_inputs.py) and the seeded
campaign (tools/fuzz.py): every choice goes through a `Source`, which is hypothesis' `draw` (inputs
shrink) or a seeded `random.Random` (a campaign input is reproducible from its seed).

The hostile classes: lone surrogates in every text position, nesting near the JSON parser's depth
limit, datetimes at the edges of datetime's range, huge values, and structural breakage.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol, Sequence, TypeVar, Union

from hypothesis import strategies as st

from tests.helpers import EVENTS, event_files, load_event

T = TypeVar("T")

TOKEN = "local-test-token"  # the token of the push samples in events/delivery
CLASSES = ("surrogate", "depth", "time", "huge", "structure")
PUSH_SAMPLES = ("http_push_json_format.json", "http_push_simplified.json", "http_push_simplified_base64.json")

# --- where choices come from ----------------------------------------------------------------------


class Source(Protocol):
    """Every choice the engine makes."""

    def pick(self, options: Sequence[T]) -> T:
        """One of `options`."""

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high]."""

    def chance(self, percent: int) -> bool:
        """True about `percent` times in 100."""


class RandomSource:
    """Choices from a seeded `random.Random` (the campaign)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def pick(self, options: Sequence[T]) -> T:
        """One of `options`."""
        return options[self._rng.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high]."""
        return self._rng.randint(low, high)

    def chance(self, percent: int) -> bool:
        """True about `percent` times in 100."""
        return self._rng.randrange(100) < percent


class DrawSource:
    """Choices drawn through hypothesis (the property tests): they shrink."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def pick(self, options: Sequence[T]) -> T:
        """One of `options`."""
        return self._draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        """A whole number in [low, high]."""
        return self._draw(st.integers(low, high))

    def chance(self, percent: int) -> bool:
        """True about `percent` times in 100."""
        return self._draw(st.integers(0, 99)) < percent


# --- values JSON text carries as is ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Raw:
    """A value written into JSON text verbatim (a 5,000-digit number, 1e400, 1,000 levels of
    nesting), and the Python value a dict body carries in its place."""

    text: str = field(repr=False)
    value: Any = field(repr=False)


def to_json(value: Any, *, ascii_only: bool = True) -> str:
    """JSON text of a message that may hold `Raw` values (lone surrogates become \\ud800 escapes
    when `ascii_only`, and stay real characters otherwise)."""
    raws: dict[str, str] = {}

    def swap(item: Any) -> Any:
        if isinstance(item, Raw):
            token = f"@@raw{len(raws)}@@"
            raws[token] = item.text
            return token
        if isinstance(item, dict):
            return {key: swap(v) for key, v in item.items()}
        if isinstance(item, list):
            return [swap(v) for v in item]
        return item

    text = json.dumps(swap(value), ensure_ascii=ascii_only)
    for token, raw in raws.items():
        text = text.replace(f'"{token}"', raw)
    return text


def materialise(value: Any) -> Any:
    """The message as a dict body holds it: each `Raw` replaced by its Python value."""
    if isinstance(value, Raw):
        return value.value
    if isinstance(value, dict):
        return {key: materialise(v) for key, v in value.items()}
    if isinstance(value, list):
        return [materialise(v) for v in value]
    return value


# --- the hostile values ---------------------------------------------------------------------------

SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff", "\udc80")
_TEXT_FORMS = ("alone", "suffix", "prefix", "middle", "doubled", "reversed_pair", "cjk", "bidi", "nul")


def hostile_text(src: Source, original: str = "") -> tuple[str, str]:
    """A text holding at least one lone surrogate, often around the original value; and its label."""
    s = src.pick(SURROGATES)
    form = src.pick(_TEXT_FORMS)
    base = original or "x"
    half = len(base) // 2
    text = {
        "alone": s,
        "suffix": base + s,
        "prefix": s + base,
        "middle": base[:half] + s + base[half:],
        "doubled": s + s,
        "reversed_pair": "\udc00\ud800" + base,
        "cjk": "作业" + s + "失败",
        "bidi": "\u202e" + s + base + "\u2066",
        "nul": "\x00" + s + "\x00",
    }[form]
    return text, f"surrogate:{form}:{ord(s):04x}"


DEPTHS = (50, 63, 64, 65, 100, 500, 990, 1000, 1100)
SHAPES = ("list", "dict")


@functools.lru_cache(maxsize=64)
def nested(depth: int, shape: str = "list", leaf: str = "deep") -> Raw:
    """A value `depth` levels deep (lists or dicts), as JSON text and as a Python object."""
    value: Any = leaf
    for _ in range(depth):
        value = [value] if shape == "list" else {"a": value}
    opened, closed = ("[", "]") if shape == "list" else ('{"a":', "}")
    return Raw(opened * depth + json.dumps(leaf) + closed * depth, value)


EDGE_TIMES: tuple[Any, ...] = (
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00",
    "9999-12-31 23:59:59",
    "0001-01-01T00:00:00-23:59",
    "9999-12-31T23:59:59.999999+23:59",
    "2026-11-20T08:35:00.1234567890123456789Z",
    "2026-11-20T08:35:00." + "9" * 5000 + "Z",
    "2026-02-30T00:00:00Z",
    "2026-11-20T25:61:61Z",
    "2026-11-20T08:35:00+24:00",
    "-0001-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "20261120T083500Z",
    "2026-W47-5",
    "not a time",
    "",
    "Z",
    1795639000000,
    -1,
    1e308,
    True,
    ["2026-11-20T08:35:00Z"],
    {"t": "2026-11-20T08:35:00Z"},
)


@functools.cache
def huge_int(digits: int, negative: bool = False) -> Raw:
    """An integer of `digits` digits (beyond Python's 4,300-digit str/int conversion limit)."""
    value = 10**digits - 1
    return Raw(("-" if negative else "") + "9" * digits, -value if negative else value)


@functools.cache
def megabyte_text(kind: str = "ascii") -> str:
    """A 1 MB string: ASCII, Chinese (3 MB of UTF-8), or ASCII ending in a lone surrogate."""
    if kind == "cjk":
        return "失" * (1 << 20)
    if kind == "surrogate":
        return "x" * ((1 << 20) - 1) + "\udfff"
    return "x" * (1 << 20)


HUGE_VALUES: tuple[tuple[str, Callable[[], Any]], ...] = (
    ("int:5000-digits", lambda: huge_int(5000)),
    ("int:-5000-digits", lambda: huge_int(5000, negative=True)),
    ("int:100000-digits", lambda: huge_int(100_000)),
    ("float:1e400", lambda: Raw("1e400", float("inf"))),
    ("float:-1e400", lambda: Raw("-1e400", float("-inf"))),
    ("float:1e-400", lambda: Raw("1e-400", 0.0)),
    ("int:2**64", lambda: 2**64),
    ("int:-2**63", lambda: -(2**63)),
    ("int:10**300", lambda: 10**300),
    ("str:1MB", megabyte_text),
    ("str:1MB-cjk", lambda: megabyte_text("cjk")),
    ("str:1MB-surrogate", lambda: megabyte_text("surrogate")),
)
TASK_INDEX_VALUES: tuple[tuple[str, Callable[[], Any]], ...] = (
    ("index:-1", lambda: -1),
    ("index:1.5", lambda: 1.5),
    ("index:-0.0", lambda: -0.0),
    ("index:true", lambda: True),
    ("index:false", lambda: False),
    ("index:'7'", lambda: "7"),
    ("index:'1e3'", lambda: "1e3"),
    ("index:null", lambda: None),
    ("index:[]", lambda: []),
    ("index:{}", lambda: {}),
)

# --- the samples ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One well-formed CMQ record of a sample in events/, and its Batch message decoded."""

    name: str
    record: dict[str, Any] = field(repr=False)
    message: dict[str, Any] = field(repr=False)
    body: str = field(repr=False)

    def fresh_message(self) -> dict[str, Any]:
        """A copy of the message a mutation may break."""
        return copy.deepcopy(self.message)

    def fresh_record(self) -> dict[str, Any]:
        """A copy of the CMQ record a mutation may break."""
        return copy.deepcopy(self.record)


def decode_sample_body(body: str) -> dict[str, Any]:
    """A sample's msgBody (JSON text or base64 of it) as a dict."""
    text = body.strip()
    if not text.startswith("{"):
        text = base64.b64decode(text).decode("utf-8")
    message = json.loads(text)
    assert isinstance(message, dict)  # the samples are well-formed
    return message


@functools.lru_cache(maxsize=1)
def samples() -> tuple[Sample, ...]:
    """Every record of the well-formed CMQ-topic samples (not malformed_*)."""
    out = []
    for name in event_files():
        if name.startswith("malformed_"):
            continue
        data = load_event(name)
        for record in data.get("Records", []):
            body = record["CMQ"]["msgBody"]
            out.append(Sample(name, record, decode_sample_body(body), body))
    return tuple(out)


def samples_named(prefix: str) -> tuple[Sample, ...]:
    """The sample records of files whose names start with `prefix`."""
    return tuple(s for s in samples() if s.name.startswith(prefix))


def node_samples() -> tuple[Sample, ...]:
    """Records whose events are all compute-node events (log_node_churn logs one line per event)."""
    return tuple(
        s
        for s in samples()
        if all(str(e.get("EventName", "")).startswith("COMPUTE_NODE_") for e in s.message["Events"])
    )


def delivery_event(name: str) -> dict[str, Any]:
    """A fresh copy of a sample in events/delivery."""
    return copy.deepcopy(json.loads((EVENTS / "delivery" / name).read_text(encoding="utf-8")))


# --- setting one field of a message ---------------------------------------------------------------

ENTRY_TEXT_POSITIONS = ("EventName", "EventTime", "Region", "EventVersion")
BATCH_TEXT_POSITIONS = (
    "Batch.JobId",
    "Batch.JobName",
    "Batch.TaskName",
    "Batch.EnvId",
    "Batch.EnvName",
    "Batch.StateReason",
    "Batch.ComputeNodeId",
    "Batch.ComputeNodeInstanceId",
    "Batch.ResourceCreatedTime",
)
VAR_POSITIONS = ("EventVars.Name", "EventVars.Value")
MESSAGE_TEXT_POSITIONS = ENTRY_TEXT_POSITIONS + BATCH_TEXT_POSITIONS + VAR_POSITIONS
CMQ_TEXT_POSITIONS = ("msgId", "topicName", "msgTag", "requestId", "subscriptionName", "publishTime")


def first_entry(message: Any, index: int = 0) -> Optional[dict[str, Any]]:
    """The `index`-th (modulo) dict in message["Events"], or None when there is none."""
    events = message.get("Events") if isinstance(message, dict) else None
    if not isinstance(events, list):
        return None
    entries = [e for e in events if isinstance(e, dict)]
    return entries[index % len(entries)] if entries else None


def current_text(message: Any, position: str, index: int = 0) -> str:
    """The text at `position` now ('' when absent or not text)."""
    entry = first_entry(message, index)
    if entry is None:
        return ""
    if position.startswith("Batch."):
        batch = entry.get("Batch")
        value = batch.get(position[6:]) if isinstance(batch, dict) else None
    elif position.startswith("EventVars."):
        value = "max_retries" if position.endswith("Name") else "3"
    else:
        value = entry.get(position)
    return value if isinstance(value, str) else ""


def set_field(message: Any, position: str, value: Any, index: int = 0) -> bool:
    """Put `value` at `position` (e.g. `Batch.JobId`, `EventVars.Value`) of one event; False when
    the message has no event object to put it in."""
    entry = first_entry(message, index)
    if entry is None:
        return False
    if position.startswith("Batch."):
        batch = entry.get("Batch")
        if not isinstance(batch, dict):
            batch = entry["Batch"] = {}
        batch[position[6:]] = value
    elif position == "EventVars.Name":
        _vars_list(entry).append({"Name": value, "Value": "1"})
    elif position == "EventVars.Value":
        _vars_list(entry).append({"Name": "max_retries", "Value": value})
    elif position == "EventVars.dict":
        entry["EventVars"] = {"hostile": value}
    else:
        entry[position] = value
    return True


def _vars_list(entry: dict[str, Any]) -> list[Any]:
    current = entry.get("EventVars")
    if not isinstance(current, list):
        current = entry["EventVars"] = []
    return current


# --- mutations of one message (each appends what it did to `notes`) ------------------------------

Mutation = Callable[[Source, Any, list[str]], Any]


def mutate_surrogate(src: Source, message: Any, notes: list[str]) -> Any:
    """A lone surrogate in one text position of one event."""
    position = src.pick(MESSAGE_TEXT_POSITIONS)
    index = src.integer(0, 3)
    text, label = hostile_text(src, current_text(message, position, index))
    set_field(message, position, text, index)
    notes.append(f"{label}@{position}")
    return message


DEPTH_POSITIONS = (
    "EventVars.Value",
    "EventVars.dict",
    "Batch.StateReason",
    "Batch.JobId",
    "Batch.TaskInstanceIndex",
    "Batch.Cpu",
    "Batch.EnvName",
    "Batch.Extra",
)


def mutate_depth(src: Source, message: Any, notes: list[str]) -> Any:
    """A value nested near the parser's depth limit in EventVars or a Batch field."""
    depth, shape, position = src.pick(DEPTHS), src.pick(SHAPES), src.pick(DEPTH_POSITIONS)
    set_field(message, position, nested(depth, shape), src.integer(0, 3))
    notes.append(f"depth:{depth}:{shape}@{position}")
    return message


def mutate_time(src: Source, message: Any, notes: list[str]) -> Any:
    """EventTime or ResourceCreatedTime at datetime's range edges, or nonsense."""
    position = src.pick(("EventTime", "Batch.ResourceCreatedTime"))
    value = src.pick(EDGE_TIMES)
    set_field(message, position, value, src.integer(0, 3))
    notes.append(f"time:{str(value)[:40]!r}@{position}")
    return message


HUGE_POSITIONS = (
    "Batch.TaskInstanceIndex",
    "Batch.ExitCode",
    "Batch.Cpu",
    "Batch.Mem",
    "Batch.JobId",
    "Batch.StateReason",
    "Batch.EnvName",
    "EventVars.Value",
    "EventVersion",
)


def mutate_huge(src: Source, message: Any, notes: list[str]) -> Any:
    """A huge number, an infinite float or a 1 MB string; TaskInstanceIndex of any type."""
    position = src.pick(HUGE_POSITIONS)
    catalogue = HUGE_VALUES + TASK_INDEX_VALUES if position == "Batch.TaskInstanceIndex" else HUGE_VALUES
    label, make = src.pick(catalogue)
    set_field(message, position, make(), src.integer(0, 3))
    notes.append(f"huge:{label}@{position}")
    return message


def _drop(key: str) -> Callable[[dict[str, Any]], Any]:
    def apply(entry: dict[str, Any]) -> Any:
        entry.pop(key, None)
        return entry

    return apply


def _rename(key: str, new: str) -> Callable[[dict[str, Any]], Any]:
    def apply(entry: dict[str, Any]) -> Any:
        if key in entry:
            entry[new] = entry.pop(key)
        return entry

    return apply


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def apply(entry: dict[str, Any]) -> Any:
        entry[key] = copy.deepcopy(value)
        return entry

    return apply


def _batch(change: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def apply(entry: dict[str, Any]) -> Any:
        batch = entry.get("Batch")
        if isinstance(batch, dict):
            change(batch)
        return entry

    return apply


# Breaking one event object (an entry of Events): missing, renamed and wrongly typed keys.
ENTRY_BREAKS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("drop:EventName", _drop("EventName")),
    ("drop:Batch", _drop("Batch")),
    ("drop:EventTime", _drop("EventTime")),
    ("drop:Region", _drop("Region")),
    ("drop:EventVars", _drop("EventVars")),
    ("rename:EventName->eventName", _rename("EventName", "eventName")),
    ("rename:Batch->batch", _rename("Batch", "batch")),
    ("EventName:number", _set("EventName", 42)),
    ("EventName:list", _set("EventName", ["JOB_FAILED"])),
    ("EventName:dict", _set("EventName", {"JOB_FAILED": 1})),
    ("EventName:true", _set("EventName", True)),
    ("EventName:empty", _set("EventName", "")),
    ("EventName:spaces", _set("EventName", "   ")),
    ("EventName:lowercase", lambda e: {**e, "EventName": str(e.get("EventName", "")).lower()}),
    ("Batch:list", _set("Batch", [{"JobId": "job-1"}])),
    ("Batch:string", _set("Batch", "job-1")),
    ("Batch:number", _set("Batch", 7)),
    ("Batch:true", _set("Batch", True)),
    ("Batch:empty", _set("Batch", {})),
    ("Region:number", _set("Region", 1)),
    ("Region:list", _set("Region", ["ap-guangzhou"])),
    ("Region:upper", _set("Region", "AP-GUANGZHOU")),
    ("EventVars:string", _set("EventVars", "max_retries=3")),
    ("EventVars:number", _set("EventVars", 3)),
    ("EventVars:list-of-strings", _set("EventVars", ["a", "b"])),
    ("EventVars:item-no-name", _set("EventVars", [{"Value": "1"}])),
    ("EventVars:name-number", _set("EventVars", [{"Name": 5, "Value": "1"}])),
    ("EventVars:name-list", _set("EventVars", [{"Name": ["a"], "Value": "1"}])),
    ("EventVars:name-dict", _set("EventVars", [{"Name": {"a": 1}, "Value": "1"}])),
    ("EventVars:value-dict", _set("EventVars", [{"Name": "max_retries", "Value": {"n": [1, 2]}}])),
    ("EventVars:dict-of-lists", _set("EventVars", {"max_retries": [3], "k": None})),
    ("Batch.drop:JobId", _batch(_drop("JobId"))),
    ("Batch.drop:EnvId", _batch(_drop("EnvId"))),
    ("Batch.drop:ComputeNodeId", _batch(_drop("ComputeNodeId"))),
    ("Batch.JobId:number", _batch(_set("JobId", 123))),
    ("Batch.JobId:list", _batch(_set("JobId", ["job-1"]))),
    ("Batch.JobId:empty", _batch(_set("JobId", ""))),
    ("Batch.ExitCode:string", _batch(_set("ExitCode", "137"))),
    ("Batch.Cpu:string", _batch(_set("Cpu", "four"))),
    ("Batch.Cpu:nan-string", _batch(_set("Cpu", "NaN"))),
    ("Batch.TaskInstanceIndex:dict", _batch(_set("TaskInstanceIndex", {"i": 0}))),
    ("Batch.State:number", _batch(_set("JobState", 5))),
)


def _copies(entry: dict[str, Any], count: int) -> list[Any]:
    # Separate copies of a pristine entry: a later mutation's 1 MB value lands in one of them, not in
    # all (`[entry] * 500` would make one 500 MB message).
    text = json.dumps(entry)
    return [json.loads(text) for _ in range(count)]


def mutate_structure(src: Source, message: Any, notes: list[str]) -> Any:
    """Missing, renamed or wrongly typed keys: in one event, in Events, or in the whole message."""
    where = src.pick(("entry", "entry", "entry", "events", "message"))
    if where == "entry":
        entry = first_entry(message, src.integer(0, 3))
        label, apply = src.pick(ENTRY_BREAKS)
        if entry is not None:
            events = message["Events"]
            at = next(i for i, e in enumerate(events) if e is entry)  # identity: `==` would recurse
            events[at] = apply(entry)
        notes.append(f"structure:{label}")
        return message
    if not isinstance(message, dict):
        notes.append("structure:already-broken")
        return message
    events = message.get("Events")
    listed = events if isinstance(events, list) else []
    if where == "events":
        label, value = src.pick(
            (
                ("Events:dict", listed[0] if listed else {}),
                ("Events:dict-of-entries", {"0": events}),
                ("Events:string", to_json(events)),
                ("Events:number", 1),
                ("Events:null", None),
                ("Events:empty", []),
                ("Events:list-of-lists", [events]),
                ("Events:entry-string", ["JOB_FAILED"]),
                ("Events:entry-null", [None]),
                ("Events:500-copies", _copies(src.pick(samples()).message["Events"][0], 500)),
            )
        )
        message["Events"] = value
        notes.append(f"structure:{label}")
        return message
    label, result = src.pick(
        (
            ("message:drop-Events", {k: v for k, v in message.items() if k != "Events"}),
            ("message:rename-Events", {"events": events}),
            ("message:empty", {}),
            ("message:list", [message]),
            ("message:string", "Events"),
            ("message:number", 0),
            ("message:null", None),
            ("message:extra-keys", {**message, "Extra": [], "Type": "NotTimer"}),
        )
    )
    notes.append(f"structure:{label}")
    return result


MUTATIONS: dict[str, Mutation] = {
    "surrogate": mutate_surrogate,
    "depth": mutate_depth,
    "time": mutate_time,
    "huge": mutate_huge,
    "structure": mutate_structure,
}


def hostile_message(src: Source, classes: Sequence[str], notes: list[str]) -> Any:
    """A sample's Batch message with one to three mutations of the given classes."""
    sample = src.pick(samples())
    notes.append(sample.name)
    message: Any = sample.fresh_message()
    for _ in range(src.integer(1, 3)):
        message = MUTATIONS[src.pick(classes)](src, message, notes)
    return message


# --- bodies: a message as msgBody text, broken text, or not text at all --------------------------

TEXT_ENCODINGS = ("json", "json", "json", "json_raw", "base64", "base64_surrogatepass")


def encode_text(src: Source, message: Any, notes: list[str]) -> str:
    """The message as text: JSON (\\ud800 escapes or real surrogates), or base64 of it."""
    how = src.pick(TEXT_ENCODINGS)
    notes.append(f"body:{how}")
    if how == "json_raw":
        return to_json(message, ascii_only=False)
    if how == "base64":
        return base64.b64encode(to_json(message).encode("ascii")).decode("ascii")
    if how == "base64_surrogatepass":
        raw = to_json(message, ascii_only=False).encode("utf-8", "surrogatepass")
        return base64.b64encode(raw).decode("ascii")
    return to_json(message)


def corrupt_text(src: Source, text: str, notes: list[str]) -> str:
    """Text a parser must refuse (or read) without raising: truncated, garbage, empty, not an object."""
    cut = src.integer(0, max(0, len(text) - 1))
    label, result = src.pick(
        (
            ("truncated", lambda: text[:cut]),
            ("trailing-garbage", lambda: text + "}x"),
            ("two-objects", lambda: text + text),
            ("bom", lambda: "\ufeff" + text),
            ("nul", lambda: text + "\x00"),
            ("empty", lambda: ""),
            ("whitespace", lambda: " \t\r\n\u00a0"),
            ("null", lambda: "null"),
            ("array", lambda: "[]"),
            ("number", lambda: "0"),
            ("json-string-of-json", lambda: json.dumps(text)),
            ("base64-garbage", lambda: "!!!!====" + text[:cut]),
            ("base64-of-text", lambda: base64.b64encode(b"not json at all").decode()),
            ("base64-of-non-utf8", lambda: base64.b64encode(b"\xff\xfe\xfd{").decode()),
            (
                "base64-with-newlines",
                lambda: _wrapped(base64.b64encode(text.encode("utf-8", "replace")).decode()),
            ),
            ("base64-truncated", lambda: base64.b64encode(text.encode("utf-8", "replace")).decode()[:cut]),
        )
    )
    notes.append(f"corrupt:{label}")
    out: str = result()
    return out


def _wrapped(text: str, width: int = 76) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


NON_TEXT_BODIES: tuple[tuple[str, Any], ...] = (
    ("null", None),
    ("number", 42),
    ("float", 1.5),
    ("true", True),
    ("empty-list", []),
    ("list", [{"Events": []}]),
    ("empty-dict", {}),
)


def text_body(src: Source, classes: Sequence[str], notes: list[str]) -> str:
    """A hostile message body as text (queue messages and pushes carry text only)."""
    body = encode_text(src, hostile_message(src, classes, notes), notes)
    if "structure" in classes and src.chance(25):
        body = corrupt_text(src, body, notes)
    return body


def any_body(src: Source, classes: Sequence[str], notes: list[str], *, keep_raw: bool = False) -> Any:
    """A hostile msgBody as the trigger or a JSON push envelope may carry it: text, dict or other
    (`keep_raw`: a dict keeps its `Raw` values, for a caller that writes it out with `to_json`)."""
    if "structure" in classes and src.chance(10):
        label, value = src.pick(NON_TEXT_BODIES)
        notes.append(f"body:{label}")
        return copy.deepcopy(value)
    if src.chance(25):
        notes.append("body:dict")
        message = hostile_message(src, classes, notes)
        return message if keep_raw else materialise(message)
    return text_body(src, classes, notes)


# --- cases: one input for one delivery path -------------------------------------------------------


@dataclass(frozen=True)
class TriggerCase:
    """An SCF CMQ-topic trigger event (or whatever was invoked instead) and its record count."""

    event: Any = field(repr=False)
    records: int
    label: str

    def __repr__(self) -> str:
        return f"TriggerCase(records={self.records}, {self.label})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' printer: the label, not a 1 MB body


@dataclass(frozen=True)
class QueueCase:
    """Message bodies to enqueue before a timer run; `poison` are the indices of hostile ones."""

    bodies: tuple[str, ...] = field(repr=False)
    poison: frozenset[int]
    label: str

    def __repr__(self) -> str:
        return f"QueueCase({len(self.bodies)} messages, poison at {sorted(self.poison)}, {self.label})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' printer: the label, not a 1 MB body


@dataclass(frozen=True)
class PushCase:
    """A function-URL request; `authenticated` when it carries the right token."""

    event: dict[str, Any] = field(repr=False)
    authenticated: bool
    label: str

    def __repr__(self) -> str:
        return f"PushCase(authenticated={self.authenticated}, {self.label})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis' printer: the label, not a 1 MB body


Case = Union[TriggerCase, QueueCase, PushCase]


def _label(notes: list[str]) -> str:
    return " ".join(notes)


def hostile_cmq_fields(src: Source, classes: Sequence[str], cmq: dict[str, Any], notes: list[str]) -> None:
    """Hostile values in the CMQ record's own fields (msgId, topicName, msgTag, ...)."""
    if "surrogate" in classes and src.chance(40):
        position = src.pick(CMQ_TEXT_POSITIONS)
        text, label = hostile_text(src, str(cmq.get(position) or ""))
        cmq[position] = [text, "batch"] if position == "msgTag" and src.chance(50) else text
        notes.append(f"cmq:{label}@{position}")
    if "huge" in classes and src.chance(15):
        position = src.pick(("msgId", "topicName", "msgTag", "publishTime"))
        label, make = src.pick(HUGE_VALUES)
        cmq[position] = materialise(make())
        notes.append(f"cmq:huge:{label}@{position}")
    if "structure" in classes and src.chance(20):
        position = src.pick(("msgId", "topicName", "msgTag", "requestId"))
        label, value = src.pick(
            (("list", ["a", {"b": 1}]), ("dict", {"a": 1}), ("number", 7), ("true", True))
        )
        cmq[position] = copy.deepcopy(value)
        notes.append(f"cmq:{label}@{position}")


def hostile_record(src: Source, classes: Sequence[str], notes: list[str]) -> Any:
    """A sample CMQ record with a hostile msgBody and/or hostile record fields."""
    record = src.pick(samples()).fresh_record()
    cmq = record["CMQ"]
    cmq["msgBody"] = any_body(src, classes, notes)
    hostile_cmq_fields(src, classes, cmq, notes)
    if "structure" in classes and src.chance(15):
        label, result = src.pick(
            (
                ("record:no-CMQ", {"NotCMQ": cmq}),
                ("record:CMQ-list", {"CMQ": [cmq]}),
                ("record:CMQ-string", {"CMQ": "msgBody"}),
                ("record:CMQ-null", {"CMQ": None}),
                ("record:no-msgBody", {"CMQ": {k: v for k, v in cmq.items() if k != "msgBody"}}),
                ("record:string", "CMQ"),
                ("record:null", None),
                ("record:list", [record]),
            )
        )
        notes.append(label)
        return result
    return record


def trigger_case(src: Source, classes: Sequence[str] = CLASSES) -> TriggerCase:
    """A trigger event with hostile records among good ones, a hostile bare message, or a broken envelope."""
    notes: list[str] = []
    shape = src.pick(("records",) * 8 + ("bare", "envelope"))
    if shape == "bare":
        notes.append("bare-message")
        return TriggerCase(materialise(hostile_message(src, classes, notes)), 1, _label(notes))
    if shape == "envelope" and "structure" in classes:
        label, event, count = src.pick(
            (
                ("Records:dict", {"Records": {"CMQ": {}}}, 1),
                ("Records:string", {"Records": "[]"}, 1),
                ("Records:null", {"Records": None}, 1),
                ("Records:number", {"Records": 3}, 1),
                ("Records:empty", {"Records": []}, 0),
                ("event:list", [{"Records": []}], 1),
                ("event:string", "Records", 1),
                ("event:null", None, 1),
                ("event:number", 7, 1),
                ("event:empty", {}, 1),
            )
        )
        notes.append(f"envelope:{label}")
        return TriggerCase(copy.deepcopy(event), count, _label(notes))
    records: list[Any] = []
    for _ in range(src.integer(0, 3)):
        records.append(src.pick(samples()).fresh_record())
    at = src.integer(0, len(records))
    records.insert(at, hostile_record(src, classes, notes))
    notes.append(f"record:{at}/{len(records)}")
    return TriggerCase({"Records": records}, len(records), _label(notes))


def queue_case(src: Source, classes: Sequence[str] = CLASSES, good: Optional[int] = None) -> QueueCase:
    """Up to 16 good sample messages with one hostile message among them."""
    notes: list[str] = []
    # A full receive (16) plus the poison spans two receives; smaller batches keep the campaign fast.
    count = src.pick((0, 1, 2, 3, 16)) if good is None else good
    bodies = [src.pick(samples()).body for _ in range(count)]
    at = src.integer(0, count)
    bodies.insert(at, text_body(src, classes, notes))
    notes.append(f"poison:{at}/{len(bodies)}")
    return QueueCase(tuple(bodies), frozenset({at}), _label(notes))


WRONG_TOKENS: tuple[tuple[str, Any], ...] = (
    ("token+surrogate", TOKEN + "\ud800"),
    ("surrogate", "\udfff"),
    ("surrogate-cjk", "令牌\udc80"),
    ("prefix", TOKEN[:-1]),
    ("upper", TOKEN.upper()),
    ("nul", TOKEN + "\x00"),
    ("empty", ""),
    ("list-of-surrogate", ["\ud800"]),
    ("list-empty", []),
    ("number", 12345),
    ("dict", {"token": TOKEN}),
    ("null", None),
    ("1MB", "t" * (1 << 20)),
)


def push_case(src: Source, classes: Sequence[str] = CLASSES) -> PushCase:
    """A push with a hostile body and headers; with the right token, or a hostile wrong one."""
    notes: list[str] = []
    sample = src.pick(PUSH_SAMPLES)
    notes.append(sample)
    event = delivery_event(sample)
    if "depth" in classes and src.chance(15):
        depth, shape = src.pick(DEPTHS), src.pick(SHAPES)
        deep = nested(depth, shape).text
        body = src.pick((deep, '{"Events": ' + deep + "}", '{"msgId": "m", "msgBody": ' + deep + "}"))
        notes.append(f"push-body:depth:{depth}:{shape}")
    elif sample == "http_push_json_format.json":
        outer = json.loads(event["body"])
        outer["msgBody"] = any_body(src, classes, notes, keep_raw=True)
        if "surrogate" in classes and src.chance(30):
            position = src.pick(("msgId", "topicName", "subscriptionName"))
            outer[position], label = hostile_text(src, str(outer.get(position) or ""))
            notes.append(f"envelope:{label}@{position}")
        body = to_json(outer, ascii_only=src.chance(70))
    else:
        body = text_body(src, classes, notes)
    event["body"] = body
    if sample == "http_push_simplified_base64.json":
        event["body"] = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode("ascii")
    headers = event["headers"]
    if "surrogate" in classes and src.chance(50):
        name = src.pick(
            ("x-cmq-message-id", "x-cmq-message-tag", "x-cmq-request-id", "user-agent", "x-\ud800")
        )
        headers[name], label = hostile_text(src, str(headers.get(name, "")))
        notes.append(f"header:{label}@{name!r}")
    if "structure" in classes and src.chance(10):
        label, value = src.pick(
            (("headers:null", None), ("headers:list", [["a", "b"]]), ("headers:string", "h"))
        )
        event["headers"] = value
        notes.append(label)
    if "structure" in classes and src.chance(10):
        odd_fields: tuple[tuple[str, str, Any], ...] = (
            ("body:null", "body", None),
            ("body:dict", "body", {"Events": []}),
            ("body:number", "body", 7),
            ("isBase64Encoded:'false'", "isBase64Encoded", "false"),
            ("isBase64Encoded:true", "isBase64Encoded", True),
            ("isBase64Encoded:list", "isBase64Encoded", [1]),
        )
        label, key, odd = src.pick(odd_fields)
        event[key] = copy.deepcopy(odd)
        notes.append(f"push:{label}")
    authenticated = src.chance(75)
    if authenticated:
        where = src.pick(("query", "query-list", "header"))
        if where == "header" and isinstance(event["headers"], dict):
            event["queryString"] = {}
            event["headers"]["X-Push-Token"] = TOKEN
        else:
            event["queryString"] = {"token": [TOKEN] if where == "query-list" else TOKEN}
        notes.append(f"token:right@{where}")
    else:
        label, value = src.pick(WRONG_TOKENS)
        if src.chance(50) or not isinstance(event["headers"], dict):
            event["queryString"] = {"token": copy.deepcopy(value)}
            notes.append(f"token:{label}@query")
        else:
            event["queryString"] = {}
            event["headers"]["x-push-token"] = copy.deepcopy(value)
            notes.append(f"token:{label}@header")
    return PushCase(event, authenticated, _label(notes))


PATHS = ("trigger", "queue", "push")
BUILDERS: dict[str, Callable[[Source, Sequence[str]], Case]] = {
    "trigger": trigger_case,
    "queue": queue_case,
    "push": push_case,
}

# --- hypothesis strategies ------------------------------------------------------------------------


@st.composite
def trigger_cases(draw: st.DrawFn, classes: Sequence[str] = CLASSES) -> TriggerCase:
    """Hostile CMQ-topic trigger events."""
    return trigger_case(DrawSource(draw), classes)


@st.composite
def queue_cases(draw: st.DrawFn, classes: Sequence[str] = CLASSES) -> QueueCase:
    """Queue batches with one hostile message among good ones."""
    return queue_case(DrawSource(draw), classes)


@st.composite
def push_cases(draw: st.DrawFn, classes: Sequence[str] = CLASSES) -> PushCase:
    """Hostile function-URL pushes, authenticated or not."""
    return push_case(DrawSource(draw), classes)


STRATEGIES: dict[str, Callable[..., st.SearchStrategy[Any]]] = {
    "trigger": trigger_cases,
    "queue": queue_cases,
    "push": push_cases,
}
