"""Immutable record classes: frozen, slotted, keyword-only value types that cost nothing to define.

A record is what ``@dataclass(frozen=True, slots=True, kw_only=True)`` gives (fields from
the class annotations, defaults and default factories, ``==``/``hash``/``repr`` over the
fields, ``replace``), written by hand because of start-up time, which is most of what a
``permaudit scan`` costs: ``@dataclass`` writes and compiles six methods per class when the
module is imported (0.65 ms a class measured on the reference machine; the ~90 classes of
a scan cost ~60 ms of a ~150 ms run), and importing ``dataclasses`` pulls in ``inspect``
(13 ms). Here every record shares one implementation of those methods, driven by the field
list the decorator reads once, so defining a class takes 0.02 ms. Creating an instance costs
about what a dataclass's generated ``__init__`` does (1.3 us for seven fields): fields are
set through their slot descriptors, past the ``__setattr__`` that makes instances frozen.

Type checkers see records as dataclasses (PEP 681 ``dataclass_transform``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Callable[[Any], Any]:
        return lambda function: function


__all__ = ["FrozenInstanceError", "Record", "field", "fields", "record", "replace"]

R = TypeVar("R", bound="Record")
T = TypeVar("T")
C = TypeVar("C", bound=type)

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Raised on an attempt to change or delete a field of a record."""


class _Field:
    """What ``field()`` returns in a class body: a default, a factory, and whether it compares."""

    __slots__ = ("compare", "default", "default_factory")

    def __init__(self, default: Any, default_factory: Any, compare: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.compare = compare


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    compare: bool = True,
) -> Any:
    """A field with a default factory, or one left out of ``==``, ``hash`` and ordering."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, compare)


class Record:
    """Base of every record: the shared ``__init__``, comparison, hash, repr and immutability."""

    __slots__ = ()
    #: Set by ``record`` on each class: field names in definition order, ...
    _record_fields: tuple[str, ...] = ()
    #: ... (name, slot setter, default, factory) for ``__init__``, ...
    _record_init: tuple[tuple[str, Callable[[Any, Any], None], Any, Any], ...] = ()
    #: ... a function returning the tuple of compared field values, ...
    _record_key: Callable[[Any], tuple[Any, ...]] = staticmethod(lambda _self: ())
    #: ... and whether the class defines ``__post_init__``.
    _record_post_init = False

    def __init__(self, **values: Any) -> None:
        pop = values.pop
        for name, setter, default, factory in self._record_init:
            value = pop(name, default)  # one dict operation per field: this is the hot path
            if value is _MISSING:
                if factory is _MISSING:
                    raise TypeError(
                        f"{type(self).__qualname__}() missing required keyword argument: "
                        f"{name!r}"
                    )
                value = factory()
            setter(self, value)  # the slot's own descriptor: past the refusing __setattr__
        if values:
            raise TypeError(
                f"{type(self).__qualname__}() got an unexpected keyword argument "
                f"{next(iter(values))!r}"
            )
        if self._record_post_init:
            self.__post_init__()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_fields)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._record_key(self) == self._record_key(other)

    def __hash__(self) -> int:
        return hash(self._record_key(self))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickling and ``copy`` rebuild through ``__init__`` (``__setattr__`` refuses)."""
        return (_rebuild, (type(self), tuple(getattr(self, n) for n in self._record_fields)))


def _rebuild(cls: type[R], values: tuple[Any, ...]) -> R:
    return cls(**dict(zip(cls._record_fields, values, strict=True)))


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, object], Any]:
    """An ordering method comparing the compared fields of two records of one class."""

    def method(self: Record, other: object) -> Any:  # a bool, or NotImplemented
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(compare(self._record_key(self), self._record_key(other)))

    return method


class _Ordered(Record):
    """Ordering by the compared fields, in definition order (``record(order=True)``)."""

    __slots__ = ()
    __lt__ = _ordering(operator.lt)
    __le__ = _ordering(operator.le)
    __gt__ = _ordering(operator.gt)
    __ge__ = _ordering(operator.ge)


def _key_function(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A C-speed ``obj -> tuple of the named attributes`` (attrgetter of one name is no tuple)."""
    if not names:
        return lambda _obj: ()
    if len(names) == 1:
        getter = attrgetter(names[0])
        return lambda obj: (getter(obj),)
    return attrgetter(*names)


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return str(text).startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def record(cls: C | None = None, *, order: bool = False) -> Any:
    """Make ``cls`` a record: ``@record`` or ``@record(order=True)`` on a plain class body.

    The class is rebuilt with ``__slots__`` for its annotated fields and ``Record`` (or its
    ordered variant) as its base; methods, properties and the docstring are kept.
    """

    def build(body: C) -> C:
        # Not inspect.get_annotations: importing inspect costs 13 ms, and the body is ours.
        annotations = body.__dict__.get("__annotations__", {})  # noqa: RUF063
        names = tuple(n for n, a in annotations.items() if not _is_class_var(a))
        namespace = {
            k: v for k, v in body.__dict__.items() if k not in ("__dict__", "__weakref__")
        }
        init: list[tuple[str, Any, Any]] = []
        compared: list[str] = []
        for name in names:
            value = namespace.pop(name, _MISSING)
            spec = value if isinstance(value, _Field) else _Field(value, _MISSING, True)
            init.append((name, spec.default, spec.default_factory))
            if spec.compare:
                compared.append(name)
        bases = tuple(b for b in body.__bases__ if b is not object)
        if any(issubclass(b, Record) for b in bases):
            raise TypeError(f"{body.__qualname__}: a record cannot extend another record")
        namespace.update(
            __slots__=names,
            _record_fields=names,
            _record_key=staticmethod(_key_function(tuple(compared))),
            _record_post_init="__post_init__" in namespace,
        )
        base = _Ordered if order else Record
        built: C = type(body)(body.__name__, (*bases, base), namespace)
        built._record_init = tuple(  # type: ignore[attr-defined]
            (name, built.__dict__[name].__set__, default, factory)
            for name, default, factory in init
        )
        return built

    return build if cls is None else build(cls)


# ``fields`` and ``replace`` take ``object``/an unbound type variable: type checkers see
# records as dataclasses (``dataclass_transform``), not as ``Record`` subclasses.


def fields(obj: object) -> tuple[str, ...]:
    """The field names of a record (class or instance), in definition order."""
    names: tuple[str, ...] = obj._record_fields  # type: ignore[attr-defined]
    return names


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of record ``obj`` with ``changes`` applied (unknown names raise ``TypeError``)."""
    values = {name: getattr(obj, name) for name in fields(obj)}
    values.update(changes)
    return type(obj)(**values)
