"""``@record``: the frozen, slotted, keyword-only dataclasses of the model, made cheaply.

The model has some eighty node classes. A dataclass generates ``__eq__``, ``__hash__`` and
``__repr__`` for each class by compiling source at import time, which made up most of
regdsl's start-up. ``Record`` writes them once, over the fields, for every class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar, dataclass_transform

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


@dataclass_transform(frozen_default=True, kw_only_default=True, eq_default=True)
def record(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a frozen, slotted, keyword-only dataclass whose equality ``Record`` gives."""
    return dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)(cls)
