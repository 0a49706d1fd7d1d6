"""The HL7 NZ Cancer Control Agency IG as regdsl reads and writes it: canonical URLs, codes, the profiles' rules.

The profiles' cardinalities, the extensions each profile declares (and where), each
extension's value types and parts, and the value sets of the required bindings are data,
``data/cca.json``, read from the IG's StructureDefinitions and ValueSets (each entry names
the file it comes from). Only the names code refers to are constants here.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "ADDITIONAL_DETAILS",
    "ADDITIONAL_STATUS",
    "CCA_ACTIVITY",
    "CCA_DOSAGE",
    "CCA_PLAN",
    "CHILD_DETAILS",
    "DISCLAIMER",
    "EXTENSION_BASE",
    "OFF_LABEL",
    "PLAN_INSTRUCTIONS",
    "PLAN_STATUS_SYSTEM",
    "PLAN_TYPE_SYSTEM",
    "REPLACED_BY",
    "SETTING",
    "SUPPORTIVE",
    "SUPPORT_FACTOR",
    "TIMING_OF_DAYS",
    "USAGE_CONTEXT_SYSTEM",
    "Extension",
    "Profile",
    "extension",
    "profile",
    "value_set",
]

EXTENSION_BASE = "http://hl7.org.nz/fhir/StructureDefinition/"
CCA_PLAN = EXTENSION_BASE + "CcaPlanDefinition"
CCA_ACTIVITY = EXTENSION_BASE + "CcaActivityDefinition"
CCA_DOSAGE = EXTENSION_BASE + "CcaDosage"

SETTING = EXTENSION_BASE + "sact-treatment-setting"
PLAN_INSTRUCTIONS = EXTENSION_BASE + "sact-plan-instructions"
DISCLAIMER = EXTENSION_BASE + "sact-disclaimer"
SUPPORT_FACTOR = EXTENSION_BASE + "sact-support-factor"
TIMING_OF_DAYS = EXTENSION_BASE + "sact-timing-of-days"
OFF_LABEL = EXTENSION_BASE + "sact-off-label"
REPLACED_BY = EXTENSION_BASE + "sact-replaced-by"
ADDITIONAL_STATUS = EXTENSION_BASE + "sact-additional-plan-status"
ADDITIONAL_DETAILS = EXTENSION_BASE + "sact-additional-details"

PLAN_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
USAGE_CONTEXT_SYSTEM = "http://terminology.hl7.org/CodeSystem/usage-context-type"
# The code system of ``sact-additional-plan-status`` (its one code, ``review``: published, still under review).
PLAN_STATUS_SYSTEM = "https://standards.digital.health.nz/ns/sact-plan-definition-status-code"

# read by the importer
# Used by the NZ library's published regimens, and defined by no page of the guide's extension list.
SUPPORTIVE = EXTENSION_BASE + "sact-is-supportive-care"
CHILD_DETAILS = EXTENSION_BASE + "sact-child-regimen-extra-details"


@dataclass(frozen=True, slots=True)
class Profile:
    """A profile's rules: element cardinalities, extensions by the element they are declared on, bindings."""

    url: str
    type: str
    source: str
    elements: dict[str, tuple[int, str]]  # path -> (min, max), max "*" or a number
    extensions: dict[str, dict[str, tuple[int, str]]]  # element path -> extension url -> (min, max)
    bindings: dict[str, tuple[str, str]]  # path -> (value set url, strength)
    patterns: dict[str, dict[str, Any]]  # path -> {patternX: value}


@dataclass(frozen=True, slots=True)
class Extension:
    """An extension the IG defines: where it may stand, its value types, or its parts (a complex extension)."""

    url: str
    source: str
    context: tuple[str, ...]
    values: tuple[str, ...]  # value[x] as its JSON names: ("valueMarkdown",); empty for a complex extension
    parts: dict[str, tuple[int, str, tuple[str, ...]]]  # part url -> (min, max, value names)


@functools.cache
def _data() -> dict[str, Any]:
    text = resources.files("regdsl.fhir").joinpath("data", "cca.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def profile(url: str) -> Profile:
    """Return the profile ``url`` (``CCA_PLAN``, ``CCA_ACTIVITY``, ``CCA_DOSAGE``)."""
    raw = _data()["profiles"][url]
    return Profile(
        url=url,
        type=raw["type"],
        source=raw["source"],
        elements={path: (rule["min"], rule["max"]) for path, rule in raw["elements"].items()},
        extensions={
            path: {ext: (rule["min"], rule["max"]) for ext, rule in declared.items()}
            for path, declared in raw["extensions"].items()
        },
        bindings={path: (rule["valueSet"], rule["strength"]) for path, rule in raw["bindings"].items()},
        patterns=raw["patterns"],
    )


@functools.cache
def extension(url: str) -> Extension | None:
    """Return the extension the IG defines at ``url``, or None when it defines none there."""
    raw = _data()["extensions"].get(url)
    if raw is None:
        return None
    return Extension(
        url=url,
        source=raw["source"],
        context=tuple(raw["context"]),
        values=tuple(raw.get("value", ())),
        parts={
            name: (part["min"], part["max"], tuple(part.get("value", ())))
            for name, part in raw.get("parts", {}).items()
        },
    )


@functools.cache
def value_set(url: str) -> frozenset[tuple[str, str]] | None:
    """Return the (system, code) pairs a value set enumerates; None when it is defined by a filter (is-a)."""
    raw = _data()["valueSets"].get(url)
    if raw is None or any("filter" in part for part in raw["include"]):
        return None
    return frozenset((part["system"], code) for part in raw["include"] for code in part.get("codes", ()))
