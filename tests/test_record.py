"""shared.record.Record: equality and repr over slots, unhashable, no stray attributes; and
shared.record.NamedTuple, which must be typing's."""

from __future__ import annotations

import re
from typing import Optional

import pytest

from shared.record import NamedTuple, Record
from tests.helpers import ROOT


class Entry(NamedTuple):
    attempt: int
    status: str
    marker: str = ""


class Point(Record):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: list[int]) -> None:
        self.x = x
        self.y = y


class Point3(Point):
    __slots__ = ("z",)

    def __init__(self, x: int, y: list[int], z: int) -> None:
        super().__init__(x, y)
        self.z = z


def test_equal_by_class_and_every_slot_including_inherited_ones():
    assert Point(1, [2]) == Point(1, [2]) and Point(1, [2]) != Point(1, [3])
    assert Point3(1, [2], 3) == Point3(1, [2], 3) and Point3(1, [2], 3) != Point3(1, [2], 4)
    assert Point(1, [2]) != Point3(1, [2], 3) and Point(1, [2]) != (1, [2])


def test_repr_names_every_slot_and_the_object_is_unhashable_and_closed():
    assert repr(Point3(1, [2], 3)) == "Point3(x=1, y=[2], z=3)"
    with pytest.raises(TypeError):
        hash(Point(1, [2]))
    with pytest.raises(AttributeError):
        Point(1, [2]).other = 1  # type: ignore[attr-defined]


# shared.record.NamedTuple: typing.NamedTuple's class syntax without its per-field annotation check.
def _pair(base):
    class Point(base):  # type: ignore[valid-type,misc]  # either base, on purpose
        """A point."""

        x: int
        y: Optional[int] = None  # a string here, as every annotation under future annotations
        label: str = "p"

        @property
        def total(self) -> int:
            return self.x + (self.y or 0)

        @classmethod
        def origin(cls):
            return cls(0, 0)

        def moved(self, dx):
            return self._replace(x=self.x + dx)

    return Point


def test_named_tuples_behave_as_typings():
    import pickle
    import typing

    ours, theirs = _pair(NamedTuple), _pair(typing.NamedTuple)
    for cls in (ours, theirs):
        p = cls(1, 2)
        assert p == (1, 2, "p") and p.total == 3 and cls.origin() == (0, 0, "p")
        assert p.moved(2) == cls(3, 2) and p._asdict() == {"x": 1, "y": 2, "label": "p"}
        assert cls._fields == ("x", "y", "label") and cls._field_defaults == {"y": None, "label": "p"}
        assert cls.__doc__ == "A point." and isinstance(p, tuple) and hash(p) == hash((1, 2, "p"))
        assert cls(x=5, label="q") == (5, None, "q")
    assert repr(ours(1)) == repr(theirs(1)) == "Point(x=1, y=None, label='p')"
    assert list(ours.__annotations__) == list(theirs.__annotations__) == ["x", "y", "label"]
    assert ours.__annotations__["y"] == "Optional[int]"  # kept as written, not compiled
    assert type(theirs.__annotations__["y"]).__name__ == "ForwardRef"
    # a module-level class pickles by name, as typing's does
    assert pickle.loads(pickle.dumps(Entry(2, "done", "1"))) == Entry(2, "done", "1")  # noqa: S301


def test_named_tuples_refuse_what_typings_refuse():
    with pytest.raises(TypeError, match="Non-default namedtuple field b cannot follow default field a"):

        class Bad(NamedTuple):
            a: int = 0
            b: int  # type: ignore[misc]  # what mypy refuses too

    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):

        class Worse(NamedTuple):
            a: int

            def _replace(self, **kwargs):  # type: ignore[misc]
                return self


def test_deployed_code_builds_its_named_tuples_the_cheap_way():
    # typing.NamedTuple compiles every string annotation into a ForwardRef at import; none is left
    deployed = [ROOT / "shared", *(ROOT / "functions").iterdir()]
    offenders = [
        str(path.relative_to(ROOT))
        for folder in deployed
        for path in folder.rglob("*.py")
        if re.search(r"^from typing import [^\n]*\bNamedTuple\b", path.read_text(), re.M)
        and path.name != "record.py"
    ]
    assert offenders == []


def test_a_named_tuple_takes_no_other_base():
    class Mixin:
        def hello(self) -> str:
            return "hi"

    with pytest.raises(TypeError, match="no other base"):

        class Mixed(NamedTuple, Mixin):  # type: ignore[misc]  # mypy refuses it as well
            a: int
