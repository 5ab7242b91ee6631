"""shared.record.Record: equality and repr over slots, unhashable, no stray attributes."""

from __future__ import annotations

import pytest

from shared.record import Record


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
