"""What a condition may name of a patient: response vocabularies, groups and measures, each with its source.

A **response vocabulary** is the set of responses a regimen's conditions name (`responses imwg`
in the heading; `default` without one). A **group** is a patient variable with declared values,
such as a clinician decision (`toxicity is unacceptable`) or a status (`cns is CNS3`). A
**measure** is a number in one unit (`CrCl 30 to 50 mL/min`, `ANC at least 1.5 x10^9/L`). The
package's own come from ``data/responses.json`` and ``data/patient.json``, each with the source
it is taken from; a library defines more, or redefines one, in ``library.reg``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, cast

from regdsl.record import Record, record

__all__ = ["DEFAULT_RESPONSES", "GROUPS", "MEASURES", "VOCABULARIES", "Measure", "Values", "unit_key"]


@record
class Values(Record):
    """A response vocabulary or a group: its name, its title, its values (each with its title) and its source."""

    name: str
    title: str
    values: tuple[tuple[str, str], ...]
    source: str | None  # None: defined in a library, whose own text is its source

    def names(self) -> tuple[str, ...]:
        """Return the values, in their declared order."""
        return tuple(value for value, _ in self.values)

    def title_of(self, value: str) -> str:
        """Return the title of one of the values (the value itself if it has none)."""
        return next((title for name, title in self.values if name == value), value)


@record
class Measure(Record):
    """A measure: its name, its title, the one unit its thresholds are written in, and its source."""

    name: str
    title: str
    unit: str
    source: str | None  # None: defined in a library


def unit_key(unit: str) -> str:
    """Return a measure unit as it is compared: `×10⁹/L` and `x 10^9/L` are `x10^9/L`; `year` is `years`."""
    key = unit.replace("\u00d7", "x").replace("\u2079", "^9").replace("x 10", "x10")
    return "years" if key == "year" else key


def _data(file: str) -> dict[str, dict[str, dict[str, Any]]]:
    return cast(dict[str, Any], json.loads(resources.files("regdsl.model").joinpath("data", file).read_text("utf-8")))


def _values(entries: dict[str, dict[str, Any]], values: str) -> dict[str, Values]:
    return {
        name: Values(name=name, title=entry["title"], values=tuple(entry[values].items()), source=entry["source"])
        for name, entry in entries.items()
    }


_PATIENT = _data("patient.json")
VOCABULARIES: dict[str, Values] = _values(_data("responses.json")["vocabularies"], "categories")
GROUPS: dict[str, Values] = _values(_PATIENT["groups"], "values")
MEASURES: dict[str, Measure] = {
    name: Measure(name=name, title=entry["title"], unit=entry["unit"], source=entry["source"])
    for name, entry in _PATIENT["measures"].items()
}
DEFAULT_RESPONSES = VOCABULARIES["default"]
