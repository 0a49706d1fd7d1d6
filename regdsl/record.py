"""``@record``: the frozen, slotted, keyword-only dataclasses of the model, made cheaply.

The model has some eighty node classes. A dataclass generates ``__eq__``, ``__hash__`` and
``__repr__`` for each class by compiling source at import time, which made up most of
regdsl's start-up. ``Record`` writes them once, over the fields, for every class.

A frozen dataclass's own ``__init__`` sets each field through ``object.__setattr__``, which
made building the syntax tree and the lowered regimen cost as much as parsing. A record's
``__init__`` sets each slot through the slot's own descriptor instead, and ``Record`` refuses
every assignment (``FrozenInstanceError``), as a frozen dataclass does: the same frozen
object, made in a third of the time, by one generated method per class rather than three.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast, dataclass_transform

__all__ = ["Record", "record"]

_T = TypeVar("_T")


class Record:
    """Base of the model's records: equality, hashing and repr over the dataclass fields."""

    __slots__ = ()
    if TYPE_CHECKING:
        __dataclass_fields__: ClassVar[dict[str, object]]

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.__dataclass_fields__])

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__dataclass_fields__)
        return f"{type(self).__name__}({fields})"

    def __getstate__(self) -> tuple[object, ...]:
        return self._values()

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__dataclass_fields__, state, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _initializer(cls: type) -> Callable[..., None]:
    """Return an ``__init__`` for ``cls`` that sets each field through its slot descriptor."""
    names: dict[str, object] = {}
    params: list[str] = []
    body: list[str] = []
    for index, item in enumerate(dataclasses.fields(cls)):
        setter = f"_set{index}"
        names[setter] = getattr(cls, item.name).__set__
        if item.default is not dataclasses.MISSING:
            names[f"_default{index}"] = item.default
            params.append(f"{item.name}=_default{index}")
        elif item.default_factory is not dataclasses.MISSING:
            names[f"_factory{index}"] = item.default_factory
            params.append(f"{item.name}=_missing")
            body.append(f"    if {item.name} is _missing: {item.name} = _factory{index}()")
        else:
            params.append(item.name)
        body.append(f"    {setter}(self, {item.name})")
    names["_missing"] = dataclasses.MISSING
    signature = f"self, *, {', '.join(params)}" if params else "self"
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, names)
    init = cast(Callable[..., None], names["__init__"])
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@dataclass_transform(frozen_default=True, kw_only_default=True, eq_default=True)
def record(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a frozen, slotted, keyword-only dataclass whose equality ``Record`` gives."""
    # Frozen by ``Record``'s own ``__setattr__``, written once, rather than by two methods per class.
    made = dataclass(slots=True, kw_only=True, eq=False, repr=False, init=False)(cls)
    made.__init__ = _initializer(made)  # type: ignore[method-assign]
    return made
