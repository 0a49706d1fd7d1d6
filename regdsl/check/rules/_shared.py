"""Helpers the dose, structure, completeness and supportive-care rules share."""

from __future__ import annotations

import re
from collections.abc import Iterator

from regdsl.model import ir
from regdsl.model.medicines import DEFAULT_MEDICINES, Medicine
from regdsl.model.vocabulary import INTRAVENOUS, ORAL, Route

__all__ = [
    "administrations",
    "by_route",
    "has_parts",
    "is_tall_man",
    "medicines_of",
    "metas",
]

# Tall Man lettering: a capital after a small letter (`cISplatin`), or a run of capitals
# before small letters (`DOXOrubicin`). `Sodium chloride` is not Tall Man.
_TALL_MAN = re.compile(r"[a-z][A-Z]|[A-Z]{2,}[a-z]")


def administrations(regimen: ir.Regimen) -> Iterator[ir.Administration]:
    """Every administration once, even when `same as` repeats it in later cycles."""
    seen: set[tuple[str, int]] = set()
    for group in regimen.cycles():
        for admin in group.administrations:
            key = (admin.span.path, admin.span.start)
            if key not in seen:
                seen.add(key)
                yield admin


def metas(regimen: ir.Regimen) -> Iterator[ir.Meta]:
    """Yield the heading of the regimen, then those of its parts."""
    yield regimen.meta
    for part in regimen.parts:
        yield part.meta


def has_parts(regimen: ir.Regimen) -> bool:
    """Whether the regimen is written in parts (a regimen without parts has one unnumbered part)."""
    return any(part.number is not None for part in regimen.parts)


def is_tall_man(display: str) -> bool:
    """Whether a display name uses Tall Man lettering."""
    return _TALL_MAN.search(display) is not None


def medicines_of(regimen: ir.Regimen) -> dict[str, Medicine]:
    """Return the default medicine table, with the regimen's own medicines (its library's) in their place."""
    found = {m.name: m for m in DEFAULT_MEDICINES}
    for group in regimen.cycles():
        for admin in group.administrations:
            found[admin.medicine.name] = admin.medicine
        for note in group.notes:
            if note.medicine is not None:
                found[note.medicine.name] = note.medicine
        for observation in group.observations:
            found[observation.medicine.name] = observation.medicine
        for gap in group.gaps:
            found[gap.medicine.name] = gap.medicine
    return found


def by_route(route: Route) -> str:
    """How a route reads in a sentence: `intravenously`, `by intramuscular injection`."""
    if route.code == INTRAVENOUS:
        return "intravenously"
    if route.code == ORAL:
        return "by mouth"
    return f"by {route.term}"
