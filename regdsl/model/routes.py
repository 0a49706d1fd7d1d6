"""Route safety data: what ``data/routes.json`` says of routes, each fact with its source.

The routes a medicine may be given by, the medicines and classes that are fatal if given
intrathecally, the only medicines that may be given intrathecally (the label their lines carry
and why their doses are flat), the smallest volume a vinca alkaloid's minibag holds and the
classes kept apart from intrathecal chemotherapy. Facts are keyed by a medicine's generic
name (its identities: the known medicines it is, else its own name) or by its class; what a
medicine *is* comes from ``regdsl.model.medicines``, which reads these facts when it builds a
medicine, and the rules of ``regdsl.check.rules.safety`` read them from the medicine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from regdsl.model.vocabulary import ROUTE_BY_ALIAS

__all__ = [
    "CLASS_ROUTES",
    "FLAT_SOURCE",
    "INTRATHECAL_LABEL",
    "INTRATHECAL_LABEL_SOURCE",
    "MEDICINE_ROUTES",
    "MINIBAG",
    "SEPARATE",
    "SYRINGE_WORDS",
    "Fact",
    "Routes",
    "fatal_intrathecal",
    "intrathecal_allowed",
    "route_label",
]


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact of the route data and where it comes from."""

    what: str  # the medicine or class it is about
    source: str


@dataclass(frozen=True, slots=True)
class Routes:
    """The routes (SNOMED CT codes) a medicine or a class may be given by, and their source."""

    codes: frozenset[str]
    source: str


@dataclass(frozen=True, slots=True)
class Minibag:
    """The smallest volume a class's doses are given in (a minibag, never a syringe), and its source."""

    volume_ml: Decimal
    source: str


def _codes(aliases: Iterable[str]) -> frozenset[str]:
    return frozenset(ROUTE_BY_ALIAS[a.lower()].code for a in aliases)


def _routes(entries: Mapping[str, Any]) -> dict[str, Routes]:
    return {name: Routes(_codes(e["routes"]), e["source"]) for name, e in entries.items()}


def _facts(entries: Mapping[str, Any]) -> dict[str, Fact]:
    return {name: Fact(name, e["source"]) for name, e in entries.items()}


_DATA = json.loads(resources.files("regdsl.model").joinpath("data", "routes.json").read_text("utf-8"))
_FATAL_CLASSES = _facts(_DATA["fatal_intrathecal"]["classes"])
_FATAL_MEDICINES = _facts(_DATA["fatal_intrathecal"]["medicines"])
_INTRATHECAL = _facts(_DATA["intrathecal"]["medicines"])
INTRATHECAL_LABEL: str = _DATA["intrathecal"]["label"]
INTRATHECAL_LABEL_SOURCE: str = _DATA["intrathecal"]["label_source"]
FLAT_SOURCE: str = _DATA["intrathecal"]["flat_source"]
CLASS_ROUTES = _routes(_DATA["classes"])
MEDICINE_ROUTES = _routes(_DATA["medicines"])
MINIBAG = {name: Minibag(Decimal(str(e["volume_ml"])), e["source"]) for name, e in _DATA["minibag"]["classes"].items()}
SYRINGE_WORDS: frozenset[str] = frozenset(_DATA["minibag"]["syringe_words"])
SEPARATE = _facts(_DATA["separate_from_intrathecal"]["classes"])
_INTRATHECAL_CODE = ROUTE_BY_ALIAS["intrathecal"].code


def fatal_intrathecal(identities: Iterable[str], classes: Iterable[str]) -> Fact | None:
    """Return why a medicine of these identities and classes is fatal intrathecally (its class first), if it is."""
    found = [_FATAL_CLASSES[c] for c in sorted(classes) if c in _FATAL_CLASSES]
    found += [_FATAL_MEDICINES[i] for i in identities if i in _FATAL_MEDICINES]
    return found[0] if found else None


def intrathecal_allowed(identities: Iterable[str]) -> Fact | None:
    """Return why a medicine of these identities may be given intrathecally: every one of them may (else None).

    A product that is two medicines (liposomal DAUNOrubicin and cytarabine) is allowed only if both are.
    """
    found = [_INTRATHECAL.get(i) for i in identities]
    return found[0] if found and all(found) else None


def route_label(code: str | None) -> str | None:
    """Return the label every line by route ``code`` carries on pages (FOR INTRATHECAL USE ONLY), if any."""
    return INTRATHECAL_LABEL if code == _INTRATHECAL_CODE else None
