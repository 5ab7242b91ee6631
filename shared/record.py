"""A base for the few mutable records (accumulators, settings with normalised fields): value equality
and a readable repr over `__slots__`, without `dataclasses`.

Why not dataclasses: importing `dataclasses` loads `inspect` (and `ast`, `dis`, `tokenize`), and each
decorated class is built by generating and exec'ing source at import: about 6 ms and 0.1-0.3 ms a class
of a 3.9 cold start, which is most of what our own modules cost (docs/benchmarks.md). Immutable values
are `typing.NamedTuple`s; a class that needs state after construction, or defaults built per instance,
subclasses Record and writes its `__init__`.
"""

from __future__ import annotations

from typing import Any


class Record:
    """Equality (same class, same slot values) and repr over `__slots__`; unhashable, like a mutable
    dataclass. Subclasses declare `__slots__` and set every slot in `__init__`."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._slot_names())

    @classmethod
    def _slot_names(cls) -> tuple[str, ...]:
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            names.extend(getattr(klass, "__slots__", ()))
        return tuple(names)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name, '<unset>')!r}" for name in self._slot_names())
        return f"{type(self).__name__}({shown})"
