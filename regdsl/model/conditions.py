"""What a condition may name of a patient: response vocabularies and groups, each with its source.

A **response vocabulary** is the set of responses a regimen's conditions name (`responses imwg`
in the heading; `default` without one). A **group** is a patient variable with declared values,
such as a clinician decision (`toxicity is unacceptable`) or a status (`cns is CNS3`). The
package's own come from ``data/responses.json`` and ``data/patient.json``, each with the source
it is taken from; a library defines more, or redefines one, in ``library.reg``.
"""

from __future__ import annotations

import json
from importlib import resources

from regdsl.record import Record, record

__all__ = ["DEFAULT_RESPONSES", "GROUPS", "VOCABULARIES", "Values"]


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


def _load(file: str, key: str, values: str) -> dict[str, Values]:
    data = json.loads(resources.files("regdsl.model").joinpath("data", file).read_text("utf-8"))
    return {
        name: Values(name=name, title=entry["title"], values=tuple(entry[values].items()), source=entry["source"])
        for name, entry in data[key].items()
    }


VOCABULARIES: dict[str, Values] = _load("responses.json", "vocabularies", "categories")
GROUPS: dict[str, Values] = _load("patient.json", "groups", "values")
DEFAULT_RESPONSES = VOCABULARIES["default"]
