"""The usual doses of medicines: ranges by basis and route, caps, and the bases a route never uses.

Every fact comes from ``data/doses.json`` and cites its source (a product data sheet or
prescribing information, a national or network protocol, a trial paper); a library's
``usual dose`` lines add to them or replace them (``Medicine.usual``). The dose rules of
``check/rules/dose.py`` read only this module: no rule names a medicine.

A dose is compared in its **unit family**: what it is an amount of (a mass, units,
international units, ...), what it is scaled by (nothing, m², kg, an AUC target) and the time
it is per (nothing, or a day). `g/m2` and `mg/m2` are one family, compared after conversion;
`mg/m2` and `mg/m2/day` are two. A range in a dose unit is one dose's amount; a range in a
`/day` unit is what a day gives (a continuous infusion's daily amount, a daily dose split over
the day).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal

from regdsl.model.medicines import Medicine, identities
from regdsl.model.vocabulary import ROUTE_BY_ALIAS, Basis, Unit, find_unit

__all__ = [
    "Bases",
    "DoseFacts",
    "Family",
    "UsualRange",
    "facts",
    "family",
    "parse_range",
]

# What one of each amount unit is in its family's own unit (a mass is compared in mg).
_IN_BASE: dict[str, tuple[str, Decimal]] = {
    "mg": ("mass", Decimal(1)),
    "g": ("mass", Decimal(1000)),
    "microgram": ("mass", Decimal("0.001")),
}


@dataclass(frozen=True, slots=True, order=True)
class Family:
    """A unit family: what a dose is an amount of, what it is scaled by, and the minutes it is per (None: a dose)."""

    amount: str
    basis: str
    per_minutes: int | None

    @property
    def per_day(self) -> bool:
        """Whether a dose of this family is an amount per day."""
        return self.per_minutes == 1440

    def as_dose(self) -> Family:
        """Return the family of one dose of this amount (``mg/m2`` for ``mg/m2/day``)."""
        return Family(self.amount, self.basis, None)


def family(unit: Unit) -> tuple[Family, Decimal] | None:
    """Return a unit's family and what one of the unit is in the family's own unit; None for a concentration."""
    if unit.basis is Basis.CONCENTRATION:
        return None
    kind, factor = _IN_BASE.get(unit.absolute, (unit.absolute, Decimal(1)))
    return Family(kind, unit.basis.value, unit.per_minutes), factor


@dataclass(frozen=True, slots=True)
class UsualRange:
    """A usual range of a medicine by a route: of one dose (``kind="dose"``) or of its cap (``kind="cap"``).

    ``low`` and ``high`` are in ``unit``, the unit the source writes them in. A cap's range
    says what a `max` on a dose in unit ``on`` (or its family) may be; ``required`` says the source always
    caps such a dose.
    """

    medicine: str
    route: str  # SNOMED CT code
    route_text: str
    unit: Unit
    low: Decimal
    high: Decimal
    source: str
    kind: Literal["dose", "cap"] = "dose"
    on: Unit | None = None
    required: bool = False

    @property
    def on_family(self) -> Family | None:
        """The family of the doses a cap range is for (None for a dose range)."""
        found = family(self.on) if self.on is not None else None
        return found[0] if found is not None else None

    @property
    def family(self) -> Family:
        """The family of the range's unit."""
        found = family(self.unit)
        assert found is not None  # a range in a concentration is refused when read
        return found[0]

    def _base(self, value: Decimal) -> Decimal:
        found = family(self.unit)
        assert found is not None
        return value * found[1]

    def compare(self, base: Decimal) -> int:
        """Return -1, 0 or 1 as an amount in the family's own unit (mg for a mass) is below, in or above the range."""
        if base < self._base(self.low):
            return -1
        return 1 if base > self._base(self.high) else 0

    @property
    def text(self) -> str:
        """The range as findings write it: `0.4 to 2 mg/m²`, `AUC 1.5 to 7`, `2 mg`."""
        low, high = _number(self.low), _number(self.high)
        numbers = low if self.low == self.high else f"{low} to {high}"
        return f"AUC {numbers}" if self.unit.basis is Basis.AUC else f"{numbers} {self.unit.display}"


@dataclass(frozen=True, slots=True)
class Bases:
    """The only unit families a medicine is dosed in by a route (intrathecal doses are flat), with the source."""

    medicine: str
    route: str
    families: frozenset[Family]
    units: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class DoseFacts:
    """What is known of one medicine's doses: its usual ranges, caps and bases by route."""

    ranges: tuple[UsualRange, ...] = ()
    bases: tuple[Bases, ...] = ()

    def doses(self, route: str) -> tuple[UsualRange, ...]:
        """Return the dose ranges by ``route``."""
        return tuple(r for r in self.ranges if r.kind == "dose" and r.route == route)

    def caps(self, route: str) -> tuple[UsualRange, ...]:
        """Return the cap ranges by ``route``."""
        return tuple(r for r in self.ranges if r.kind == "cap" and r.route == route)

    def only(self, route: str) -> Bases | None:
        """Return the bases the medicine is only ever dosed in by ``route``, if the data says."""
        return next((b for b in self.bases if b.route == route), None)

    @property
    def auc(self) -> bool:
        """Whether the medicine is dosed by an AUC target by any route."""
        return any(r.unit.basis is Basis.AUC for r in self.ranges if r.kind == "dose")


def _number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_RANGE = re.compile(r"(?P<low>\d+(?:\.\d+)?)(?: to (?P<high>\d+(?:\.\d+)?))?")


def parse_range(text: str) -> tuple[Decimal, Decimal]:
    """Read `0.4 to 2` or `2` as its bounds; raises ValueError for anything else, zero, or a low above the high."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a range of amounts: {text!r}")
    low = Decimal(match["low"])
    high = Decimal(match["high"] or match["low"])
    if not 0 < low <= high:
        raise ValueError(f"not a range of positive amounts from low to high: {text!r}")
    return low, high


def _unit(text: str) -> tuple[Unit, Family]:
    unit = find_unit(text)
    found = family(unit) if unit is not None else None
    if unit is None or found is None:
        raise ValueError(f"not a dose unit: {text!r}")
    return unit, found[0]


def _range(medicine: str, entry: dict[str, str], kind: Literal["dose", "cap"]) -> UsualRange:
    low, high = parse_range(entry[kind])
    route = ROUTE_BY_ALIAS[entry["route"].lower()]
    on = _unit(entry["on"])[0] if "on" in entry else None
    return UsualRange(
        medicine=medicine,
        route=route.code,
        route_text=entry["route"],
        unit=_unit(entry["unit"])[0],
        low=low,
        high=high,
        source=entry["source"],
        kind=kind,
        on=on,
        required=bool(entry.get("required", False)),
    )


def _bases(medicine: str, entry: dict[str, list[str] | str]) -> Bases:
    units = tuple(entry["units"])
    return Bases(
        medicine=medicine,
        route=ROUTE_BY_ALIAS[str(entry["route"]).lower()].code,
        families=frozenset(_unit(u)[1] for u in units),
        units=units,
        source=str(entry["source"]),
    )


def _load() -> dict[str, DoseFacts]:
    """Read the data file: each medicine's facts under its generic name and the other names it lists."""
    data = json.loads(resources.files("regdsl.model").joinpath("data", "doses.json").read_text("utf-8"))
    found: dict[str, DoseFacts] = {}
    for name, entry in data["medicines"].items():
        facts = DoseFacts(
            ranges=(
                *(_range(name, e, "dose") for e in entry.get("doses", ())),
                *(_range(name, e, "cap") for e in entry.get("caps", ())),
            ),
            bases=tuple(_bases(name, e) for e in entry.get("bases", ())),
        )
        for key in (name, *entry.get("names", ())):
            found[key] = facts
    return found


@cache
def package_facts() -> dict[str, DoseFacts]:
    """Return the package's dose facts by generic name, read once."""
    return _load()


def _names(medicine: Medicine) -> Iterable[str]:
    """Yield the names its facts are looked up by: its own names first (a brand with its own doses), then what it is."""
    yield from sorted(medicine.spellings())
    yield from identities(medicine)


def facts(medicine: Medicine) -> DoseFacts:
    """Return what is known of a medicine's doses: its library's ranges, then the package's for the rest."""
    package = package_facts()
    base = next((package[n] for n in _names(medicine) if n in package), DoseFacts())
    own = medicine.usual
    if not own:
        return base
    replaced = {(r.family, r.route) for r in own}
    kept = tuple(r for r in base.ranges if r.kind == "cap" or (r.family, r.route) not in replaced)
    return DoseFacts(ranges=(*own, *kept), bases=base.bases)
