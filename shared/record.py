"""A base for the few mutable records (accumulators, settings with normalised fields): value equality
and a readable repr over `__slots__`, without `dataclasses`; and `NamedTuple`, typing's, built cheaper.

Why not dataclasses: importing `dataclasses` loads `inspect` (and `ast`, `dis`, `tokenize`), and each
decorated class is built by generating and exec'ing source at import: about 6 ms and 0.1-0.3 ms a class
of a 3.9 cold start, which is most of what our own modules cost (docs/benchmarks.md). Immutable values
are `typing.NamedTuple`s; a class that needs state after construction, or defaults built per instance,
subclasses Record and writes its `__init__`.
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing's, without importing typing: 2 ms of a 3.9 cold start
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from typing import NamedTuple  # what mypy checks: typing.NamedTuple itself
else:

    class _NamedTupleMeta(type):
        """typing.NamedTuple's class syntax, less its check of every field's annotation.

        typing checks each annotation with `_type_check`, and under `from __future__ import
        annotations` every one is a string, which it compiles into a ForwardRef: about 25 us a
        field, 1-2 ms of a 3.9 cold start over the ~60-90 fields a function defines. The class
        is otherwise what typing makes (collections.namedtuple, the same defaults rule, methods
        and docstring copied over, the same names refused); `__annotations__` keeps the strings,
        which typing.get_type_hints resolves. mypy sees typing.NamedTuple itself.
        """

        _PROHIBITED = frozenset(
            {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
            | {"_make", "_replace", "_asdict", "_source"}
        )
        _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

        def __new__(mcls, typename, bases, ns):
            if not bases:
                return super().__new__(mcls, typename, bases, ns)
            if len(bases) != 1:  # typing refuses a mixin or Generic beside NamedTuple too
                raise TypeError("a NamedTuple class takes no other base")
            types = ns.get("__annotations__", {})
            default_names = []
            for field_name in types:
                if field_name in ns:
                    default_names.append(field_name)
                elif default_names:
                    raise TypeError(
                        f"Non-default namedtuple field {field_name} cannot follow default field"
                        f"{'s' if len(default_names) > 1 else ''} {', '.join(default_names)}"
                    )
            made = namedtuple(
                typename, list(types), defaults=[ns[n] for n in default_names], module=ns["__module__"]
            )
            made.__annotations__ = made.__new__.__annotations__ = dict(types)
            for key in ns:
                if key in mcls._PROHIBITED:
                    raise AttributeError("Cannot overwrite NamedTuple attribute " + key)
                if key not in mcls._SPECIAL and key not in made._fields:
                    setattr(made, key, ns[key])
            return made

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Subclass it as typing.NamedTuple (class syntax only)."""


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


__all__ = ["NamedTuple", "Record"]
