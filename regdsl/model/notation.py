"""The error-prone notation of the ISMP list: abbreviations, symbols and dose designations.

The facts are ``data/error_prone.json``: each entry says what the form means, how it has
been misread and what to write instead, and cites its entry of the ISMP List of
Error-Prone Abbreviations, Symbols, and Dose Designations. The notation rules
(``check/rules/forms.py``) read them from here; none of them lists a form itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

__all__ = [
    "ABBREVIATIONS",
    "DESIGNATIONS",
    "DOSE_UNITS",
    "ISMP_LIST",
    "SYMBOLS",
    "Abbreviation",
    "Designation",
    "Symbol",
]


@dataclass(frozen=True, slots=True)
class Abbreviation:
    """An error-prone abbreviation: its written forms (case as written), and what to write instead.

    ``after_number``: a unit abbreviation, error-prone only right after a number (`10 U`).
    ``route``: a route abbreviation, also error-prone as the route of a dose line (`SC`).
    """

    written: tuple[str, ...]
    meaning: str
    misread: str
    instead: str
    source: str
    after_number: bool = False
    route: bool = False


@dataclass(frozen=True, slots=True)
class Symbol:
    """An error-prone symbol, and where it is one.

    ``where``: ``before-number`` (`> 1.5`), ``alone`` (a symbol standing between spaces or
    next to a number, not inside a word, an address or `HER2+`), ``between-doses``
    (`25 units/10 units`).
    """

    symbol: str
    where: Literal["before-number", "alone", "between-doses"]
    meaning: str
    misread: str
    instead: str
    source: str


@dataclass(frozen=True, slots=True)
class Designation:
    """An error-prone way to write a dose's number (`1.0 mg`, `.5 mg`, `10mg`, `100000 units`, `x3d`)."""

    id: str
    example: str
    misread: str
    instead: str
    source: str
    digits: int | None = None  # for `large-number`: the fewest digits in a row that are error-prone


def _load() -> dict[str, Any]:
    text = resources.files("regdsl.model").joinpath("data", "error_prone.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


_DATA = _load()
ISMP_LIST: str = _DATA["list"]
ABBREVIATIONS: tuple[Abbreviation, ...] = tuple(
    Abbreviation(**{**entry, "written": tuple(entry["written"])}) for entry in _DATA["abbreviations"]
)
SYMBOLS: tuple[Symbol, ...] = tuple(Symbol(**entry) for entry in _DATA["symbols"])
DESIGNATIONS: dict[str, Designation] = {entry["id"]: Designation(**entry) for entry in _DATA["designations"]}
# The units a dose is written in, as written in prose after its number (`10 mg`, `2 L`).
DOSE_UNITS: tuple[str, ...] = tuple(_DATA["dose_units"]["written"])
