"""Records behave as frozen, slotted, keyword-only dataclasses do (permaudit._infra.records)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from permaudit._infra.records import FrozenInstanceError, field, fields, record, replace
from permaudit.model import Manifest, UsesPermission


@record
class Point:
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = field(default="", compare=False)
    KIND: ClassVar[str] = "point"

    @property
    def total(self) -> int:
        return self.x + self.y


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DataPoint:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    note: str = dataclasses.field(default="", compare=False)


@record(order=True)
class Version:
    major: int
    minor: int = 0


def test_fields_defaults_and_factories() -> None:
    point = Point(x=1)
    assert (point.x, point.y, point.tags, point.note) == (1, 0, (), "")
    assert fields(Point) == fields(point) == ("x", "y", "tags", "note")
    assert Point.KIND == "point"
    assert point.total == 1
    assert Point.__doc__ == "A point."


def _named(values: tuple[object, ...]) -> dict[str, object]:
    return dict(zip(("x", "y", "tags", "note"), values, strict=True))


def test_equality_and_hash_match_dataclasses() -> None:
    pairs = [
        ((1, 2, ("a",), "n"), (1, 2, ("a",), "other note")),
        ((1, 2, ("a",), "n"), (1, 3, ("a",), "n")),
        ((1, 2, (), ""), (1, 2, ("b",), "")),
    ]
    for left, right in pairs:
        rec = (Point(**_named(left)), Point(**_named(right)))
        dc = (DataPoint(**_named(left)), DataPoint(**_named(right)))
        assert (rec[0] == rec[1]) == (dc[0] == dc[1])
        assert (hash(rec[0]) == hash(rec[1])) == (hash(dc[0]) == hash(dc[1]))
    assert Point(x=1) != DataPoint(x=1)
    assert Point(x=1) != (1, 0, (), "")


def test_repr_names_every_field() -> None:
    assert repr(Point(x=1, tags=("a",))) == "Point(x=1, y=0, tags=('a',), note='')"


def test_frozen_and_slotted() -> None:
    point = Point(x=1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.y  # type: ignore[misc]
    assert not hasattr(point, "__dict__")
    assert Point.__slots__ == ("x", "y", "tags", "note")


def test_constructor_errors() -> None:
    with pytest.raises(TypeError, match="missing required keyword argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(x=1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="both default and default_factory"):
        field(default=1, default_factory=int)


def test_replace_copies_and_validates() -> None:
    point = Point(x=1, y=2, note="kept")
    moved = replace(point, y=5)
    assert moved == Point(x=1, y=5) and moved.note == "kept" and point.y == 2
    with pytest.raises(TypeError):
        replace(point, z=1)


def test_pickle_and_copy_round_trip() -> None:
    manifest = Manifest(
        package="org.example",
        uses_permissions=(UsesPermission(name="android.permission.CAMERA", max_sdk=28),),
    )
    assert pickle.loads(pickle.dumps(manifest)) == manifest  # noqa: S301 -- our own bytes
    assert copy.copy(manifest) == manifest
    assert copy.deepcopy(manifest) == manifest


def test_order_compares_fields_in_order() -> None:
    versions = [Version(major=2), Version(major=1, minor=3), Version(major=1)]
    assert sorted(versions) == [Version(major=1), Version(major=1, minor=3), Version(major=2)]
    assert Version(major=1) <= Version(major=1) < Version(major=1, minor=1)
    with pytest.raises(TypeError):
        _ = Point(x=1) < Point(x=2)  # type: ignore[operator]
    with pytest.raises(TypeError):  # ordered, but not the same class
        _ = Version(major=1) < (1, 0)  # type: ignore[operator]


def test_post_init_runs() -> None:
    @record
    class Positive:
        value: int

        def __post_init__(self) -> None:
            if self.value <= 0:
                raise ValueError("not positive")

    assert Positive(value=1).value == 1
    with pytest.raises(ValueError, match="not positive"):
        Positive(value=0)


def test_a_record_cannot_extend_a_record() -> None:
    with pytest.raises(TypeError, match="cannot extend another record"):

        @record
        class Point3(Point):
            z: int = 0
