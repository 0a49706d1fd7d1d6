"""What both profiles write alike: identity, classification, citations, medicines, doses, narratives, words.

A regimen's identity and classification (its heading's fields, identifiers, cancer and
setting terms, status), its citations and each line's medicine, dose, route, frequency,
volume and cap are the same FHIR elements in a ``CcaPlanDefinition`` and a plain R4
``PlanDefinition``; the profiles differ in where the rest goes (``cca``, ``core``). Every
text that is not a fact as written (a relation, a window, a rule of the plan) is the page
view's wording (``regdsl.render.view``), never worded again here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from regdsl.compile.schedule import doses_by_day
from regdsl.fhir import ig
from regdsl.model import ir
from regdsl.model.vocabulary import SNOMED, UCUM, Basis, Coding, Unit
from regdsl.render.view import CycleView

__all__ = [
    "FIELDS",
    "STATUS",
    "Json",
    "citations",
    "coded",
    "concept",
    "cycle_repeat",
    "dosage",
    "dumps",
    "identity",
    "narrative",
    "note_text",
    "product",
    "quantity",
    "timing_words",
    "use_contexts",
]

Json = dict[str, Any]

# regdsl's status -> FHIR's PublicationStatus (a provisional regimen is active, under review: see ``cca``).
STATUS = {
    ir.Status.DRAFT: "draft",
    ir.Status.PROVISIONAL: "active",
    ir.Status.PUBLISHED: "active",
    ir.Status.DISCONTINUED: "retired",
    ir.Status.SUPERSEDED: "retired",
}

# A heading's text and date fields -> the PlanDefinition element that holds each, in FHIR's order of elements.
FIELDS = (
    ("url", "url"),
    ("version", "version"),
    ("name", "name"),
    ("title", "title"),
    ("subtitle", "subtitle"),
    ("date", "date"),
    ("publisher", "publisher"),
    ("description", "description"),
    ("copyright", "copyright"),
    ("approved", "approvalDate"),
    ("last-reviewed", "lastReviewDate"),
)


def _number(value: Decimal) -> int | float:
    """Return a decimal as the JSON number it is exactly (refused if a binary float cannot say it back)."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} cannot be written exactly as a JSON number")
    return number


def dumps(resource: Json) -> bytes:
    """Return the resource's bytes: UTF-8 JSON, two-space indents, a final newline (lists keep the order given)."""
    return (json.dumps(resource, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def identity(meta: ir.Meta, status: str) -> Json:
    """Return the heading's elements after ``extension``, in FHIR's order."""
    out: Json = {}
    for key, element in FIELDS[:1]:
        if (value := meta.get(key)) is not None:
            out[element] = value
    if meta.identifiers:
        out["identifier"] = [{"system": system, "value": value} for system, value in meta.identifiers]
    for key, element in FIELDS[1:5]:
        if (value := meta.get(key)) is not None:
            out[element] = value
    out["type"] = {"coding": [{"system": ig.PLAN_TYPE_SYSTEM, "code": "clinical-protocol"}]}
    out["status"] = status
    for key, element in FIELDS[5:8]:
        if (value := meta.get(key)) is not None:
            out[element] = value
    if meta.cancer:
        out["useContext"] = use_contexts(meta)
    for key, element in FIELDS[8:]:
        if (value := meta.get(key)) is not None:
            out[element] = value
    if (author := meta.get("author")) is not None:
        out["author"] = [{"name": author}]
    return out


def narrative(title: str, subtitle: str | None, lines: Sequence[str], status: str) -> Json:
    """Return an XHTML narrative: the heading (the subtitle as its title) and one paragraph per line, escaped."""
    attribute = f' title="{html.escape(subtitle)}"' if subtitle else ""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    div = f'<div xmlns="http://www.w3.org/1999/xhtml"><h1{attribute}>{html.escape(title)}</h1>{body}</div>'
    return {"status": status, "div": div}


def concept(term: ir.Term) -> Json:
    """Return a classification term as a CodeableConcept: its SNOMED CT code where known, its text as written."""
    out: Json = {}
    if term.code:
        out["coding"] = [{"system": SNOMED, "code": term.code}]
    out["text"] = term.text
    return out


def coded(coding: Coding | None, text: str) -> Json:
    """Return a CodeableConcept: the coding where there is one, the text as written."""
    if coding is None:
        return {"text": text}
    return {"coding": [{"system": coding.system, "code": coding.code}], "text": text}


def use_contexts(meta: ir.Meta) -> list[Json]:
    """Return the cancer classification, one ``focus`` use context per level."""
    return [
        {"code": {"system": ig.USAGE_CONTEXT_SYSTEM, "code": "focus"}, "valueCodeableConcept": concept(term)}
        for term in meta.cancer
    ]


def citations(references: Sequence[ir.Reference]) -> list[Json]:
    """Each reference as a citation: its text verbatim, and its first link (a citation holds one)."""
    out: list[Json] = []
    for ref in references:
        item: Json = {"type": "citation", "display": ref.text}
        web = [u for u in ref.urls if u.lower().startswith(("http://", "https://"))]
        if web:
            item["url"] = web[0]
        out.append(item)
    return out


def unit_label(unit: Unit) -> str:
    """How the library labels a unit: its SNOMED CT term, except that a percentage is ``%``."""
    return unit.display if unit.basis is Basis.CONCENTRATION else unit.term


def quantity(amount: Decimal, unit: Unit, *, flat: bool = False) -> Json:
    """Return an amount in a unit: the library's unit label, its code and code system."""
    return {
        "value": _number(amount),
        "unit": unit_label(unit) + (" flat" if flat else ""),
        "system": unit.system,
        "code": unit.code,
    }


def product(line: ir.Administration, system: str) -> Json:
    """Return the medicine as a CodeableConcept: its NZMT code where known, its display."""
    out: Json = {}
    if line.medicine.nzmt:
        out["coding"] = [{"system": system, "code": line.medicine.nzmt, "display": line.medicine.display}]
    out["text"] = line.medicine.display
    return out


def _coded(codings: Sequence[Coding], text: str, allowed: frozenset[tuple[str, str]] | None) -> Json | None:
    """Return a CodeableConcept of the codings (None when a value set is given and holds none of them)."""
    if allowed is not None and not any((c.system, c.code) in allowed for c in codings):
        return None
    return {"coding": [{"system": c.system, "code": c.code} for c in codings], "text": text}


def _duration_label(minutes: int) -> str:
    """Return the library's words for an infusion time: ``60 minutes``, ``3 hours``."""
    return f"{minutes // 60} hours" if minutes > 60 and minutes % 60 == 0 else f"{minutes} minutes"


def _rate_bound(minutes: int) -> Json:
    hours = minutes > 60 and minutes % 60 == 0
    return {"value": minutes // 60 if hours else minutes, "unit": "H" if hours else "Min", "system": UCUM}


def dosage(line: ir.Administration, *, bound: bool) -> Json:
    """Return the line's dosage: its text in the library's words, frequency, route, dose, time bound and cap.

    With ``bound`` (``cca``) a route or frequency is coded only when the IG's required value set
    holds its code; the text says it either way. The infusion time's upper bound is the
    ``rateRange`` the library writes (``core`` times it in ``Timing`` as well).
    """
    dosage_profile = ig.profile(ig.CCA_DOSAGE)
    words = [line.dose.text, unit_label(line.dose.unit)]
    if line.dose.flat:
        words.append("flat")
    if line.frequency is not None:
        words.append(line.frequency.term)
    if line.max_minutes is not None:
        words += ["over", _duration_label(line.max_minutes)]
    if line.route is not None:
        words += ["by", line.route.term]
    out: Json = {"text": " ".join(words)}
    if line.frequency is not None:
        allowed = ig.value_set(dosage_profile.bindings["Dosage.timing.code"][0]) if bound else None
        code = _coded(line.frequency.codings, line.frequency.term, allowed)
        if code is not None:
            out["timing"] = {"code": code}
    if line.prn:
        out["asNeededBoolean"] = True
    if line.route is not None:
        allowed = ig.value_set(dosage_profile.bindings["Dosage.route"][0]) if bound else None
        route = _coded((line.route.coding,), line.route.term, allowed)
        if route is not None:
            out["route"] = route
    rate: Json = {"doseQuantity": quantity(line.dose.amount, line.dose.unit, flat=line.dose.flat)}
    if line.max_minutes is not None:
        rate["rateRange"] = {"high": _rate_bound(line.max_minutes)}
    out["doseAndRate"] = [rate]
    if line.cap is not None:
        out["maxDosePerAdministration"] = quantity(line.cap.amount, line.cap.unit)
    return out


def note_text(note: ir.Note) -> str:
    """Return a note as one text: its label (a medicine, a factor) and its prose as written."""
    return f"{note.label}: {note.text}" if note.label else note.text


def cycle_repeat(group: ir.CycleGroup) -> Json:
    """Return the cycle's repeat: its length in days and, unless it is open-ended, how many cycles."""
    repeat: Json = {"duration": group.length_days, "durationUnit": "d"}
    if group.count is not None:
        repeat["count"] = group.count
    return repeat


def timing_words(cycle: CycleView) -> dict[int, list[str]]:
    """Return, by line, the page's words for its timing on each of its days (each said once).

    The page gives each day the rows of the lines dosed that day, in the order of the lines;
    a day view shows the rows of all its days.
    """
    group = cycle.group
    lines_of: dict[int, list[int]] = {}
    for i, line in enumerate(group.administrations):
        for day in doses_by_day(line):
            lines_of.setdefault(day, []).append(i)
    words: dict[int, list[str]] = {}
    for view in cycle.days:
        for day in view.days or (view.day,):
            for index, row in zip(lines_of.get(day, ()), view.rows, strict=True):
                said = words.setdefault(index, [])
                said += [t for t in row.timing if t not in said]
    return words
